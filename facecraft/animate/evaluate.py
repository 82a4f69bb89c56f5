"""Self-reenactment: frame 0 of a real video is the portrait, the same video drives it, and the file
``animate`` delivers (watermarked, labelled, H.264-encoded) is compared frame by frame with the real video.

What makes the numbers honest:

- The still-frame baseline sits next to every metric: frame 0 repeated, i.e. a renderer that does nothing.
  On a talking head it already scores well on whole-frame SSIM (the background does not move), so only a
  margin over the baseline says the animation helped. ``still`` is frame 0 as decoded from the input (the
  strict bar); ``still_delivered`` is frame 0 repeated and delivered the way animate delivers (watermarked
  while writing, H.264), which pays the same encoding cost as the animation.
- No ground-truth pixels: by default the mouth interior is drawn (``mouth_from_driving=False``) and the
  driver's expression shading is not carried over (``driving_shading=False``); animate's defaults take both
  from the driving frame, which in self-reenactment *is* the answer.
- Pixel metrics on the face as the papers crop it (FOMM's VoxCeleb preprocessing: the union of the face
  boxes over the clip, enlarged by 10 % per side, made square, resized to 256 x 256) with a Gaussian
  11-tap (sigma 1.5) SSIM window (Wang et al. 2004), and on the whole frame at its own size.
- Keypoint distance (AKD) from two detectors: the MediaPipe mesh that also drives the warp (478 points)
  and, independent of it, YuNet's five points. Both in pixels of the 256-px face crop.
- CSIM: SFace cosine of the delivered face to the real face of the same frame (as Zakharov et al. 2019),
  aligned with YuNet's points.
- Mouth: the inner-lip gap over the face width, read by the mesh on every delivered and every real frame:
  ``amplitude`` is the delivered range (5th to 95th percentile) over the real one (a mouth that opens half
  as much as the person's scores 0.5; the still frame scores 0), ``correlation`` follows the timing.

- Repeatable: the delivered file's invisible watermark carries a random id in every real output, and a
  different id moves most pixels by a few levels; on a mouth read by the mesh that alone changed the
  amplitude by up to 0.04 between two runs of the same code. The evaluation fixes the id
  (:data:`EVAL_CONTENT_ID`, the same for the animation and the delivered still), so the same code and clip
  give the same numbers; ``content_id`` picks another to see the spread.

Units: SSIM and CSIM 0..1 (higher is better), L1 0..1 of the pixel range and AKD in pixels (lower is better).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from facecraft.animate.config import AnimateConfig
from facecraft.animate.driving import FaceFollower
from facecraft.animate.geometry import face_width, mouth_opening
from facecraft.animate.run import animate
from facecraft.errors import FacecraftError
from facecraft.face.detect import Detection, FaceDetector
from facecraft.face.identity import IdentityEncoder, cosine
from facecraft.face.mesh import FaceMesher
from facecraft.media.video import iter_frames, probe
from facecraft.media.writer import VideoWriter
from facecraft.provenance import FrameLabeller
from facecraft.provenance.payload import MEASURE_CONTENT_ID

EVAL_CONTENT_ID = MEASURE_CONTENT_ID
"""The watermark id of the files the evaluation delivers (a real output's is random)."""
CROP_SIZE = 256
CROP_MARGIN = 0.1  # FOMM's increase_area
#: metric -> True when higher is better
METRICS = {
    "face_ssim": True,
    "face_l1": False,
    "frame_ssim": True,
    "frame_l1": False,
    "akd_mesh": False,
    "akd_yunet": False,
    "csim": True,
}


@dataclass(frozen=True)
class _Observed:
    """What the detectors see in one frame (None when they find no face)."""

    yunet: Detection | None
    mesh: np.ndarray | None  # (478, 2) frame pixels
    identity: np.ndarray | None  # SFace embedding (128,), aligned with YuNet's points


def reenact_eval(
    video: str | Path,
    *,
    max_frames: int | None = None,
    config: AnimateConfig | None = None,
    mouth_from_driving: bool = False,
    driving_shading: bool = False,
    content_id: int = EVAL_CONTENT_ID,
) -> dict[str, Any]:
    """Self-reenactment of ``video`` scored on the delivered file, as a JSON-ready dict.

    ``metrics[name]`` holds ``animated`` and ``still`` (frame 0 repeated) means over frames 1..N-1, and
    ``better`` (whether the animation beats the still frame). ``max_frames``: use only the first N frames
    (they are cut into a near-lossless copy first). ``config``: animate settings; crop, size and the
    reference frame are set so the portrait is frame 0 at the video's own size. ``mouth_from_driving``:
    copy the mouth interior from the driving frame as animate does by default (ground-truth pixels).
    ``driving_shading``: carry the driving frame's shading onto the face as animate does by default (the
    ground truth's luminance, smoothed: flattering in the same way). ``content_id``: the delivered files'
    watermark id (fixed by default, so that a measurement repeats).
    """
    video = Path(video)
    info = probe(video)
    with tempfile.TemporaryDirectory(prefix="facecraft-reenact-") as tmp:
        driving = video
        if max_frames is not None and max_frames < info.frame_count:
            driving = _cut(video, max_frames, Path(tmp) / f"driving{video.suffix}")
        first = next(iter_frames(driving), None)
        if first is None:
            raise FacecraftError(f"{video} has no frames")
        portrait = first.image
        h, w = portrait.shape[:2]
        if w % 2 or h % 2:
            raise FacecraftError(f"{video} is {w}x{h}; self-reenactment needs an even width and height")
        base = config or AnimateConfig()
        settings = replace(
            base,
            crop="full",
            size=max(w, h),
            mouth_from_driving=mouth_from_driving,
            shading=driving_shading,
            reference_frame=0,
        )
        delivered = Path(tmp) / "animated.mp4"
        t0 = time.perf_counter()
        report = animate(
            portrait, driving, output=delivered, config=settings, progress=False, content_id=content_id
        )
        seconds = time.perf_counter() - t0
        still = _deliver_still(portrait, report.frames, report.fps, Path(tmp) / "still.mp4", content_id)
        result = score(driving, delivered, still)
    result.update(
        video=video.name,
        scored="the delivered file: watermarked, labelled, H.264 (what a user gets)",
        mouth_interior="copied from the driving frame (ground truth)" if mouth_from_driving else "drawn",
        shading="from the driving frame (ground truth)" if driving_shading else "none (geometry only)",
        renderer=settings.renderer,
        animate_fps=round(report.frames / max(seconds, 1e-9), 1),
        watermark_id=content_id,
    )
    return result


def score(real_video: Path, animated_video: Path, still_video: Path | None = None) -> dict[str, Any]:
    """Compare ``animated_video`` with ``real_video`` frame by frame, and frame 0 of the real video
    repeated (the still baseline) the same way; ``still_video``: also that delivered still (frame 0
    repeated, encoded as animate encodes). The videos must have the same size."""
    detector, encoder = FaceDetector(), IdentityEncoder()
    with FaceMesher() as mesher:
        follow_real = FaceFollower(mesher, detector)
        real = [_observe(f.image, detector, follow_real, encoder) for f in iter_frames(real_video)]
        if len(real) < 2:
            raise FacecraftError(f"{real_video} is too short to evaluate (needs at least 2 frames)")
        first = next(iter_frames(real_video)).image
        crop = face_crop_box([o.yunet for o in real], first.shape[1], first.shape[0])
        follow, follow_still = FaceFollower(mesher, detector), FaceFollower(mesher, detector)
        rows: dict[str, list[tuple[float, ...]]] = {name: [] for name in METRICS}
        delivered_still = (f.image for f in iter_frames(still_video)) if still_video is not None else None
        gen_points: list[np.ndarray | None] = []
        lost = frames = 0
        for frame, gen in _pairs(real_video, animated_video):
            frames += 1
            seen = _observe(gen, detector, follow, encoder)
            gen_points.append(seen.mesh)
            shown_still = next(delivered_still, None) if delivered_still is not None else None
            # both delivered files are followed from frame 0, as the same face tracker sees them
            seen_still = (
                _observe(shown_still, detector, follow_still, encoder) if shown_still is not None else None
            )
            if frame.index == 0:
                continue
            truth = real[frame.index]
            lost += seen.yunet is None or seen.mesh is None
            animated = _frame_metrics(gen, frame.image, seen, truth, crop)
            still = _frame_metrics(first, frame.image, real[0], truth, crop)
            values: dict[str, tuple[float, ...]] = {name: (animated[name], still[name]) for name in METRICS}
            if shown_still is not None and seen_still is not None:
                delivered = _frame_metrics(shown_still, frame.image, seen_still, truth, crop)
                values = {name: (*v, delivered[name]) for name, v in values.items()}
            for name in METRICS:
                rows[name].append(values[name])
    if frames != len(real):
        raise FacecraftError(f"{animated_video} has {frames} frames, the real video {len(real)}")
    scale = CROP_SIZE / crop[2]
    out: dict[str, Any] = {"frames": frames, "size": list(first.shape[1::-1]), "face_crop": list(crop)}
    out["metrics"] = {name: _summary(rows[name], higher) for name, higher in METRICS.items()}
    out["faces_lost"] = lost
    out["mouth"] = _mouth(gen_points, [o.mesh for o in real])
    out["jitter"] = {
        "animated": _jitter(gen_points, scale),
        "real": _jitter([o.mesh for o in real], scale),
    }
    return out


def face_crop_box(boxes: list[Detection | None], width: int, height: int) -> tuple[int, int, int]:
    """(x, y, side) of the square face crop: the union of the face boxes, 10 % larger on each side, square,
    kept inside the frame (FOMM's VoxCeleb preprocessing)."""
    found = [d.bbox for d in boxes if d is not None]
    if not found:
        raise FacecraftError("no face found in the real video; self-reenactment needs one")
    x0 = min(b[0] for b in found)
    y0 = min(b[1] for b in found)
    x1 = max(b[0] + b[2] for b in found)
    y1 = max(b[1] + b[3] for b in found)
    side = max(x1 - x0, y1 - y0) * (1 + 2 * CROP_MARGIN)
    side = min(side, width, height)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    x = round(float(np.clip(cx - side / 2, 0, width - side)))
    y = round(float(np.clip(cy - side / 2, 0, height - side)))
    return x, y, int(side)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """SSIM of two BGR uint8 images with the Gaussian window of Wang et al. (sigma 1.5), channels averaged."""
    from skimage.metrics import structural_similarity  # scipy.ndimage: 0.3 s that `animate` need not wait for

    return float(
        structural_similarity(
            a,
            b,
            channel_axis=2,
            data_range=255,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
        )
    )


def l1(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two uint8 images, 0..1."""
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean() / 255.0)


def akd(a: np.ndarray | None, b: np.ndarray | None, scale: float) -> float:
    """Mean distance of corresponding points (N, 2), times ``scale``; NaN when either is missing."""
    if a is None or b is None:
        return float("nan")
    return float(np.linalg.norm(a - b, axis=1).mean() * scale)


def _frame_metrics(
    shown: np.ndarray,
    real: np.ndarray,
    seen: _Observed,
    truth: _Observed,
    crop: tuple[int, int, int],
) -> dict[str, float]:
    """All metrics of one shown frame against the real one (NaN where a detector found no face)."""
    x, y, side = crop
    scale = CROP_SIZE / side
    a = cv2.resize(shown[y : y + side, x : x + side], (CROP_SIZE, CROP_SIZE), interpolation=cv2.INTER_AREA)
    b = cv2.resize(real[y : y + side, x : x + side], (CROP_SIZE, CROP_SIZE), interpolation=cv2.INTER_AREA)
    csim = float("nan")
    if seen.identity is not None and truth.identity is not None:
        csim = float(cosine(seen.identity, truth.identity)[0, 0])
    return {
        "face_ssim": ssim(a, b),
        "face_l1": l1(a, b),
        "frame_ssim": ssim(shown, real),
        "frame_l1": l1(shown, real),
        "akd_mesh": akd(seen.mesh, truth.mesh, scale),
        "akd_yunet": akd(
            seen.yunet.points if seen.yunet else None, truth.yunet.points if truth.yunet else None, scale
        ),
        "csim": csim,
    }


def _observe(
    image: np.ndarray, detector: FaceDetector, follow: FaceFollower, encoder: IdentityEncoder
) -> _Observed:
    found = detector.detect(image)
    mesh = follow(image)
    return _Observed(
        found[0] if found else None,
        mesh.landmarks[:, :2].astype(np.float64) if mesh is not None else None,
        encoder.embed(image, found[0].points) if found else None,
    )


def _pairs(real_video: Path, animated_video: Path) -> Iterator[tuple[Any, np.ndarray]]:
    for frame, gen in zip(iter_frames(real_video), iter_frames(animated_video), strict=False):
        if gen.image.shape != frame.image.shape:
            raise FacecraftError(
                f"{animated_video} is {gen.image.shape[1]}x{gen.image.shape[0]}, the real video "
                f"{frame.image.shape[1]}x{frame.image.shape[0]}"
            )
        yield frame, gen.image


def _summary(rows: list[tuple[float, ...]], higher_is_better: bool) -> dict[str, Any]:
    """Means over the frames where the animation and every baseline have a value: ``animated``, ``still``,
    ``still_delivered`` (when measured), and whether the animation beats each still."""
    names = ("animated", "still", "still_delivered")[: len(rows[0])] if rows else ("animated", "still")
    kept = [r for r in rows if all(np.isfinite(v) for v in r)]
    if not kept:
        return {**dict.fromkeys(names), "better": None}
    means = {name: float(np.mean([r[i] for r in kept])) for i, name in enumerate(names)}

    def beats(other: str) -> bool:
        return bool(
            means["animated"] > means[other] if higher_is_better else means["animated"] < means[other]
        )

    out: dict[str, Any] = {name: round(value, 4) for name, value in means.items()}
    out["better"] = beats("still")
    if "still_delivered" in means:
        out["better_than_delivered_still"] = beats("still_delivered")
    return out


def _mouth(animated: list[np.ndarray | None], real: list[np.ndarray | None]) -> dict[str, float | None]:
    """Lip gap (face widths) of the delivered frames against the real ones: ``amplitude`` (5-95 % range
    ratio) and ``correlation``, over the frames where both show a face."""
    pairs = [
        (mouth_opening(a) / face_width(a), mouth_opening(b) / face_width(b))
        for a, b in zip(animated, real, strict=False)
        if a is not None and b is not None
    ]
    if len(pairs) < 3:
        return {"amplitude": None, "correlation": None}
    gen, truth = np.array(pairs).T
    spread = float(np.percentile(truth, 95) - np.percentile(truth, 5))
    amplitude = float(np.percentile(gen, 95) - np.percentile(gen, 5)) / spread if spread > 1e-6 else None
    corr = float(np.corrcoef(gen, truth)[0, 1]) if gen.std() > 1e-9 and truth.std() > 1e-9 else None
    return {
        "amplitude": round(amplitude, 3) if amplitude is not None else None,
        "correlation": round(corr, 3) if corr is not None else None,
    }


def _jitter(points: list[np.ndarray | None], scale: float) -> float | None:
    """Mean norm of the second difference of mesh points over runs of three frames with a face (crop px)."""
    vals = []
    for a, b, c in zip(points, points[1:], points[2:], strict=False):
        if a is not None and b is not None and c is not None:
            vals.append(float(np.linalg.norm(c - 2 * b + a, axis=1).mean()) * scale)
    return round(float(np.mean(vals)), 4) if vals else None


def _deliver_still(image: np.ndarray, frames: int, fps: float, out: Path, content_id: int) -> Path:
    """Frame 0 repeated ``frames`` times and written as animate writes (watermarked while writing with
    ``content_id``, H.264)."""
    labeller = FrameLabeller(False, content_id)
    h, w = image.shape[:2]
    with VideoWriter(out, w, h, fps) as writer:
        for _ in range(frames):
            writer.write(labeller.apply(image))
    return out


def _cut(video: Path, frames: int, out: Path) -> Path:
    """The first ``frames`` frames of ``video`` (with its audio), re-encoded near-losslessly (CRF 10)."""
    if frames < 2:
        raise FacecraftError("--max-frames must be at least 2 for self-reenactment")
    info = probe(video)
    decoded = iter_frames(video)
    first = next(decoded, None)
    if first is None:
        raise FacecraftError(f"{video} has no frames")
    h, w = first.image.shape[:2]
    audio = video if info.has_audio else None
    with VideoWriter(
        out, w, h, info.fps, crf=10, audio_from=audio, audio_duration=frames / info.fps
    ) as writer:
        writer.write(first.image)
        for frame in decoded:
            if frame.index >= frames:
                break
            writer.write(frame.image)
    return out
