"""Swapping faces in photos: one photo, or every photo of a folder (mirrored into the output folder).

Each output is written atomically, so an interrupted folder run resumes by skipping finished photos.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from facecraft.errors import FacecraftError
from facecraft.face.track import Tracker
from facecraft.media.image import has_alpha, read_image
from facecraft.media.inputs import collect_media
from facecraft.swap.compose import Compositor
from facecraft.swap.config import SwapConfig
from facecraft.swap.exemplars import ExemplarBank, for_job
from facecraft.swap.forehead import source_forehead
from facecraft.swap.job import SwapJob, SwapOutcome
from facecraft.swap.label import OutputLabeller
from facecraft.swap.model import FaceModelLike, convert_checked, model_device
from facecraft.swap.preview import preview_path, side_by_side
from facecraft.swap.targets import TargetFinder

IMAGE_OUT_EXTS = (".png", ".jpg", ".jpeg")  # what the provenance labels can be written into


def swap_image(
    image: np.ndarray,
    model: FaceModelLike,
    to: str,
    config: SwapConfig,
    finder: TargetFinder,
    exemplars: ExemplarBank | None = None,
) -> tuple[np.ndarray, int]:
    """``image`` (BGR uint8) with the chosen faces swapped, and how many were."""
    targets = finder.find(image, 0, 0.0, Tracker(), video=False)
    if not targets:
        return image, 0
    generated, masks = convert_checked(model, np.stack([t.aligned for t in targets]), to)
    compositor = Compositor(
        config,
        device=model_device(model),
        exemplars=for_job(exemplars, model.size, config.source_detail),
        seen=exemplars.seen if exemplars is not None else None,
        forehead=source_forehead(exemplars),
    )
    return compositor.composite(image, targets, generated, masks), len(targets)


def write_image(path: Path, image: np.ndarray, labeller: OutputLabeller | None = None) -> bool:
    """Encode ``image`` by ``path``'s extension and move it into place atomically; ``labeller`` labels the
    temporary file first. Returns whether it was labelled."""
    params = [cv2.IMWRITE_JPEG_QUALITY, 95] if path.suffix.lower() in (".jpg", ".jpeg") else []
    ok, data = cv2.imencode(path.suffix, image, params)
    if not ok:
        raise FacecraftError(f"cannot encode an image as {path.suffix}")
    # Written under its final name in a hidden folder next to it (the provenance manifest names the file).
    folder = path.with_name(f".{path.name}.swap-tmp")
    tmp = folder / path.name
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data.tobytes())
        labelled = labeller.finish(tmp, "image") if labeller else False
        os.replace(tmp, path)
    except OSError as exc:
        raise FacecraftError(f"cannot write {path}: {exc.strerror}") from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return labelled


def swap_images(job: SwapJob) -> SwapOutcome:
    """Swap one photo (``job.src`` a file, ``job.dst`` a file) or a folder of photos (``job.dst`` a folder).
    Photos whose output exists are skipped (a folder run resumes); videos inside a folder are left out with
    a warning. Returns what was done, for the report."""
    src, dst = job.src, job.dst
    warnings: list[str] = []
    if src.is_dir():
        media = collect_media([src])
        pairs = [(m.path, _output_name(dst / m.path.relative_to(src))) for m in media if m.kind == "image"]
        skipped = [m.path.name for m in media if m.kind != "image"]
        if skipped:
            warnings.append(f"videos in a folder are not swapped (left out: {', '.join(skipped[:3])})")
    else:
        pairs = [(src, dst)]
    labelled = []
    unreadable = []
    frames = resumed = faces = frames_with_faces = 0
    bar = tqdm(pairs, unit="photo", desc="swap", disable=not job.progress or len(pairs) < 2)
    for path, out in bar:
        if src.is_dir() and out.is_file():
            resumed += 1
            frames += 1
            continue
        try:
            image = read_image(path)
        except FacecraftError:
            if not src.is_dir():
                raise
            unreadable.append(path.name)  # one bad photo must not stop a whole folder
            continue
        if has_alpha(path):
            warnings.append(
                f"{path.name} has transparency; swapped photos are written opaque (the alpha channel is dropped)"
            )
        swapped, n = swap_image(image, job.model, job.to, job.config, job.finder, job.exemplars)
        labeller = job.labels.labeller(path)
        labelled.append(write_image(out, swapped, labeller))
        if job.preview:
            write_image(preview_path(out), side_by_side(image, swapped), labeller)
        frames += 1
        faces += n
        frames_with_faces += bool(n)
    if unreadable:
        warnings.append(
            f"{len(unreadable)} photo(s) could not be read and were left out: {', '.join(unreadable[:5])}"
            + (" ..." if len(unreadable) > 5 else "")
        )
    if pairs and len(unreadable) == len(pairs):
        raise FacecraftError(f"none of the photos in {src} could be read")
    return SwapOutcome(
        frames=frames,
        frames_with_faces=frames_with_faces,
        faces_swapped=faces,
        resumed_frames=resumed,
        labelled=bool(labelled) and all(labelled),
        warnings=tuple(warnings),
    )


def _output_name(path: Path) -> Path:
    """Photos of other formats are written as PNG (the formats provenance labels can live in)."""
    return path if path.suffix.lower() in IMAGE_OUT_EXTS else path.with_suffix(".png")
