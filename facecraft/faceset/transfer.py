"""Copying faces between facesets (used by curate -o and merge)."""

from __future__ import annotations

import shutil
from collections import defaultdict

from facecraft.errors import FacecraftError
from facecraft.faceset.schema import FACES_DIR, TRACK_ID_STRIDE, FaceRecord, image_name
from facecraft.faceset.store import Faceset
from facecraft.fileio import disk_error


def copy_faces(src: Faceset, dst: Faceset, faces: list[FaceRecord]) -> int:
    """Copy ``faces`` of ``src`` (images and rows) into ``dst``; faces already there are skipped.

    Returns the number copied. Source ids and track ids are renumbered for ``dst``.
    """
    if (src.size, src.coverage) != (dst.size, dst.coverage):
        raise FacecraftError(
            f"facesets differ: {src.root} is {src.size} px {src.coverage}, {dst.root} is {dst.size} px "
            f"{dst.coverage}; extract both with the same --size and --coverage"
        )
    sources = {s["path"]: s for s in src.sources()}
    by_source: dict[str, list[FaceRecord]] = defaultdict(list)
    for f in faces:
        by_source[f.source_path].append(f)
    existing = {r[0] for r in dst.conn.execute("SELECT image FROM faces")}
    copied = 0
    for path, group in by_source.items():
        s = sources[path]
        sid = dst.source_id(path, s["kind"], s["width"], s["height"], s["fps"], s["frame_count"])
        new = []
        for f in group:
            name = image_name(sid, f.frame_index, f.face_index)
            if name in existing:
                continue
            try:
                shutil.copyfile(src.image_path(f), dst.root / FACES_DIR / name)
            except OSError as exc:
                raise disk_error(exc, str(dst.root / FACES_DIR / name)) from None
            new.append(
                FaceRecord(
                    **{
                        **f.__dict__,
                        "image": name,
                        "id": -1,
                        "track_id": sid * TRACK_ID_STRIDE + f.track_id % TRACK_ID_STRIDE,
                    }
                )
            )
        dst.commit_frames(sid, sorted({f.frame_index for f in new}), new)
        dst.mark_source_complete(sid)
        copied += len(new)
    return copied
