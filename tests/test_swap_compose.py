"""Paste-back, blending and mask shaping on synthetic images with known answers."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facecraft.face.align import Alignment, template
from facecraft.face.regions import NOSE_TIP
from facecraft.swap.blend import get_blend, list_blends
from facecraft.swap.mask import get_mask, list_masks
from facecraft.swap.mask.refine import EYES, MOUTH, erode_dilate, feather, keep_regions, skin_mask
from facecraft.swap.paste import face_region, paste_face

RNG = np.random.default_rng(3)


def _smooth_frame(h: int = 240, w: int = 320) -> np.ndarray:
    noise = RNG.uniform(0, 255, (h // 8, w // 8, 3)).astype(np.float32)
    return np.clip(cv2.resize(noise, (w, h), interpolation=cv2.INTER_CUBIC), 0, 255).astype(np.uint8)


def _affine(angle: float, scale: float, tx: float, ty: float) -> np.ndarray:
    m = cv2.getRotationMatrix2D((160.0, 120.0), angle, scale)
    m[:, 2] += (tx, ty)
    return m


def test_paste_back_inverts_the_alignment_at_subpixel_accuracy() -> None:
    frame = _smooth_frame()
    affine = _affine(17.0, 1.3, -60.3, -30.7)
    aligned = Alignment(affine, 128).warp(frame)
    out = frame.copy()
    mask = np.zeros((128, 128), np.float32)
    mask[16:112, 16:112] = 1.0
    pasted = paste_face(out, aligned, mask, affine, get_blend("alpha"))
    assert pasted is not None
    (x0, y0, x1, y1), used = pasted
    inside = used > 0.999
    err = np.abs(out[y0:y1, x0:x1].astype(float) - frame[y0:y1, x0:x1].astype(float))[inside]
    assert inside.sum() > 1000 and err.mean() < 1.0
    # A half-pixel mistake in the inverse warp would be far larger on the same image.
    shifted = affine.copy()
    shifted[:, 2] += 0.5
    wrong = frame.copy()
    paste_face(wrong, Alignment(shifted, 128).warp(frame), mask, affine, get_blend("alpha"))
    assert (
        np.abs(wrong[y0:y1, x0:x1].astype(float) - frame[y0:y1, x0:x1].astype(float))[inside].mean()
        > 2 * err.mean()
    )


def test_face_region_is_clipped_and_none_outside() -> None:
    assert face_region(_affine(0, 1.0, -100, -50), 128, (240, 320)) is not None
    x0, y0, x1, y1 = face_region(_affine(0, 1.0, 100, 100), 128, (240, 320)) or (0, 0, 0, 0)
    assert x0 == 0 and y0 == 0 and x1 <= 320 and y1 <= 240
    assert face_region(_affine(0, 1.0, 1000, 1000), 128, (240, 320)) is None


@pytest.mark.parametrize("name", list_blends())
def test_paste_works_only_around_the_mask_and_gives_what_the_whole_square_gives(name: str) -> None:
    """The paste is cut to the mask's box (most of the aligned square is background): the face it leaves
    is the one a paste over the whole square leaves, to the warp's rounding, and the region is smaller."""
    frame = _smooth_frame(480, 640)
    affine = _affine(11.0, 0.7, -120.0, -110.0)
    face = _smooth_frame(128, 128)
    small = np.zeros((128, 128), np.float32)
    cv2.ellipse(small, (60, 70), (30, 40), 0, 0, 360, 1.0, -1)
    small = cv2.GaussianBlur(small, (0, 0), 2.0)
    detail = (np.ones((128, 128), np.float32), 0.5)
    out = frame.copy()
    pasted = paste_face(out, face, small, affine, get_blend(name), detail)
    assert pasted is not None
    (x0, y0, x1, y1), _ = pasted
    full = face_region(affine, 128, frame.shape)
    assert (
        full is not None
        and full[0] > 0
        and full[1] > 0
        and (x1 - x0) * (y1 - y0) < 0.6 * (full[2] - full[0]) * (full[3] - full[1])
    )
    # The same mask set to 1e-6 over the rest of the square: the whole square is pasted, the face the same.
    whole = frame.copy()
    paste_face(whole, face, np.maximum(small, 1e-6), affine, get_blend(name), detail)
    changed = np.abs(out.astype(int) - frame).max(2) > 0
    assert changed.sum() > 1000
    # The pyramid and the Poisson solve work over their region: a larger one moves them a little.
    tolerance = {"alpha": 2, "laplacian": 6}.get(name)
    if tolerance is not None:
        assert np.abs(out.astype(int) - whole)[changed].max() <= tolerance


