"""Provenance benchmark: the whole robustness table (every edit, thumbnails down to the smallest that
works), the watermark's PSNR/SSIM on the shared videos, the cost of labelling (per frame, and photos up to
8000x8000 with their peak memory) as a share of a 15 fps swap, and false-positive statistics.

Run: .venv/bin/python benchmarks/provenance.py [--videos N] [--frames N] [--fp-samples N]
         [--face-aware on|off] [--content-id HEX] [--parts cost,photos,quality,table] [--threads N]
Prints JSON, then the table and a summary. Writes only to a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import cv2
import numpy as np

from facecraft.media.image import read_image
from facecraft.media.video import iter_frames, probe
from facecraft.provenance import FrameLabeller, label_video, verify
from facecraft.provenance.faces import STILL_SIDE
from facecraft.provenance.label import FACE_AWARE
from facecraft.provenance.probe import PROBE_FRAMES
from facecraft.provenance.similarity import luma_ssim as ssim
from facecraft.provenance.transforms import (
    EXPORTS,
    GEOMETRIC,
    THUMBNAILS,
    TRANSFORMS,
    edited_suffix,
    labelled_copy,
    transform_command,
)
from facecraft.provenance.watermark import IMAGE_CONFIG

SWAP_FPS = 15.0  # the swap stage's target at 512x512 on the 2-core CPU
SHARED = Path(
    os.environ.get("FACECRAFT_TEST_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data")
)


def identity_change(pairs: list[tuple[np.ndarray, np.ndarray]]) -> tuple[float, float]:
    """Mean and largest SFace identity change (1 - cosine) between an unlabelled and a labelled frame, the
    face aligned by the same five points in both (so only the watermark differs)."""
    from facecraft.face.detect import FaceDetector
    from facecraft.face.identity import IdentityEncoder, cosine

    detector, encoder = FaceDetector(), IdentityEncoder()
    changes = []
    for plain, marked in pairs:
        faces = detector.detect(plain)
        if faces:
            five = faces[0].points
            changes.append(1.0 - float(cosine(encoder.embed(plain, five), encoder.embed(marked, five))[0, 0]))
    return (float(np.mean(changes)), float(np.max(changes))) if changes else (0.0, 0.0)


def quality(videos: list[Path], frames: int, face_aware: bool = FACE_AWARE) -> list[dict[str, object]]:
    """PSNR, SSIM and SFace identity change of labelled against unlabelled frames, per shared video
    (before encoding)."""
    rows = []
    for src in videos:
        labeller = FrameLabeller(face_aware=face_aware)
        pairs = [(f.image, labeller.apply(f.image)) for f in iter_frames(src) if f.index < frames]
        rows.append(
            {
                "video": src.name,
                "psnr_db": round(float(np.mean([cv2.PSNR(a, b) for a, b in pairs])), 2),
                "ssim": round(float(np.mean([ssim(a, b) for a, b in pairs])), 4),
                "identity_change_mean_max": [round(x, 4) for x in identity_change(pairs[::5])],
            }
        )
    return rows


def labelling_cost(src: Path, tmp: Path, frames: int, face_aware: bool = FACE_AWARE) -> dict[str, float]:
    """Per-frame cost of the in-stream path (FrameLabeller) and of the finishing step (tags + manifest)."""
    images = [f.image for f in iter_frames(src) if f.index < frames]
    labeller = FrameLabeller(face_aware=face_aware)
    t = time.perf_counter()
    for image in images[:PROBE_FRAMES]:
        labeller.apply(image)
    one_off = time.perf_counter() - t
    t = time.perf_counter()
    for image in images:
        labeller.apply(image)
    per_frame = (time.perf_counter() - t) / len(images)
    out = tmp / "cost.mp4"
    cid = labelled_copy(src, out, max_frames=frames, face_aware=face_aware)
    t = time.perf_counter()
    label_video(out, "swap", [src], content_id=cid)
    finish = time.perf_counter() - t
    budget = 1.0 / SWAP_FPS
    return {
        "frame_ms": round(per_frame * 1000, 2),
        "first_frames_s": round(one_off, 3),
        "finish_s": round(finish, 3),
        "share_of_swap_in_stream": round((per_frame + (finish + one_off) / frames) / budget, 4),
    }


def photo_cost(sizes: tuple[tuple[int, int], ...], face_aware: bool = FACE_AWARE) -> list[dict[str, object]]:
    """Watermarking one photo (probe for an earlier mark + embed) at each (width, height): time and peak
    memory above the photo itself, and what stays allocated afterwards."""
    rows = []
    base = read_image(SHARED / "images" / "obama_3_pressroom.jpg")
    for w, h in sizes:
        photo = cv2.resize(base, (w, h), interpolation=cv2.INTER_LINEAR)
        tracemalloc.start()
        before, _ = tracemalloc.get_traced_memory()
        t = time.perf_counter()
        labeller = FrameLabeller(config=IMAGE_CONFIG, face_aware=face_aware, face_side=STILL_SIDE)
        marked = labeller.apply(photo)
        seconds = time.perf_counter() - t
        del marked
        held, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rows.append(
            {
                "size": f"{w}x{h}",
                "seconds": round(seconds, 2),
                "peak_mib": round((peak - before) / 2**20, 1),
                "held_after_mib": round((held - before) / 2**20, 2),
            }
        )
    return rows


def robustness(
    videos: list[Path], tmp: Path, face_aware: bool = FACE_AWARE, content_id: int | None = None
) -> list[dict[str, object]]:
    """Each video labelled (with ``content_id``, else a random id) and edited every way; ``verify`` on each."""
    rows: list[dict[str, object]] = []
    edits = ("none", *TRANSFORMS, *GEOMETRIC, *EXPORTS, *(f"thumb{w}" for w in THUMBNAILS))
    for src in videos:
        out = tmp / src.name
        cid = labelled_copy(src, out, content_id=content_id, face_aware=face_aware)
        for name in edits:
            edited = out
            if name != "none":
                edited = tmp / f"{src.stem}.{name}{edited_suffix(name)}"
                subprocess.run(transform_command(name, out, edited, probe(out).duration), check=True)
            t = time.perf_counter()
            report = verify(edited)
            wm = report.watermark
            rows.append(
                {
                    "video": src.name,
                    "edit": name,
                    "id_ok": wm.content_id_hex == f"{cid:06x}",
                    "wrong_id": wm.found and wm.content_id_hex != f"{cid:06x}",
                    "mark": wm.mark,
                    "score": wm.score,
                    "geometry": wm.geometry,
                    "verdict": report.verdict,
                    "verify_s": round(time.perf_counter() - t, 2),
                }
            )
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)  # progress, for long runs
    return rows


def _table(rows: list[dict[str, object]]) -> str:
    videos = sorted({str(r["video"]) for r in rows})
    edits = list(dict.fromkeys(str(r["edit"]) for r in rows))
    cell = {(str(r["video"]), str(r["edit"])): r for r in rows}
    lines = ["edit".ljust(12) + " ".join(v[:14].ljust(14) for v in videos)]
    for e in edits:
        marks = []
        for v in videos:
            r = cell[(v, e)]
            tag = "ID" if r["id_ok"] else ("WRONG" if r["wrong_id"] else ("mark" if r["mark"] else "-"))
            marks.append(f"{tag} {float(str(r['score'])):.1f}".ljust(14))
        lines.append(e.ljust(12) + " ".join(marks))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=0, help="use only the first N shared videos (0: all)")
    parser.add_argument("--frames", type=int, default=120, help="frames for the cost and quality measurement")
    parser.add_argument(
        "--fp-samples", type=int, default=0, help="also run the false-positive study (N samples)"
    )
    parser.add_argument(
        "--face-aware",
        choices=("on", "off"),
        default="on" if FACE_AWARE else "off",
        help="lower the mark on faces (default: the labeller's default)",
    )
    parser.add_argument(
        "--content-id", default=None, help="label every video with this hex id (default: a random one each)"
    )
    parser.add_argument(
        "--parts",
        default="cost,photos,quality,table",
        help="comma-separated parts to run: cost, photos, quality, table",
    )
    parser.add_argument("--threads", type=int, default=0, help="OpenCV threads (0: OpenCV's default)")
    args = parser.parse_args()
    if args.threads:
        cv2.setNumThreads(args.threads)
    parts = set(args.parts.split(","))
    unknown = parts - {"cost", "photos", "quality", "table"}
    if unknown:
        parser.error(f"unknown parts {sorted(unknown)}")
    aware = args.face_aware == "on"
    cid = int(args.content_id, 16) if args.content_id else None
    videos = sorted((SHARED / "videos").glob("*.mp4"))
    videos = videos[: args.videos] if args.videos else videos
    report: dict[str, object] = {"swap_fps_budget": SWAP_FPS, "face_aware": aware}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        os.environ["FACECRAFT_CONFIG_DIR"] = str(tmp / "config")
        if "cost" in parts:
            src = SHARED / "videos" / "man_glasses_orange_7s_audio.mp4"
            report["cost_512x512"] = labelling_cost(src, tmp, args.frames, aware)
        if "photos" in parts:
            report["photos"] = photo_cost(((4000, 3000), (8000, 8000)), aware)
        if "quality" in parts:
            report["quality"] = quality(videos, min(args.frames, 60), aware)
        if "table" in parts:
            report["robustness"] = robustness(videos, tmp, aware, cid)
    if args.fp_samples:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from provenance_fp import run as fp_run

        report["false_positives"] = fp_run(args.fp_samples)
    print(json.dumps(report, indent=2))
    summary = [f"provenance (face-aware {args.face_aware}):"]
    if "cost_512x512" in report:
        cost = report["cost_512x512"]
        assert isinstance(cost, dict)
        summary.append(
            f"labelling {cost['share_of_swap_in_stream']:.1%} of a {SWAP_FPS:.0f} fps swap "
            f"({cost['frame_ms']:.2f} ms/frame);"
        )
    if "photos" in report:
        photos = report["photos"]
        assert isinstance(photos, list)
        summary.append(
            "photos "
            + ", ".join(f"{p['size']} {p['seconds']} s / {p['peak_mib']} MiB peak" for p in photos)
            + ";"
        )
    if "robustness" in report:
        table = report["robustness"]
        assert isinstance(table, list)
        print(_table(table))
        edited = [r for r in table if r["edit"] != "none"]
        summary.append(
            f"id read in {sum(bool(r['id_ok']) for r in edited)}/{len(edited)} edited videos, wrong ids "
            f"{sum(bool(r['wrong_id']) for r in edited)};"
        )
    if "quality" in report:
        looks = report["quality"]
        assert isinstance(looks, list)
        worst_id = max(float(q["identity_change_mean_max"][0]) for q in looks)
        summary.append(
            f"PSNR {min(float(str(q['psnr_db'])) for q in looks):.1f} dB and SSIM "
            f"{min(float(str(q['ssim'])) for q in looks):.4f} at worst, identity change {worst_id:.4f} "
            "(worst video's mean)"
        )
    print(" ".join(summary))


if __name__ == "__main__":
    main()
