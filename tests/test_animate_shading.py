"""Expression shading: a crease on the driver's skin appears on the portrait; eyes and lips are left alone.

It reads the driver's bare skin from the face parser, so these tests run with it (marked ``parser``)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from facecraft.animate import AnimateConfig
from facecraft.animate.geometry import face_width
from facecraft.animate.motion import Motion
from facecraft.animate.portrait import Portrait, load_portrait
from facecraft.animate.run import Animation
from facecraft.animate.shading import RATIO_LIMITS
from facecraft.face.detect import FaceDetector
from facecraft.face.mesh import FaceMesher


@pytest.fixture(scope="module")
def portrait(shared_data: Path) -> Portrait:
    with FaceMesher() as mesher:
        return load_portrait(
            shared_data / "portraits" / "lady_agnew_painting.jpg", mesher, FaceDetector(), size=384
        )


def _render(pic: Portrait, driving: np.ndarray, shading: bool, scale: float = 1.0) -> np.ndarray:
    """The portrait driven by ``driving``, a frame whose mesh is the portrait's own (no motion at all): the
    reference is the portrait itself, so only the driver's shading can change a pixel."""
    config = AnimateConfig(size=384, shading=shading, expression_scale=scale)
    anim = Animation(pic, config, (pic.image, pic.landmarks))
    return anim.render(Motion(image=driving, landmarks=pic.landmarks))


def _grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)


@pytest.mark.parser
def test_a_crease_on_the_drivers_forehead_shades_the_portraits(portrait: Portrait) -> None:
    lm = portrait.landmarks
    fw = face_width(lm)
    x, y = lm[151, 0], lm[151, 1]  # mid-forehead, between brows and hairline
    p0 = (round(x - 0.15 * fw), round(y))
    p1 = (round(x + 0.15 * fw), round(y))
    crease = np.zeros(portrait.image.shape[:2], np.uint8)
    cv2.line(crease, p0, p1, 255, 3)
    driving = portrait.image.copy()
    driving[crease > 0] = (driving[crease > 0] * 0.55).astype(np.uint8)

    still = _render(portrait, driving, shading=False)
    shaded = _render(portrait, driving, shading=True)
    on_line = crease > 0
    below = np.roll(crease, round(0.12 * fw), axis=0) > 0  # same skin, away from the line

    darker = 1.0 - _grey(shaded)[on_line].mean() / _grey(still)[on_line].mean()
    assert darker > 0.08, f"the crease darkened the portrait by {darker:.1%} only"
    assert darker <= 1.0 - RATIO_LIMITS[0] + 0.01
    elsewhere = np.abs(_grey(shaded)[below] - _grey(still)[below]).mean()
    # (The crease's own darkening is part of the broad average taken out as lighting: a faint, wide lift.)
    assert elsewhere < 3.0, f"skin away from the crease changed by {elsewhere:.1f} levels"
    # Without shading the portrait is untouched by the driver's pixels.
    assert np.abs(_grey(still)[on_line] - _grey(portrait.image)[on_line]).mean() < 1.0
    # --expression-scale scales the crease: none at 0, deeper at 2
    assert np.array_equal(_render(portrait, driving, shading=True, scale=0.0), still)
    deeper = (
        1.0
        - _grey(_render(portrait, driving, shading=True, scale=2.0))[on_line].mean()
        / _grey(still)[on_line].mean()
    )
    assert deeper > 1.5 * darker


@pytest.mark.parser
def test_the_drivers_eyes_and_lips_are_not_printed_on_the_portrait(portrait: Portrait) -> None:
    lm = portrait.landmarks
    driving = portrait.image.copy()
    masks = []
    for name_points in ((33, 133, 159, 145), (61, 291, 13, 14)):  # an eye, the mouth
        pts = lm[list(name_points), :2]
        c = pts.mean(0)
        r = max(4, round(0.5 * np.ptp(pts[:, 0])))
        m = np.zeros(portrait.image.shape[:2], np.uint8)
        cv2.circle(m, (round(c[0]), round(c[1])), r, 255, -1)
        masks.append(m > 0)
        driving[m > 0] = (driving[m > 0] * 0.3).astype(np.uint8)
    still = _render(portrait, driving, shading=False)
    shaded = _render(portrait, driving, shading=True)
    for m in masks:
        core = cv2.erode(m.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        change = np.abs(_grey(shaded)[core] - _grey(still)[core]).mean()
        assert change < 3.0, (
            f"a darkened eye or mouth in the driver changed the portrait by {change:.1f} levels"
        )


def test_without_the_parser_the_portrait_takes_no_shading(
    portrait: Portrait, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FACECRAFT_NO_PARSER", "1")
    driving = (portrait.image * 0.6).astype(np.uint8)  # everything darker: nothing may follow
    shaded = _render(portrait, driving, shading=True)
    still = _render(portrait, driving, shading=False)
    assert np.array_equal(shaded, still)