@pytest.mark.parametrize("name", list_blends())
def test_blend_never_touches_pixels_outside_the_mask(name: str) -> None:
    background, face = _smooth_frame(120, 120), _smooth_frame(120, 120)[::-1].copy()
    mask = np.zeros((120, 120), np.float32)
    cv2.circle(mask, (60, 60), 35, 1.0, -1)
    mask = feather(mask, 10)
    out = get_blend(name).blend(background, face, mask)
    assert np.array_equal(out[mask == 0], background[mask == 0])
    core = np.zeros_like(mask, bool)
    cv2.circle(core.view(np.uint8), (60, 60), 15, 1, -1)
    assert np.abs(out[core].astype(float) - background[core].astype(float)).mean() > 10  # the face went in


def test_alpha_blend_with_full_mask_is_the_face() -> None:
    background, face = _smooth_frame(64, 64), _smooth_frame(64, 64)
    assert np.array_equal(get_blend("alpha").blend(background, face, np.ones((64, 64), np.float32)), face)


def test_poisson_takes_the_tone_of_the_surroundings() -> None:
    background = np.full((100, 100, 3), 60, np.uint8)
    face = np.full((100, 100, 3), 200, np.uint8)
    mask = np.zeros((100, 100), np.float32)
    mask[30:70, 30:70] = 1.0
    out = get_blend("poisson").blend(background, face, mask)
    assert abs(float(out[50, 50].mean()) - 60) < 15  # a flat face clones to the frame's own flat tone


def _landmarks(size: int = 256) -> np.ndarray:
    """A plausible aligned 478-point mesh: the canonical MediaPipe face scaled into the aligned square."""
    from facecraft.face.regions import region

    pts = np.zeros((478, 2))
    t = template("whole_face", size)
    centre, eye_dist = t[:2].mean(0), np.linalg.norm(t[1] - t[0])
    # Each named region as an ellipse at its usual place, enough for mask geometry tests.
    places = {
        "face_oval": (centre + np.array([0, eye_dist * 0.55]), (eye_dist * 1.05, eye_dist * 1.45)),
        "left_eye": (t[0], (eye_dist * 0.22, eye_dist * 0.08)),
        "right_eye": (t[1], (eye_dist * 0.22, eye_dist * 0.08)),
        "left_eyebrow": (t[0] - np.array([0, eye_dist * 0.25]), (eye_dist * 0.25, eye_dist * 0.05)),
        "right_eyebrow": (t[1] - np.array([0, eye_dist * 0.25]), (eye_dist * 0.25, eye_dist * 0.05)),
        "lips_outer": ((t[3] + t[4]) / 2, (eye_dist * 0.4, eye_dist * 0.15)),
    }
    for name, (c, (rx, ry)) in places.items():
        idx = region(name)
        ang = np.linspace(0, 2 * np.pi, len(idx), endpoint=False)
        pts[list(idx)] = np.stack([c[0] + rx * np.cos(ang), c[1] + ry * np.sin(ang)], 1)
    return pts


