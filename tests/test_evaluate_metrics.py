"""The eye-region colour `evaluate` reports (facecraft.evaluate.metrics.eye_shade)."""

from __future__ import annotations

import numpy as np

from facecraft.evaluate.metrics import eye_shade
from facecraft.face.regions import region


def _face() -> tuple[np.ndarray, np.ndarray]:
    """A 256 px frame with a skin-coloured face, and a mesh whose face oval, eyes and brows are ellipses."""
    lm = np.zeros((478, 2))
    places = {
        "face_oval": ((128, 140), (90, 115)),
        "left_eye": ((95, 115), (16, 6)),
        "right_eye": ((161, 115), (16, 6)),
        "left_eyebrow": ((95, 95), (20, 4)),
        "right_eyebrow": ((161, 95), (20, 4)),
    }
    for name, ((cx, cy), (rx, ry)) in places.items():
        idx = list(region(name))
        angles = np.linspace(0, 2 * np.pi, len(idx), endpoint=False)
        lm[idx] = np.stack([cx + rx * np.cos(angles), cy + ry * np.sin(angles)], 1)
    frame = np.zeros((256, 256, 3), np.uint8)
    frame[:] = (200, 60, 20)
    yy, xx = np.mgrid[:256, :256]
    frame[((xx - 128) / 90) ** 2 + ((yy - 140) / 115) ** 2 <= 1] = (120, 150, 200)
    return frame, lm


def test_pink_shades_around_the_eyes_are_reported_and_an_untouched_face_is_zero() -> None:
    frame, lm = _face()
    assert np.allclose(eye_shade(frame, frame.copy(), lm), 0)
    shaded = frame.copy()
    yy, xx = np.mgrid[:256, :256]
    for cx in (95, 161):  # rose "lenses" around both eyes
        lens = ((xx - cx) / 30) ** 2 + ((yy - 116) / 19) ** 2 <= 1
        shaded[lens] = np.clip(shaded[lens].astype(int) + np.array([-5, -25, 20]), 0, 255).astype(np.uint8)
    shade = eye_shade(frame, shaded, lm)
    assert shade is not None
    _, d_a, d_b = shade
    assert d_a > 8  # pinker around the eyes than the face around them, where the original was not
    assert abs(d_b) < d_a
