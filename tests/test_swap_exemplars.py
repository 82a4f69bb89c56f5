"""Source detail from exemplars: the warp follows the landmarks, only the fine band is lent, the choice is
spread and steady, and on real faces a smeared face gets its person's real detail back."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from train_fixtures import facesets  # noqa: F401

from facecraft.errors import FacecraftError
from facecraft.faceset.store import Faceset
from facecraft.swap.exemplars import (
    ExemplarBank,
    ExemplarDetail,
    bank_path,
    choose_exemplars,
    lend_detail,
    load_bank,
    save_bank,
    triangulate,
    warp_maps,
)
from facecraft.train.exemplars import keep_exemplars


def _grid_points(size: int, n: int = 7) -> np.ndarray:
    t = np.linspace(size * 0.2, size * 0.8, n)
    return np.stack(np.meshgrid(t, t), -1).reshape(-1, 2).astype(np.float32)


def test_warp_follows_the_landmarks() -> None:
    size = 96
    src = _grid_points(size)
    tri = triangulate(src, size)
    mx, my, stretch = warp_maps(src, src, tri, size)
    assert np.allclose(stretch, 1.0, atol=1e-4)
    ys, xs = np.mgrid[0:size, 0:size]
    assert np.abs(mx - xs).max() < 1e-3 and np.abs(my - ys).max() < 1e-3  # same layout: no motion

    dst = src + np.array([3.0, -2.0], np.float32)  # the target's face sits 3 px right, 2 px up
    mx, my, _ = warp_maps(src, dst, tri, size)
    inner = (slice(30, 60), slice(30, 60))
    assert np.allclose(mx[inner], xs[inner] - 3.0, atol=1e-3) and np.allclose(
        my[inner], ys[inner] + 2.0, atol=1e-3
    )
    centre = np.float32(size / 2)
    _, _, stretch = warp_maps(src, centre + 1.5 * (src - centre), tri, size)  # a layout 1.5x wider and taller
    assert np.allclose(stretch[40:56, 40:56], 2.25, atol=1e-3)  # the area is stretched 2.25 times there
    image = np.zeros((size, size, 3), np.uint8)
    image[40:50, 40:50] = 255
    moved = cv2.remap(image, mx, my, cv2.INTER_LINEAR)
    assert moved[38:48, 43:53].min() == 255 and moved[40:50, 40:42].max() == 0


def test_only_the_fine_band_is_lent() -> None:
    rng = np.random.default_rng(1)
    size = 64
    ramp = np.linspace(60, 200, size, dtype=np.float32)
    generated = np.repeat(np.repeat(ramp[None, :, None], size, 0), 3, 2).astype(np.uint8)  # smooth shading
    exemplar = np.clip(100 + rng.normal(0, 25, (size, size, 3)), 0, 255).astype(np.uint8)  # other tone, grain
    weight = np.zeros((size, size), np.float32)
    weight[:, 32:] = 1.0
    out = lend_detail(generated, exemplar, weight, sigma=2.0)
    assert np.array_equal(out[:, :24], generated[:, :24])  # no weight, no change
    right = out[8:-8, 40:56].astype(np.float32)
    smooth = cv2.GaussianBlur(right, (0, 0), 3)
    assert (right - smooth).std() > 8  # the exemplar's grain is there
    # ... but the tone is still the generated face's (not the exemplar's 100)
    assert abs(float(right.mean()) - float(generated[8:-8, 40:56].mean())) < 3


def test_exemplars_are_sharp_and_spread_and_a_track_keeps_its_own() -> None:
    size = 100
    base = _grid_points(size)
    rng = np.random.default_rng(2)
    landmarks = np.stack([base + rng.normal(0, 0.2, base.shape) for _ in range(20)]).astype(np.float32)
    landmarks[5] += 8.0  # one face far from the rest (another pose)
    sharpness = np.linspace(10, 1, 20)
    sharpness[19] = 100.0  # the sharpest face
    sharpness[7] = 0.0  # a blurred face, far away too: never chosen
    landmarks[7] -= 8.0
    chosen = choose_exemplars(landmarks, sharpness, size, n=3, weighted=False)
    assert chosen[0] == 19 and 5 in chosen and 7 not in chosen

    bank = ExemplarBank(
        np.zeros((3, size, size, 3), np.uint8),
        np.zeros((3, size, size), np.uint8),
        landmarks[[19, 5, 0]],
        triangulate(base, size),
    )
    lender = ExemplarDetail(bank, model_size=25, weighted=False)
    assert lender.choose(1, landmarks[19], size) == 0
    between = landmarks[19] * 0.45 + landmarks[5] * 0.55  # a little nearer the other, not clearly
    assert lender.choose(1, between, size) == 0
    assert lender.choose(1, landmarks[5], size) == 1  # clearly another pose: it switches
    assert lender.choose(2, between, size) == 1  # a new track has no history: simply the nearest


def test_a_damaged_bank_is_one_clear_error(tmp_path: Path) -> None:
    assert load_bank(tmp_path, "A") is None  # a model from before exemplars: none, swap without
    path = bank_path(tmp_path, "A")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not an npz")
    with pytest.raises(FacecraftError, match="unreadable"):
        load_bank(tmp_path, "A")


def test_a_smeared_face_gets_its_persons_real_detail(facesets: dict[str, Path], tmp_path: Path) -> None:  # noqa: F811
    """Real faces of one person: a held-out face, smeared as a 4x smaller model would draw it, gets the fine
    band of the person's other faces warped onto its landmarks: much sharper, and nearer the real face than
    the smear (the detail lines up with the truth; noise would not)."""
    with Faceset.open(facesets["B"]) as fs:
        faces = fs.faces()
        held = faces[len(faces) // 2]
        truth = fs.load_image(held)
        others_ids = {f.id for f in faces if abs(f.frame_index - held.frame_index) > 8}
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    # exemplars from every face but the held-out one and its neighbours
    keep_exemplars(model_dir, "B", facesets["B"], use_parser=False, only=others_ids)
    bank = load_bank(model_dir, "B")
    assert bank is not None and len(bank.images) >= 5
    size = truth.shape[0]
    small = cv2.resize(truth, (size // 4, size // 4), interpolation=cv2.INTER_AREA)
    smear = cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC)
    lent = ExemplarDetail(bank, model_size=size // 4).apply(0, smear, held.aligned_landmarks)

    box = (slice(size // 4, 3 * size // 4), slice(size // 4, 3 * size // 4))

    def sharp(img: np.ndarray) -> float:
        return float(cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)[box], cv2.CV_32F).var())

    assert sharp(smear) < 0.35 * sharp(truth)
    assert sharp(lent) > 0.4 * sharp(truth)  # measured 0.65 of the real face's detail, the smear 0.013
    err_smear = np.abs(smear[box].astype(np.float32) - truth[box]).mean()
    err_lent = np.abs(lent[box].astype(np.float32) - truth[box]).mean()
    rng = np.random.default_rng(0)
    noisy = np.clip(smear + rng.normal(0, 1, smear.shape) * (lent.astype(np.float32) - smear).std(), 0, 255)
    err_noise = np.abs(noisy[box] - truth[box]).mean()
    assert err_lent < err_noise  # structured detail, not noise of the same strength
    assert err_lent < 0.85 * err_smear  # nearer the real face than the smear (measured 11.1 vs 16.2)


def test_saved_bank_round_trips(tmp_path: Path) -> None:
    size = 32
    pts = _grid_points(size)
    images = np.random.default_rng(3).integers(0, 255, (2, size, size, 3), dtype=np.uint8)
    masks = np.full((2, size, size), 255, np.uint8)
    save_bank(tmp_path, "A", images, masks, np.stack([pts, pts]))
    bank = load_bank(tmp_path, "A")
    assert bank is not None and np.array_equal(bank.images, images) and bank.size == size


def test_a_resumed_swap_lends_exactly_what_an_uninterrupted_one_does() -> None:
    size = 64
    base = _grid_points(size)
    rng = np.random.default_rng(4)
    bank = ExemplarBank(
        rng.integers(0, 255, (3, size, size, 3), dtype=np.uint8),
        np.full((3, size, size), 255, np.uint8),
        np.stack([base, base + 2.0, base - 2.0]).astype(np.float32),
        triangulate(base, size),
    )
    # the model's faces: the exemplars' coarse features (detail is lent only where they agree), each its own
    coarse = cv2.GaussianBlur(bank.images[0], (0, 0), 4.0).astype(np.int16)
    faces = [
        np.clip(coarse + rng.integers(-20, 20, (size, size, 3)), 0, 255).astype(np.uint8) for _ in range(6)
    ]
    layouts = [base + rng.normal(0, 1.5, base.shape).astype(np.float32) for _ in range(6)]
    whole = ExemplarDetail(bank, model_size=16, weighted=False)
    expected = [whole.apply(0, f, lm) for f, lm in zip(faces, layouts, strict=True)]
    first = ExemplarDetail(bank, model_size=16, weighted=False)
    got = [first.apply(0, f, lm) for f, lm in zip(faces[:3], layouts[:3], strict=True)]
    state = json.loads(json.dumps(first.to_json()))  # as the checkpoint stores it
    resumed = ExemplarDetail(bank, model_size=16, weighted=False)
    resumed.load_json(state)
    got += [resumed.apply(0, f, lm) for f, lm in zip(faces[3:], layouts[3:], strict=True)]
    assert all(np.array_equal(a, b) for a, b in zip(expected, got, strict=True))
    fresh = ExemplarDetail(bank, model_size=16, weighted=False)
    assert not np.array_equal(fresh.apply(0, faces[3], layouts[3]), expected[3])  # the state matters


def test_a_warp_between_pixels_keeps_the_fine_grain_it_lends() -> None:
    """The exemplar is sampled between its pixels wherever the layouts differ by a fraction of a pixel;
    bilinear sampling halves the finest grain there (measured 0.49 of it kept at half a pixel), bicubic keeps
    most of it (0.72)."""
    size = 96
    base = _grid_points(size)
    rng = np.random.default_rng(5)
    blobs = cv2.GaussianBlur(rng.normal(0, 1, (size, size)).astype(np.float32), (0, 0), 6.0)
    features = 40 * blobs / blobs.std()  # coarse features the model draws too, so the detail is lent
    grain = np.clip(128 + features[..., None] + rng.normal(0, 30, (size, size, 3)), 0, 255).astype(np.uint8)
    bank = ExemplarBank(
        np.stack([grain, grain]),
        np.full((2, size, size), 255, np.uint8),
        np.stack([base, base + 1.0]).astype(np.float32),  # their mean layout is half a pixel off either
        triangulate(base, size),
    )
    smeared = cv2.GaussianBlur(grain, (0, 0), 4.0)  # the model draws the coarse features only
    out = ExemplarDetail(bank, model_size=size // 4, weighted=False).apply(0, smeared, base)
    inner = (slice(30, 66), slice(30, 66))

    def band(img: np.ndarray) -> float:
        f = img.astype(np.float32)
        return float((f - cv2.GaussianBlur(f, (0, 0), 4.0))[inner].std())

    assert band(out) > 0.65 * band(grain)


def test_where_the_source_was_never_seen_the_target_stays(tmp_path: Path) -> None:
    """A fringe over the same part of the forehead in every training face: the decoder never learned that
    part (covers are out of the loss), so the swap keeps the target's own pixels there, and only there."""
    from facecraft.face.parse import LABEL_INDEX
    from facecraft.swap.compose import Compositor, TargetFace
    from facecraft.swap.config import SwapConfig
    from facecraft.train.exemplars import seen_map
    from tests.test_swap_compose import _landmarks

    size = 256
    labels = []
    for i in range(10):
        lab = np.full((size, size), LABEL_INDEX["skin"], np.uint8)
        lab[40:110, 60:130] = LABEL_INDEX["hair"]  # the fringe, in every face
        if i < 3:
            lab[170:180, 60:200] = LABEL_INDEX["hair"]  # a strand in a few faces only
        lab[120:128, 70:190] = LABEL_INDEX["eyeglasses"]  # glasses are learned (frames painted out)
        labels.append(lab)
    seen = seen_map(labels)
    assert seen[60, 90] == 0 and seen[175, 100] == round(255 * 0.7) and seen[124, 100] == 255

    pts = _grid_points(size)
    save_bank(
        tmp_path,
        "A",
        np.zeros((1, size, size, 3), np.uint8),
        np.zeros((1, size, size), np.uint8),
        pts[None],
        seen,
    )
    bank = load_bank(tmp_path, "A")
    assert bank is not None and bank.seen is not None and np.array_equal(bank.seen, seen)
    save_bank(
        tmp_path, "B", np.zeros((1, size, size, 3), np.uint8), np.zeros((1, size, size), np.uint8), pts[None]
    )
    old = load_bank(tmp_path, "B")
    assert old is not None and old.seen is None  # a model trained before: everything counts as seen

    target = TargetFace(0, np.eye(2, 3), np.full((size, size, 3), 128, np.uint8), _landmarks())
    config = SwapConfig(mask="landmarks")
    plain = Compositor(config).face_mask(target, None)
    cut = Compositor(config, seen=bank.seen).face_mask(target, None)
    assert plain[90, 100] > 0.99 and cut[90, 100] < 0.01  # the fringe's place: the target's own
    assert np.allclose(
        cut[140:210, 100:160], plain[140:210, 100:160], atol=1e-3
    )  # the strand too  # elsewhere unchanged
    assert np.allclose(cut[124, 140:170], plain[124, 140:170], atol=1e-3)


