"""What the project holds, as JSON for the pages: media (with thumbnails, duration, faces found), facesets,
models (metrics, loss curve, preview), outputs and consent records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from facecraft.errors import FacecraftError
from facecraft.media.inputs import IMAGE_EXTS, VIDEO_EXTS
from facecraft.studio.project import Project
from facecraft.studio.specs import AUDIO_EXTS

THUMB_WIDTH = 320


def _kind(path: Path) -> str:
    ext = path.suffix.lower()
    return (
        "video"
        if ext in VIDEO_EXTS
        else "image"
        if ext in IMAGE_EXTS
        else "audio"
        if ext in AUDIO_EXTS
        else "other"
    )


def _first_frame(path: Path, kind: str) -> tuple[np.ndarray | None, dict[str, Any]]:
    from facecraft.media.image import read_image
    from facecraft.media.video import iter_frames, probe

    if kind == "image":
        image = read_image(path)
        return image, {"width": image.shape[1], "height": image.shape[0]}
    info = probe(path)
    frame = next(iter(iter_frames(path)), None)
    meta = {"width": info.width, "height": info.height, "fps": round(info.fps, 3), "frames": info.frame_count}
    meta.update(duration=round(info.duration, 2), audio=info.has_audio)
    return (frame.image if frame else None), meta


def media_info(project: Project, path: Path) -> dict[str, Any]:
    """Kind, size, duration, thumbnail and the number of faces in the first frame; cached in media/.info/."""
    cache = project.folder("media") / ".info" / f"{path.name}.json"
    stat = path.stat()
    if cache.is_file():
        data: dict[str, Any] = json.loads(cache.read_text())
        if data.get("mtime") == stat.st_mtime and data.get("bytes") == stat.st_size:
            return data
    import cv2

    kind = _kind(path)
    data = {"name": path.name, "path": project.relative(path), "kind": kind, "bytes": stat.st_size}
    data.update(mtime=stat.st_mtime, thumb=None, faces=None)
    if kind in ("video", "image"):
        try:
            image, meta = _first_frame(path, kind)
        except (FacecraftError, OSError, ValueError) as exc:
            data["error"] = str(exc)
            image, meta = None, {}
        data.update(meta)
        if image is not None:
            from facecraft.face.detect import FaceDetector

            data["faces"] = len(FaceDetector().detect(image))
            scale = THUMB_WIDTH / image.shape[1]
            thumb = cv2.resize(
                image, (THUMB_WIDTH, max(1, round(image.shape[0] * scale))), interpolation=cv2.INTER_AREA
            )
            thumb_path = project.folder("media") / ".thumbs" / f"{path.name}.jpg"
            thumb_path.parent.mkdir(exist_ok=True)
            cv2.imwrite(str(thumb_path), thumb, [cv2.IMWRITE_JPEG_QUALITY, 85])
            data["thumb"] = project.relative(thumb_path)
    cache.parent.mkdir(exist_ok=True)
    cache.write_text(json.dumps(data))
    return data


def facesets(project: Project) -> list[dict[str, Any]]:
    from facecraft.faceset.schema import DB_NAME
    from facecraft.faceset.store import Faceset

    out = []
    for p in project.listing("facesets"):
        if (p / DB_NAME).is_file():
            try:
                with Faceset.open(p) as fs:
                    out.append(
                        {"name": p.name, "faces": fs.count(), "size": fs.size, "coverage": fs.coverage}
                    )
            except FacecraftError as exc:
                out.append({"name": p.name, "error": str(exc)})
    return out


def faceset_detail(project: Project, name: str, max_faces: int = 300) -> dict[str, Any]:
    """Summary (counts, pose histograms, sharpness) and the faces (image path, yaw, pitch, sharpness)."""
    from facecraft.faceset.info import faceset_info
    from facecraft.faceset.store import Faceset

    root = project.item("facesets", name)
    with Faceset.open(root) as fs:
        info = faceset_info(fs)
        faces = fs.faces()
        step = max(1, len(faces) // max_faces)
        shown = [
            {
                "id": f.id,
                "image": project.relative(fs.image_path(f)),
                "yaw": round(float(f.yaw), 1),
                "pitch": round(float(f.pitch), 1),
                "sharpness": round(float(f.sharpness), 1),
            }
            for f in faces[::step]
        ]
    info["path"] = project.relative(root)
    return {"info": info, "faces": shown, "total": len(faces)}


def delete_faces(project: Project, name: str, ids: list[int]) -> int:
    from facecraft.faceset.store import Faceset

    with Faceset.open(project.item("facesets", name)) as fs:
        before = fs.count()
        fs.delete_faces([int(i) for i in ids])
        return before - fs.count()


def models(project: Project) -> list[dict[str, Any]]:
    out = []
    for p in project.listing("models"):
        info_path = p / "model.json"
        if not info_path.is_file():
            continue
        try:
            info = json.loads(info_path.read_text())
        except (OSError, ValueError):
            continue
        preview = p / "preview.png"
        out.append(
            {
                "name": p.name,
                "architecture": info.get("architecture"),
                "identities": info.get("identities", []),
                "size": info.get("size"),
                "preview": project.relative(preview) if preview.is_file() else None,
                "preview_mtime": preview.stat().st_mtime if preview.is_file() else None,
            }
        )
    return out


def model_metrics(project: Project, name: str) -> list[dict[str, Any]]:
    """The validation records of ``metrics.jsonl`` (step, seconds, val_ssim)."""
    path = project.item("models", name) / "metrics.jsonl"
    out = []
    if path.is_file():
        for line in path.read_text().splitlines():
            try:
                r = json.loads(line)
                out.append({"step": r["step"], "val_ssim": r["val_ssim"], "seconds": r.get("seconds")})
            except (ValueError, KeyError):
                continue  # a line being written
    return out


def files(project: Project, folder: str) -> list[dict[str, Any]]:
    """Outputs or consent records: name, path, kind, size, and any report written next to an output."""
    out = []
    for p in project.listing(folder):
        if not p.is_file() or p.suffix in (".json", ".part") or p.stem.endswith("_preview"):
            continue
        item: dict[str, Any] = {"name": p.name, "path": project.relative(p), "kind": _kind(p)}
        item.update(bytes=p.stat().st_size, mtime=p.stat().st_mtime)
        report = p.with_name(f"{p.stem}.evaluate.json")
        item["evaluate"] = project.relative(report) if report.is_file() else None
        side = p.with_name(f"{p.stem}_preview{p.suffix}")
        item["preview"] = project.relative(side) if side.is_file() else None
        out.append(item)
    return out
