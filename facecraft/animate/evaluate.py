"""Self-reenactment evaluation: frame 0 of a real video is the portrait, the same video drives it, and
every generated frame is compared with the real one (the protocol of the talking-head papers).

Frames are compared at 256 x 256 (the video resized, as VoxCeleb's face-centred 256 px crops are):
SSIM and L1 (0..1) on pixels, AKD (average distance of the 478 mesh points, in 256-px pixels), CSIM (SFace
cosine of the generated face to the portrait's) and temporal jitter (mean second difference of the
generated mesh points per frame, 256-px pixels; ``jitter_real`` is the same on the real video).
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from skimage.metrics import structural_similarity

from facecraft.animate.config import AnimateConfig
from facecraft.animate.driving import FaceFollower, VideoDriver
from facecraft.animate.portrait import Portrait
from facecraft.animate.run import Animation
from facecraft.errors import FacecraftError
from facecraft.face.align import five_points
from facecraft.face.detect import FaceDetector
from facecraft.face.identity import IdentityEncoder, cosine
from facecraft.face.mesh import FaceMesher
from facecraft.media.video import iter_frames

EVAL_SIZE = 256


def reenact_eval(
    video: str | Path, *, max_frames: int | None = None, config: AnimateConfig | None = None
) -> dict[str, Any]:
    """Self-reenactment metrics of ``video`` as a JSON-ready dict (means over frames 1..N-1).

    ``max_frames``: evaluate only the first N frames. ``config``: animate settings (crop/size are set
    from the video so generated and real frames line up).
    """
    video = Path(video)
    first = next(iter_frames(video), None)
    if first is None:
        raise FacecraftError(f"{video} has no frames")
    h, w = first.image.shape[:2]
    base = config or AnimateConfig()
    config = replace(base, crop="full", size=max(w, h))
    detector, encoder = FaceDetector(), IdentityEncoder()
    with FaceMesher() as mesher:
        driver = VideoDriver(video, config, mesher, detector)
        if driver.reference.index != 0:
            raise FacecraftError(f"no face in frame 0 of {video}; self-reenactment needs it as the portrait")
        ref = driver.reference
        image = _even(ref.image)
        portrait = Portrait(
            image, ref.mesh.landmarks.astype(np.float64), ref.mesh.blendshapes, (0, 0, w, h), str(video)
        )
        anim = Animation(portrait, config, (ref.image, ref.mesh.landmarks.astype(np.float64)))
        identity = encoder.embed(image, five_points(portrait.landmarks))
        follow_gen, follow_real = FaceFollower(mesher, detector), FaceFollower(mesher, detector)
        rows: list[dict[str, float]] = []
        gen_pts, real_pts = [], []
        render_s = 0.0
        for motion, frame in zip(driver.motions(), iter_frames(video), strict=False):
            if max_frames is not None and frame.index >= max_frames:
                break
            t0 = time.perf_counter()
            generated = anim.render(motion)
            render_s += time.perf_counter() - t0
            real = _even(frame.image)
            row, g_lm, r_lm = _compare(generated, real, follow_gen, follow_real, encoder, identity)
            gen_pts.append(g_lm)
            real_pts.append(r_lm)
            if frame.index > 0:
                rows.append(row)
    if not rows:
        raise FacecraftError(f"{video} is too short to evaluate (needs at least 2 frames)")
    out: dict[str, Any] = {"video": video.name, "frames": len(rows) + 1, "size": EVAL_SIZE}
    for key in ("ssim", "l1", "akd", "csim"):
        vals = [r[key] for r in rows if np.isfinite(r[key])]
        out[key] = round(float(np.mean(vals)), 4) if vals else None
    out["jitter"] = _jitter(gen_pts)
    out["jitter_real"] = _jitter(real_pts)
    out["faces_lost"] = sum(1 for r in rows if not np.isfinite(r["akd"]))
    out["render_fps"] = round((len(rows) + 1) / max(render_s, 1e-9), 1)
    return out


def _even(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    return image[: h - h % 2, : w - w % 2]


def _compare(
    generated: np.ndarray,
    real: np.ndarray,
    follow_gen: FaceFollower,
    follow_real: FaceFollower,
    encoder: IdentityEncoder,
    identity: np.ndarray,
) -> tuple[dict[str, float], np.ndarray | None, np.ndarray | None]:
    scale = EVAL_SIZE / max(real.shape[:2])
    g = cv2.resize(generated, (EVAL_SIZE, EVAL_SIZE), interpolation=cv2.INTER_AREA)
    r = cv2.resize(real, (EVAL_SIZE, EVAL_SIZE), interpolation=cv2.INTER_AREA)
    row = {
        "ssim": float(structural_similarity(g, r, channel_axis=2, data_range=255)),
        "l1": float(np.abs(g.astype(np.float32) - r.astype(np.float32)).mean() / 255.0),
        "akd": float("nan"),
        "csim": float("nan"),
    }
    gm, rm = follow_gen(generated), follow_real(real)
    g_lm = gm.landmarks[:, :2] * scale if gm is not None else None
    r_lm = rm.landmarks[:, :2] * scale if rm is not None else None
    if g_lm is not None and r_lm is not None:
        row["akd"] = float(np.linalg.norm(g_lm - r_lm, axis=1).mean())
    if gm is not None:
        row["csim"] = float(cosine(encoder.embed(generated, five_points(gm.landmarks)), identity)[0, 0])
    return row, g_lm, r_lm


def _jitter(points: list[np.ndarray | None]) -> float | None:
    """Mean norm of the second difference of mesh points over consecutive frames that all have a face."""
    vals = []
    for a, b, c in zip(points, points[1:], points[2:], strict=False):
        if a is not None and b is not None and c is not None:
            vals.append(float(np.linalg.norm(c - 2 * b + a, axis=1).mean()))
    return round(float(np.mean(vals)), 4) if vals else None