def test_a_feature_the_model_drew_elsewhere_is_not_lent_a_second_time() -> None:
    """The model drew a (blurred) eye; the exemplar has it sharp, either in the same place or 14 px away
    (glasses frames the parser missed, an eye the model placed differently): in place its detail is lent,
    away it is not, so no second, sharp eye appears beside the model's."""
    size = 128
    base = _grid_points(size)

    def eye(x: int) -> np.ndarray:
        img = np.full((size, size, 3), 170, np.uint8)
        cv2.ellipse(img, (x, 64), (12, 6), 0, 0, 360, (40, 40, 40), -1)
        cv2.circle(img, (x, 64), 4, (10, 10, 10), -1)
        return img

    model_face = cv2.GaussianBlur(eye(50), (0, 0), 4.0)
    sharp_eye = (slice(54, 75), slice(36, 65))  # around the model's eye

    def lent_from(exemplar: np.ndarray) -> np.ndarray:
        bank = ExemplarBank(
            exemplar[None], np.full((1, size, size), 255, np.uint8), base[None], triangulate(base, size)
        )
        return ExemplarDetail(bank, model_size=size // 4, weighted=False).apply(0, model_face, base)

    def fine(img: np.ndarray, box: tuple[slice, slice]) -> float:
        f = img.astype(np.float32)
        return float(np.abs(f - cv2.GaussianBlur(f, (0, 0), 4.0))[box].mean())

    in_place = lent_from(eye(50))
    assert fine(in_place, sharp_eye) > 3 * fine(model_face, sharp_eye)  # the eye's own detail is lent
    elsewhere = lent_from(eye(78))
    second_eye = (slice(54, 75), slice(64, 93))
    assert fine(elsewhere, second_eye) < 1.5 * fine(model_face, second_eye) + 0.5  # no second eye
