"""Motion from a driving video: mesh the face in every frame, follow it, smooth it, and express each
frame as a :class:`Motion` relative to the reference frame (the most neutral face near the start, or
``AnimateConfig.reference_frame``; see facecraft.animate.reference).

A frame where the face is lost holds the last good motion; when the face is found again the motion eases
back over ``ease_seconds`` instead of jumping.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np

from facecraft.animate.config import AnimateConfig
from facecraft.animate.geometry import face_width, rotation_matrix, rotation_vector
from facecraft.animate.motion import Motion, blend_motion, motion_from_mesh
from facecraft.animate.reference import Reference, choose_reference
from facecraft.errors import FacecraftError
from facecraft.face.detect import FaceDetector
from facecraft.face.mesh import BLENDSHAPE_NAMES, FaceMesher, Mesh
from facecraft.face.smooth import OneEuroConfig, OneEuroState, one_euro
from facecraft.media.video import DecodeError, VideoInfo, iter_frames, probe

POSE_SMOOTHING = OneEuroConfig(min_cutoff=1.5, beta=20.0)
EXPRESSION_SMOOTHING = OneEuroConfig(min_cutoff=3.0, beta=30.0)
_BLINK_CLOSED = (0.3, 0.6)  # eyeBlink blendshape: open below the first value, shut above the second


def eye_closure(blendshapes: np.ndarray) -> tuple[float, float]:
    """(image-left, image-right) eye closure 0..1 from the eyeBlink blendshapes, each eye on its own so a
    wink stays a wink. MediaPipe's "Left" is the subject's left, which is the image's right."""
    lo, hi = _BLINK_CLOSED
    out = []
    for side in ("Right", "Left"):
        score = blendshapes[BLENDSHAPE_NAMES.index(f"eyeBlink{side}")]
        # Looking down lowers the lids and raises eyeBlink: that is a gaze, not a blink (no sleepy half-lids).
        score -= 0.5 * blendshapes[BLENDSHAPE_NAMES.index(f"eyeLookDown{side}")]
        x = float(np.clip((score - lo) / (hi - lo), 0.0, 1.0))
        out.append(x * x * (3 - 2 * x))
    return out[0], out[1]


def blink_closure(blendshapes: np.ndarray) -> float:
    """0..1 closure of both eyes together (mean of the two)."""
    left, right = eye_closure(blendshapes)
    return (left + right) / 2


class FaceFollower:
    """Meshes one face through a video: detect once, then follow the mesh's own box; re-detect when lost."""

    def __init__(self, mesher: FaceMesher, detector: FaceDetector):
        self.mesher, self.detector = mesher, detector
        self.box: tuple[float, float, float, float] | None = None

    def __call__(self, image: np.ndarray) -> Mesh | None:
        mesh = self.mesher.mesh(image, self.box) if self.box is not None else None
        if mesh is None:
            found = self.detector.detect(image)
            mesh = self.mesher.mesh(image, found[0].bbox) if found else None
        self.box = mesh.bbox() if mesh is not None else None
        return mesh


class VideoDriver:
    """Motions for every frame of a driving video (one per frame, same count and rate)."""

    def __init__(
        self,
        path: str | Path,
        config: AnimateConfig,
        mesher: FaceMesher,
        detector: FaceDetector,
        portrait_landmarks: np.ndarray | None = None,
    ):
        self.path = Path(path)
        self.info: VideoInfo = probe(self.path)
        self.config = config
        self.mesher, self.detector = mesher, detector
        self.reference: Reference = choose_reference(
            self.path, FaceFollower(mesher, detector), self.info.fps, config.reference_frame
        )
        ref = self.reference.mesh.landmarks.astype(np.float64)
        self._ref_lm = ref
        self._ref_blink = eye_closure(self.reference.mesh.blendshapes)
        self._absolute_base = None
        if not config.relative and portrait_landmarks is not None:
            self._absolute_base = _portrait_in_reference_frame(portrait_landmarks, ref)

    def motions(self) -> Iterator[Motion]:
        """One :class:`Motion` per video frame, in order."""
        follow = FaceFollower(self.mesher, self.detector)
        smoother = _Smoother(self.config.smooth, face_width(self._ref_lm))
        held: Motion | None = None
        ease_from: Motion | None = None
        ease_left = 0
        ease_n = max(1, round(self.config.ease_seconds * self.info.fps))
        try:
            for frame in iter_frames(self.path):
                mesh = follow(frame.image)
                if mesh is None:
                    held = held or Motion()
                    ease_from, ease_left = held, ease_n
                    yield replace(held.without_frame(), image=None)
                    continue
                motion = smoother(self._measure(mesh), frame.time)
                if ease_from is not None and ease_left > 0:
                    motion = blend_motion(ease_from, motion, 1.0 - (ease_left - 1) / ease_n)
                    ease_left -= 1
                held = motion
                yield replace(motion, image=frame.image, landmarks=mesh.landmarks)
        except DecodeError as exc:
            raise FacecraftError(f"{self.path} is corrupt after frame {exc.frames_read}: {exc}") from None

    def _measure(self, mesh: Mesh) -> Motion:
        motion = motion_from_mesh(self._ref_lm, mesh.landmarks.astype(np.float64), self._absolute_base)
        closure = tuple(
            float(np.clip((now - ref) / max(1.0 - ref, 1e-6), 0.0, 1.0))
            for now, ref in zip(eye_closure(mesh.blendshapes), self._ref_blink, strict=True)
        )
        return replace(motion, blink=(closure[0], closure[1]))


def _portrait_in_reference_frame(portrait: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """The portrait's mesh moved (similarity on the stable points) onto the reference face."""
    from facecraft.animate.motion import head_transform

    s, rot, t = head_transform(portrait, reference)
    return (s * portrait @ rot.T + t).astype(np.float64)


class _Smoother:
    """One-Euro smoothing of head pose (strong) and expression (light: blinks and lips are fast)."""

    def __init__(self, enabled: bool, scale: float):
        self.enabled = enabled
        self.pose_state: OneEuroState | None = None
        self.expr_state: OneEuroState | None = None

    def __call__(self, motion: Motion, t: float) -> Motion:
        if not self.enabled:
            return motion
        pose = np.r_[rotation_vector(motion.rotation), motion.translation, motion.scale]
        pose, self.pose_state = one_euro(pose, t, 1.0, self.pose_state, POSE_SMOOTHING)
        expr, self.expr_state = one_euro(motion.expression, t, 1.0, self.expr_state, EXPRESSION_SMOOTHING)
        return replace(
            motion,
            rotation=rotation_matrix(pose[:3]),
            translation=pose[3:6],
            scale=float(pose[6]),
            expression=expr,
        )