def test_landmark_masks_and_kept_regions() -> None:
    lm = _landmarks()
    assert set(list_masks()) == {"landmarks", "learned", "both", "parse", "parse-learned"}
    oval = get_mask("landmarks").make(lm, None, 256)
    learned = np.zeros((256, 256), np.float32)
    learned[:, :128] = 1.0
    both = get_mask("both").make(lm, learned, 256)
    assert oval.sum() > 0 and np.isclose(both.sum(), oval[:, :128].sum())
    assert np.array_equal(get_mask("learned").make(lm, learned, 256), learned)
    # parse-learned: the target's parsed face, only where the model's learned mask draws face too
    parsed = np.zeros((256, 256), np.float32)
    parsed[64:, :] = 1.0  # the top of the oval is hair on the target
    lm[NOSE_TIP] = template("whole_face", 256)[2]
    narrow = get_mask("parse-learned").make(lm, learned, 256, parsed)
    whole = get_mask("parse").make(lm, learned, 256, parsed)
    nose_y = round(float(lm[NOSE_TIP, 1]))
    assert np.array_equal(narrow[:nose_y], whole[:nose_y])  # above the nose: the parse mask whole
    low = slice(nose_y + 30, 256)  # well below it: only where the learned mask draws face too
    assert np.array_equal(narrow[low], np.minimum(whole, learned)[low])
    assert 0 < narrow.sum() < whole.sum()
    kept = keep_regions(oval, lm, EYES + MOUTH)
    for name, idx in (("left_eye", 0), ("right_eye", 1)):
        x, y = template("whole_face", 256)[idx].round().astype(int)
        assert oval[y, x] == 1.0 and kept[y, x] == 0.0, name
    assert 0 < kept.sum() < oval.sum()


def test_erode_dilate_feather_stay_where_they_should() -> None:
    mask = np.zeros((128, 128), np.float32)
    mask[32:96, 32:96] = 1.0
    assert erode_dilate(mask, 5).sum() > mask.sum() > erode_dilate(mask, -5).sum()
    soft = feather(mask, 12)
    assert soft[mask == 0].max() == 0.0  # feathering never spreads beyond the outline
    assert soft[64, 64] == pytest.approx(1.0, abs=1e-3) and 0 < soft[64, 34] < 1


def test_skin_mask_leaves_out_eyes_and_mouth() -> None:
    lm = _landmarks()
    skin = skin_mask(lm, 256)
    eye = template("whole_face", 256)[0].round().astype(int)
    mouth = template("whole_face", 256)[3:].mean(0).round().astype(int)
    assert skin[eye[1], eye[0]] == 0 and skin[mouth[1], mouth[0]] == 0 and skin.sum() > 0


def test_a_calm_track_is_parsed_every_other_frame_and_a_moving_one_every_frame() -> None:
    """The parser (~45 % of a CPU swap) reads a still face on even frames only, keeps its parse for the odd
    ones, and reads every frame while the face's outline moves; a new track is read at once."""
    from facecraft.swap.compose import PARSE_EVERY, Compositor, TargetFace
    from facecraft.swap.config import SwapConfig
    from facecraft.swap.parsing import ParsedFace

    class CountingRegions:
        calls = 0

        def parse(self, frame, affines, size):  # type: ignore[no-untyped-def]
            CountingRegions.calls += len(affines)
            return [ParsedFace(np.ones((size, size), np.float32), np.ones((size, size), np.float32))] * len(
                affines
            )

    size = 64
    lm = np.random.default_rng(0).uniform(10, 54, (478, 2)).astype(np.float32)
    comp = Compositor(SwapConfig(mask="parse"), regions=CountingRegions())  # type: ignore[arg-type]
    frame = np.zeros((size, size, 3), np.uint8)
    face = TargetFace(1, np.eye(2, 3), frame, lm)
    for index in range(6):
        comp._parsed(frame, [face], index)
    assert PARSE_EVERY == 2 and CountingRegions.calls == 3
    CountingRegions.calls = 0
    for index in range(6, 12):  # the outline drifts 1 % of the face per frame: read every frame
        moving = TargetFace(1, np.eye(2, 3), frame, lm + 0.01 * size * (index - 5))
        comp._parsed(frame, [moving], index)
    assert CountingRegions.calls == 6
    CountingRegions.calls = 0
    comp._parsed(frame, [face, TargetFace(2, np.eye(2, 3), frame, lm)], 13)  # track 2 is new
    assert CountingRegions.calls == 1 + 1  # track 1: frame 12 was not seen, so it is read as well
    CountingRegions.calls = 0
    short = Compositor(SwapConfig(mask="parse", segment=3), regions=CountingRegions())  # type: ignore[arg-type]
    for index in range(6):  # a segment's first frame (3) is read as a resumed swap would read it
        short._parsed(frame, [face], index)
    assert CountingRegions.calls == 4  # frames 0, 2, 3, 4


