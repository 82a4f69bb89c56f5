"""Pure parts of animate: geometry, retargeting, warp field, performances, config (no models)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from facecraft.animate import AnimateConfig, list_performances, list_renderers
from facecraft.animate.geometry import euler_rotation, rotation_matrix, rotation_vector, similarity_3d
from facecraft.animate.motion import Motion, motion_from_mesh
from facecraft.animate.performance import CHANNELS, load_performance, parse_performance
from facecraft.animate.portrait import choose_face, frame_box
from facecraft.animate.retarget import RetargetSettings, target_points
from facecraft.animate.warp import (
    Neck,
    attachment,
    backward_map,
    build_layout,
    thin_plate_weights,
    warp_image,
)
from facecraft.errors import FacecraftError
from facecraft.face import regions
from facecraft.face.detect import Detection


def _fake_mesh(seed: int = 0) -> np.ndarray:
    """A face-like cloud of 478 points (a flattened ellipsoid) centred in a 256 px image."""
    rng = np.random.default_rng(seed)
    ang = rng.uniform(0, 2 * np.pi, 478)
    rad = np.sqrt(rng.uniform(0, 1, 478))
    pts = np.c_[128 + 50 * rad * np.cos(ang), 120 + 65 * rad * np.sin(ang), 20 * rad**2]
    return pts


def test_similarity_3d_recovers_a_known_transform() -> None:
    src = _fake_mesh()
    rot = euler_rotation(12, -7, 4)
    dst = 1.3 * src @ rot.T + np.array([5.0, -3.0, 2.0])
    s, r, t = similarity_3d(src, dst)
    assert s == pytest.approx(1.3, abs=1e-9)
    np.testing.assert_allclose(r, rot, atol=1e-9)
    np.testing.assert_allclose(t, [5.0, -3.0, 2.0], atol=1e-6)


def test_rotation_vector_round_trip() -> None:
    rot = euler_rotation(20, 10, -5)
    np.testing.assert_allclose(rotation_matrix(rotation_vector(rot)), rot, atol=1e-12)


def test_no_motion_leaves_the_portrait_where_it_is() -> None:
    portrait = _fake_mesh(1)
    np.testing.assert_allclose(
        target_points(portrait, Motion(), np.eye(3), RetargetSettings()), portrait, atol=1e-9
    )


def test_motion_from_an_unchanged_mesh_is_identity() -> None:
    mesh = _fake_mesh(2)
    m = motion_from_mesh(mesh, mesh)
    np.testing.assert_allclose(m.rotation, np.eye(3), atol=1e-9)
    assert np.abs(m.expression).max() < 1e-9 and np.abs(m.translation).max() < 1e-9


def test_head_rotation_is_clamped() -> None:
    portrait = _fake_mesh(3)
    big = Motion(rotation=euler_rotation(80, 0, 0))
    limited = target_points(portrait, big, np.eye(3), RetargetSettings(max_rotation_deg=30))
    at_limit = target_points(
        portrait, Motion(rotation=euler_rotation(30, 0, 0)), np.eye(3), RetargetSettings()
    )
    np.testing.assert_allclose(limited, at_limit, atol=1e-6)


def test_pose_and_expression_scale() -> None:
    portrait = _fake_mesh(4)
    expr = np.zeros((478, 3))
    expr[0] = [0.0, 0.05, 0.0]
    motion = Motion(expression=expr)
    zero = target_points(portrait, motion, np.eye(3), RetargetSettings(expression_scale=0.0))
    np.testing.assert_allclose(zero, portrait, atol=1e-9)
    double = target_points(portrait, motion, np.eye(3), RetargetSettings(expression_scale=2.0))
    single = target_points(portrait, motion, np.eye(3), RetargetSettings())
    assert double[0, 1] - portrait[0, 1] == pytest.approx(2 * (single[0, 1] - portrait[0, 1]))


def test_thin_plate_weights_interpolate_the_control_points() -> None:
    ctrl = np.random.default_rng(5).uniform(0, 100, (20, 2))
    values = np.random.default_rng(6).normal(size=(20, 2))
    w = thin_plate_weights(ctrl, ctrl, span=100.0, smooth=0.0)
    np.testing.assert_allclose(w @ values, values, atol=1e-6)


def test_identity_warp_returns_the_image() -> None:
    mesh = _fake_mesh(7)
    layout = build_layout(mesh, (256, 256))
    mx, my = backward_map(layout, mesh, mesh)
    gx, gy = np.meshgrid(np.arange(256), np.arange(256))
    assert np.abs(mx - gx).max() < 0.05 and np.abs(my - gy).max() < 0.05
    img = np.random.default_rng(8).integers(0, 255, (256, 256, 3), dtype=np.uint8)
    assert np.abs(warp_image(img, mx, my).astype(int) - img).max() <= 1


def test_warp_moves_face_points_to_their_targets() -> None:
    mesh = _fake_mesh(9)
    layout = build_layout(mesh, (256, 256))
    target = mesh + np.array([6.0, -4.0, 0.0])
    mx, my = backward_map(layout, mesh, target)
    # At the face's centre the backward map points from the target back to the source.
    x, y = np.round(target[[0, 1], :2].mean(0)).astype(int)
    assert mx[y, x] == pytest.approx(x - 6.0, abs=0.3) and my[y, x] == pytest.approx(y + 4.0, abs=0.3)
    # The image border stays put.
    assert abs(mx[0, 0]) < 0.5 and abs(my[255, 255] - 255) < 0.5


def test_a_lowered_head_stays_in_front_of_its_collar() -> None:
    """The neck's share of the head's motion follows where a pixel comes from: a head lowered past its
    collar shows its chin there (it was cut off by the clothes when the share followed the output row)."""
    mesh = _fake_mesh(10)
    oval = regions.region("face_oval")  # clockwise from the forehead; the chin halfway
    angles = 2 * np.pi * np.arange(len(oval)) / len(oval)
    mesh[list(oval), :2] = np.c_[128 + 52 * np.sin(angles), 120 - 66 * np.cos(angles)]
    mesh[regions.UPPER_LIP_INNER] = [128.0, 150.0, 0.0]
    assert mesh[regions.CHIN, 1] == pytest.approx(186.0)
    layout = build_layout(mesh, (256, 256), layered=True, neck_length=0.15)
    neck = layout.neck
    assert neck is not None
    chin, length = 186.0, neck.length
    shift = round(2 * length) + 4
    _, my = backward_map(layout, mesh, mesh + np.array([0.0, shift, 0.0]))
    # under the portrait's chin, above the moved one (the last field pixel there blends with the collar)
    for y in range(round(chin) + 1, round(chin) + shift - 3):
        assert my[y, 128] == pytest.approx(y - shift, abs=0.5), y
    far = round(chin + shift + length) + 2
    assert my[far, 128] == pytest.approx(far, abs=0.5)  # the clothes stay
    # The share always agrees with the share of the pixel it samples; not moving, it eases from 1 at the
    # chin to 0 where the neck ends.
    gy, gx = np.mgrid[0:256, 100:160].astype(np.float32)
    for dx, dy in ((0.0, 0.0), (3.0, -shift), (-2.0, shift / 2)):
        share = attachment(gx, gy, np.full_like(gx, dx), np.full_like(gy, dy), neck)
        np.testing.assert_allclose(share, neck.fade(gx + share * dx, gy + share * dy), atol=0.05)
    share = attachment(gx, gy, np.zeros_like(gx), np.zeros_like(gy), neck)[:, 28]
    assert share[int(chin)] > 0.99 and share[int(chin + length) + 2] < 0.01


def test_a_neck_below_the_image_leaves_the_whole_picture_on_the_head() -> None:
    """A portrait cut off at the chin has no neck in the picture: every pixel takes the whole motion (and
    one cut off above the head, none)."""
    gy, gx = np.mgrid[0:64, 0:64].astype(np.float32)
    dx, dy = np.full_like(gx, 2.0), np.full_like(gy, -5.0)
    for value in (1.0, 0.0):
        neck = Neck(np.full((32, 32), value, np.float32), (0.5, 0.5), 10.0)
        np.testing.assert_allclose(attachment(gx, gy, dx, dy, neck), value)


@pytest.mark.parametrize("name", list_performances())
def test_every_builtin_performance_loads_and_stays_in_range(name: str) -> None:
    perf = load_performance(name)
    curves = perf.sample(np.linspace(0, perf.seconds, 200))
    assert set(curves) == set(CHANNELS)
    assert curves["blink"].min() >= 0.0 and curves["blink"].max() <= 1.0
    assert any(np.ptp(v) > 0 for v in curves.values()), "a performance must move something"


def test_builtin_performances_are_the_documented_ones() -> None:
    assert {"idle", "nod", "smile", "talk", "look-around"} <= set(list_performances())
    assert "geometric" in list_renderers()


def test_bad_performance_tables_are_rejected() -> None:
    with pytest.raises(FacecraftError, match="unknown channel"):
        parse_performance("x", {"channels": {"wiggle": [{"sine": [1, 1, 0]}]}})
    with pytest.raises(FacecraftError, match="one of keys, sine, bumps"):
        parse_performance("x", {"channels": {"yaw": [{"noise": 1}]}})
    with pytest.raises(FacecraftError, match="unknown performance"):
        load_performance("moonwalk")


def test_config_validation() -> None:
    with pytest.raises(FacecraftError, match="--crop"):
        AnimateConfig(crop="wide")
    with pytest.raises(FacecraftError, match="--pose-scale"):
        AnimateConfig(pose_scale=-1)
    with pytest.raises(FacecraftError, match="--size"):
        AnimateConfig(size=10)


def test_face_choice_errors() -> None:
    faces = [
        Detection((10, 10, 50, 60), 0.9, np.zeros((5, 2))),
        Detection((100, 10, 40, 50), 0.9, np.zeros((5, 2))),
    ]
    with pytest.raises(FacecraftError, match="no face found"):
        choose_face([], None, "p.jpg")
    with pytest.raises(FacecraftError, match=r"2 faces found in p.jpg \(0: 50x60 px.*1: 40x50 px.*--face N"):
        choose_face(faces, None, "p.jpg")
    assert choose_face(faces, 1, "p.jpg") is faces[1]
    with pytest.raises(FacecraftError, match="out of range"):
        choose_face(faces, 2, "p.jpg")


def test_frame_box_stays_inside_the_image() -> None:
    for crop in ("face", "portrait", "full"):
        x, y, w, h = frame_box((300, 200), (250, 150, 60, 60), crop)
        assert x >= 0 and y >= 0 and x + w <= 300 and y + h <= 200


def test_portrait_framing_keeps_the_sources_aspect() -> None:
    _, _, w, h = frame_box((1080, 1920), (400, 500, 280, 280), "portrait")
    assert abs(w / h - 1080 / 1920) < 0.01
    _, _, w, h = frame_box((1080, 1920), (400, 500, 280, 280), "face")
    assert w == h


def test_prefetch_keeps_order_and_passes_errors_on() -> None:
    from facecraft.animate.prefetch import prefetch

    assert list(prefetch(iter(range(50)), depth=3)) == list(range(50))

    def broken() -> Iterator[int]:
        yield 1
        raise FacecraftError("driving video is corrupt")

    got = []
    with pytest.raises(FacecraftError, match="corrupt"):
        for x in prefetch(broken()):
            got.append(x)
    assert got == [1]
    stream = prefetch(iter(range(10_000)), depth=2)
    assert next(stream) == 0
    stream.close()  # stopping early ends the producer thread


def test_drawn_teeth_follow_the_lips_and_the_portraits_colour() -> None:
    import cv2

    from facecraft.animate.teeth import drawn_interior, teeth_colour

    mask = np.zeros((40, 80), np.uint8)
    cv2.ellipse(mask, (40, 20), (36, 15), 0, 0, 360, 1, -1)
    lip, skin = np.array([70.0, 80.0, 170.0]), np.array([120.0, 170.0, 210.0])
    out = drawn_interior(mask > 0, 200.0, lip, skin).astype(np.float32).mean(2)
    # Upper teeth just under the lip line (curved: lower at the middle than at the sides), a dark throat.
    assert out[7, 40] > 2 * out[20, 40]
    assert out[7, 40] > out[7, 10]
    # Teeth take the skin's hue: a yellowed painting gets yellower teeth than a grey photo.
    yellow, grey = teeth_colour(np.array([60.0, 160.0, 190.0])), teeth_colour(np.array([150.0, 150.0, 150.0]))
    assert (yellow[2] - yellow[0]) > (grey[2] - grey[0]) + 10
    assert yellow.max() < 250
    # Teeth are bright on a dark skin too (the shared clips: 73 levels above Obama's skin, L 104 -> 177).
    dark_skin = np.array([60.0, 80.0, 120.0])
    lightness = cv2.cvtColor(teeth_colour(dark_skin).astype(np.uint8).reshape(1, 1, 3), cv2.COLOR_BGR2LAB)
    assert lightness[0, 0, 0] >= 155


def test_a_wink_stays_a_wink_and_looking_down_is_not_a_blink() -> None:
    from facecraft.animate.driving import eye_closure
    from facecraft.face.mesh import BLENDSHAPE_NAMES

    shapes = np.zeros(len(BLENDSHAPE_NAMES))
    shapes[BLENDSHAPE_NAMES.index("eyeBlinkLeft")] = 0.9  # the subject's left eye: the image's right
    image_left, image_right = eye_closure(shapes)
    assert image_right > 0.9 and image_left == 0.0
    down = np.zeros(len(BLENDSHAPE_NAMES))
    for side in ("Left", "Right"):
        down[BLENDSHAPE_NAMES.index(f"eyeBlink{side}")] = 0.45
        down[BLENDSHAPE_NAMES.index(f"eyeLookDown{side}")] = 0.6
    assert max(eye_closure(down)) < 0.05


def test_the_two_irises_move_together() -> None:
    from facecraft.animate.expressions import IRIS_LEFT, IRIS_RIGHT
    from facecraft.animate.retarget import conjugate_gaze

    expr = np.zeros((478, 3))
    expr[list(IRIS_LEFT), 0] = 0.02  # one eye looks right, the other does not move (tracking noise)
    out = conjugate_gaze(expr)
    assert out[list(IRIS_LEFT), 0].mean() == pytest.approx(0.01)
    assert out[list(IRIS_RIGHT), 0].mean() == pytest.approx(0.01)


def test_the_upper_teeth_show_as_far_as_the_upper_lip_lifts_off_them(shared_data: Path) -> None:
    """The upper incisors hang from the skull: a dropped jaw shows little of them, a lifted upper lip (a
    broad smile) shows them all; the drawn interior fills that much of the opening with teeth."""
    from facecraft.animate.expressions import face_axes, jaw_open, lip_halves
    from facecraft.animate.geometry import face_width
    from facecraft.animate.mouth import UPPER_TEETH_AT_REST, upper_teeth_shown
    from facecraft.animate.portrait import load_portrait
    from facecraft.animate.teeth import drawn_interior
    from facecraft.face.detect import FaceDetector
    from facecraft.face.mesh import FaceMesher

    with FaceMesher() as mesher:
        lm = load_portrait(
            shared_data / "portraits" / "einstein_photo.jpg", mesher, FaceDetector(), size=384
        ).landmarks
    fw = face_width(lm)
    assert upper_teeth_shown(lm, lm) == pytest.approx(UPPER_TEETH_AT_REST * fw, abs=0.01 * fw)
    dropped = lm + jaw_open(lm, 1.0)
    assert upper_teeth_shown(lm, dropped) < 0.03 * fw, "a dropped jaw does not uncover the upper teeth"
    lifted = dropped.copy()
    upper, _ = lip_halves()
    _, down = face_axes(lm)
    lifted[upper, :2] -= 0.04 * fw * down  # the upper lip drawn up off the teeth
    assert upper_teeth_shown(lm, lifted) > upper_teeth_shown(lm, dropped) + 0.035 * fw

    mask = np.zeros((40, 80), bool)
    mask[8:32, 6:74] = True  # an opening 24 px tall on a face 200 px wide
    lip, skin = np.array([70.0, 80.0, 170.0]), np.array([120.0, 170.0, 210.0])
    talking = drawn_interior(mask, 200.0, lip, skin, upper_teeth_px=4.0).astype(np.float32).mean(2)
    smiling = drawn_interior(mask, 200.0, lip, skin, upper_teeth_px=14.0).astype(np.float32).mean(2)
    assert (smiling[8:32, 40] > 120).sum() >= (talking[8:32, 40] > 120).sum() + 5


def test_a_smile_bares_the_lower_teeth_a_dropped_jaw_does_not(shared_data: Path) -> None:
    """The lower incisors ride on the jaw: a jaw that drops with the lip keeps them covered, a lip pulled
    down and wide off them (a broad smile) bares them, and the two rows then meet along the whole arch
    instead of leaving a dark band between them."""
    from facecraft.animate.expressions import face_axes, jaw_open, lip_halves, smile
    from facecraft.animate.geometry import face_width
    from facecraft.animate.mouth import lower_teeth_shown
    from facecraft.animate.portrait import load_portrait
    from facecraft.animate.teeth import drawn_interior
    from facecraft.face.detect import FaceDetector
    from facecraft.face.mesh import FaceMesher

    with FaceMesher() as mesher:
        lm = load_portrait(
            shared_data / "portraits" / "einstein_photo.jpg", mesher, FaceDetector(), size=384
        ).landmarks
    fw = face_width(lm)
    assert lower_teeth_shown(lm, lm) == 0.0
    assert lower_teeth_shown(lm, lm + jaw_open(lm, 1.0)) < 0.005 * fw, "an open jaw keeps them covered"
    smiling = lm + smile(lm, 1.2)
    _, lower = lip_halves()
    _, down = face_axes(lm)
    smiling[lower, :2] += 0.06 * fw * down  # the lower lip pulled down off the teeth (the smile lifts it)
    assert lower_teeth_shown(lm, smiling) > 0.02 * fw

    mask = np.zeros((40, 80), bool)
    mask[8:32, 6:74] = True  # an opening 24 px tall on a face 200 px wide
    lip, skin = np.array([70.0, 80.0, 170.0]), np.array([120.0, 170.0, 210.0])
    upper_only = drawn_interior(mask, 200.0, lip, skin, 14.0, 0.0).astype(np.float32).mean(2)
    both = drawn_interior(mask, 200.0, lip, skin, 14.0, 10.0).astype(np.float32).mean(2)
    for col in (40, 25):
        assert upper_only[8:32, col].min() < 40, "without lower teeth the throat shows"
        assert both[8:32, col].min() > 60, f"column {col}: the rows meet, no dark band"
    assert (both[20:32, 40] > 100).sum() >= 8
