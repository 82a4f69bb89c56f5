"""The target's light on the new face (swap.shading): skin brightness moved, features and chroma kept."""

from __future__ import annotations

import cv2
import numpy as np

from facecraft.swap.shading import match_shading

SIZE = 128


def _face(left: float, right: float, brow: float) -> np.ndarray:
    """A skin square lit from ``left`` to ``right`` (Lab L, 0..255) with a brow ``brow`` levels darker."""
    lab = np.zeros((SIZE, SIZE, 3), np.float32)
    lab[..., 0] = np.linspace(left, right, SIZE)[None, :]
    lab[..., 1], lab[..., 2] = 145.0, 150.0
    lab[40:46, 30:60, 0] -= brow
    return cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2BGR)


def _l(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2LAB)[..., 0].astype(np.float64)


SKIN = np.full((SIZE, SIZE), 255, np.uint8)
SKIN[36:50, 26:64] = 0  # the brow is not skin


def test_side_light_becomes_the_targets_flat_light_and_the_brow_stays() -> None:
    face = _face(90, 170, brow=50)  # hard side light
    target = _face(150, 150, brow=10)  # flat light, a faint brow
    out = match_shading(face, target, SKIN, face_width=100.0)
    before = abs(_l(face)[80:120, 5:20].mean() - _l(face)[80:120, 108:123].mean())
    after = abs(_l(out)[80:120, 5:20].mean() - _l(out)[80:120, 108:123].mean())
    assert before > 60 and after < 0.15 * before
    assert abs(_l(out)[80:120].mean() - 150) < 4
    brow_contrast = _l(out)[38:44, 64:72].mean() - _l(out)[42, 35:55].mean()
    assert brow_contrast > 40  # the new face's brow, not the target's faint one
    ab = cv2.cvtColor(out, cv2.COLOR_BGR2LAB)[80:120, 20:100, 1:].astype(np.float64)
    assert np.abs(ab.mean((0, 1)) - [145, 150]).max() < 3


def test_glints_on_the_target_do_not_light_the_face() -> None:
    face, target = _face(150, 150, brow=0), _face(150, 150, brow=0)
    target[60:70, 60:70] = 255  # a glint on glasses
    out = match_shading(face, target, SKIN, face_width=100.0)
    assert np.abs(_l(out) - _l(face)).max() <= 2


def test_amount_zero_changes_nothing() -> None:
    face, target = _face(90, 170, brow=50), _face(150, 150, brow=10)
    assert np.array_equal(match_shading(face, target, SKIN, 100.0, amount=0.0), face)
    half = match_shading(face, target, SKIN, 100.0, amount=0.5)
    full = match_shading(face, target, SKIN, 100.0)
    edge = (slice(80, 120), slice(5, 20))
    assert _l(face)[edge].mean() < _l(half)[edge].mean() < _l(full)[edge].mean()