def test_parses_computed_ahead_give_the_same_frame_as_parsing_inline() -> None:
    """A video's parse stage runs Compositor.parse a stage ahead; composite then uses those maps instead of
    parsing again, and the frame is the one inline parsing gives."""
    from facecraft.swap.compose import Compositor, TargetFace
    from facecraft.swap.config import SwapConfig
    from facecraft.swap.parsing import ParsedFace

    class HalfRegions:
        calls = 0

        def parse(self, frame, affines, size):  # type: ignore[no-untyped-def]
            HalfRegions.calls += len(affines)
            face = np.zeros((size, size), np.float32)
            face[:, : size // 2] = 1.0
            return [ParsedFace(face, face.copy()) for _ in affines]

    size = 64
    lm = _landmarks(size)
    frame = np.random.default_rng(1).integers(0, 255, (size, size, 3), dtype=np.uint8)
    target = TargetFace(1, np.eye(2, 3), frame, lm)
    generated = np.full((1, size, size, 3), 200, np.uint8)
    learned = np.ones((1, size, size), np.float32)
    config = SwapConfig(mask="parse", detail=0.0, source_detail=0.0)
    inline = Compositor(config, regions=HalfRegions()).composite(frame, [target], generated, learned, 0)  # type: ignore[arg-type]
    ahead = Compositor(config, regions=HalfRegions())  # type: ignore[arg-type]
    parses = ahead.parse(frame, [target], 0)
    HalfRegions.calls = 0
    out = ahead.composite(frame, [target], generated, learned, 0, parses)
    assert HalfRegions.calls == 0 and np.array_equal(out, inline)
    assert not np.array_equal(out, frame)  # something was pasted, and only where the parse said face
    assert np.array_equal(out[:, size // 2 + 2 :], frame[:, size // 2 + 2 :])


def test_clear_frames_are_painted_over_and_visible_frames_kept() -> None:
    """Dark metal frames show (1: kept); clear plastic, the skin seen through it, does not (0: painted over
    with the lenses, so the target's own skin around its eyes is not put around the new face's)."""
    from facecraft.face.parse import LABEL_INDEX, LABELS
    from facecraft.swap.parsing import frames_visibility

    size = 96
    probs = np.zeros((size, size, len(LABELS)), np.float32)
    probs[..., LABEL_INDEX["skin"]] = 1.0
    solid = np.zeros((size, size), np.uint8)
    solid[30:60, 20:76] = 1
    probs[solid > 0] = 0.0
    probs[solid > 0, LABEL_INDEX["eyeglasses"]] = 1.0
    lenses = cv2.erode(solid, np.ones((7, 7), np.uint8))
    crop = np.full((size, size, 3), (120, 150, 200), np.uint8)  # skin, and what the lenses show
    crop[lenses > 0] = (125, 150, 195)
    clear = crop.copy()
    clear[(solid > 0) & (lenses == 0)] = (130, 158, 205)  # clear plastic: the skin, a little lighter
    metal = crop.copy()
    metal[(solid > 0) & (lenses == 0)] = (40, 40, 45)  # a dark rim
    assert frames_visibility(metal, probs, solid, lenses) == 1.0
    assert frames_visibility(clear, probs, solid, lenses) == 0.0


def test_shading_gives_the_new_face_the_videos_light() -> None:
    """--shading 1: a flat generated face pasted on a face lit from one side takes that side light (skin
    brightness at the scale of an eye); the default (0) leaves the face as the colour transfer made it."""
    from facecraft.swap.compose import Compositor, TargetFace
    from facecraft.swap.config import SwapConfig

    size = 128
    lm = _landmarks(size)
    light = np.linspace(90, 200, size, dtype=np.float32)[None, :, None]
    frame = np.clip(np.full((size, size, 3), (0.75, 0.85, 1.0), np.float32) * light, 0, 255).astype(np.uint8)
    target = TargetFace(1, np.eye(2, 3), frame, lm)
    generated = np.full((1, size, size, 3), (120, 135, 160), np.uint8)
    learned = np.ones((1, size, size), np.float32)

    def side_difference(shading: float) -> float:
        config = SwapConfig(mask="landmarks", color="none", detail=0.0, source_detail=0.0, shading=shading)
        out = Compositor(config).composite(frame, [target], generated, learned, 0)
        skin = skin_mask(lm, size) > 0
        grey = cv2.cvtColor(out, cv2.COLOR_BGR2GRAY).astype(np.float64)
        cols = np.nonzero(skin.any(0))[0]
        left = grey[:, cols[0] : cols[0] + 8][skin[:, cols[0] : cols[0] + 8]].mean()
        right = grey[:, cols[-1] - 8 : cols[-1]][skin[:, cols[-1] - 8 : cols[-1]]].mean()
        return right - left

    assert abs(side_difference(0.0)) < 3  # flat, as generated
    assert side_difference(1.0) > 25  # lit from the right, as the video


def test_the_forehead_band_is_reached_from_the_oval_without_a_gap() -> None:
    """Above the oval the new face goes up each column only while both the target (its parse) and the source
    (their forehead's skin) allow it: skin above a strand of the target's hair, or above the source's fringe,
    stays the target's."""
    from facecraft.swap.forehead import forehead_band, forehead_mask

    size = 256
    lm = _landmarks(size)
    band, oval, _ = forehead_band(lm, size)
    cols = np.nonzero(band.any(0) & oval.any(0))[0]
    x = int(cols[len(cols) // 2])
    top = int(np.nonzero(oval[:, x])[0][0])  # the oval's top in this column
    rows = np.nonzero(band[:, x])[0]
    assert rows.size > 20 and rows.max() < top  # the band reaches well above the oval
    everywhere = np.ones((size, size), np.float32)
    full = forehead_mask(lm, everywhere, everywhere)
    assert full[rows, x].min() == 1.0 and full[oval > 0].max() == 0.0  # the band, never the oval itself
    strand = everywhere.copy()
    strand[top - 8 : top - 5] = 0.0  # a strand of the target's hair across the forehead
    cut = forehead_mask(lm, everywhere, strand)
    assert cut[top - 4, x] == 1.0 and cut[: top - 5, x].max() == 0.0
    fringe = everywhere.copy()
    fringe[top - 8 : top - 5] = 0.0  # the source's fringe across their forehead
    assert np.array_equal(forehead_mask(lm, fringe, everywhere), cut)
    assert forehead_mask(lm, np.zeros_like(everywhere), everywhere).max() == 0.0


def test_the_default_mask_keeps_the_target_jaw_and_a_resumed_swap_knows_it(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from facecraft.swap.config import SwapConfig

    monkeypatch.delenv("FACECRAFT_NO_PARSER", raising=False)
    config = SwapConfig()
    assert config.resolved_mask() == "parse-learned"
    assert config.fingerprint()["mask"] == "parse-learned"
    on = config.fingerprint()
    monkeypatch.setenv("FACECRAFT_NO_PARSER", "1")
    assert config.resolved_mask() == "landmarks"
    assert config.fingerprint() != on  # resumed with the parser off: the earlier segments are not reused
    assert SwapConfig(mask="parse").fingerprint()["mask"] == "parse"
