"""``evaluate``: metric functions with known answers, and on real swaps against copies of the original."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from swap_standin import PasteModel, TintModel

from facecraft.errors import FacecraftError
from facecraft.evaluate import evaluate, metrics
from facecraft.evaluate.pairs import pair_boxes
from facecraft.extract import ExtractConfig, extract
from facecraft.faceset import Faceset
from facecraft.swap import SwapConfig, swap

OBAMA = ["images/obama_1_portrait.jpg", "images/obama_2_podium.jpg", "images/obama_3_pressroom.jpg"]
BIDEN = "images/biden_2_portrait.jpg"
WOMAN = "videos/woman_glasses_talking_5s_audio.mp4"


@pytest.fixture(scope="module")
def obama_faceset(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fs") / "obama"
    extract([shared_data / p for p in OBAMA], out, ExtractConfig(size=128), progress=False)
    return out


@pytest.fixture(scope="module")
def paste_model(obama_faceset: Path) -> PasteModel:
    with Faceset.open(obama_faceset) as fs:
        return PasteModel(fs.load_image(fs.faces()[0]))


def test_metric_functions_known_answers() -> None:
    rng = np.random.default_rng(1)
    lm = rng.uniform(100, 200, (478, 3))
    assert metrics.landmark_error(lm, lm) == 0.0
    shifted = lm.copy()
    shifted[:, 0] += 5.0
    assert metrics.landmark_error(lm, shifted) == pytest.approx(5.0 / metrics.face_size(lm))
    assert metrics.landmark_error(lm, shifted * 1.1) == pytest.approx(
        metrics.landmark_error(shifted * 1.1, lm)
    )
    assert metrics.pose_error((10, 0, 179), (-10, 0, -179)) == pytest.approx((20 + 0 + 2) / 3)
    frame = rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)
    mask = np.ones((64, 64), bool)
    assert metrics.flicker_excess(frame, frame, frame, frame, mask) == 0.0
    brighter = np.clip(frame.astype(int) + 10, 0, 255).astype(np.uint8)
    assert metrics.temporal_change(frame, brighter, mask) > 5
    assert metrics.flicker_excess(frame, frame, frame, brighter, mask) > 5
    assert metrics.seam_visibility(frame, frame, (16, 16, 32, 32)) is None  # nothing replaced, no seam


def test_seam_visibility_sees_a_hard_edge() -> None:
    flat = np.full((200, 200, 3), 120, np.uint8)
    hard = flat.copy()
    hard[60:140, 60:140] = 170  # a pasted square with a visible border
    soft = flat.copy()
    yy, xx = np.mgrid[:200, :200]
    dist = np.minimum.reduce([xx - 50, 149 - xx, yy - 50, 149 - yy]).clip(0, 30) / 30.0
    soft[:] = (120 + 50 * dist[..., None]).astype(np.uint8)  # the same change, feathered over 30 px
    box = (60.0, 60.0, 80.0, 80.0)
    hard_seam, soft_seam = metrics.seam_visibility(flat, hard, box), metrics.seam_visibility(flat, soft, box)
    assert hard_seam is not None and soft_seam is not None and hard_seam > 3 * soft_seam


def test_replaced_sharpness_leaves_out_what_the_swap_kept() -> None:
    """A swap that keeps the target's sharp glasses frames and draws the rest soft: the box ratio is flattered
    by the frames, the replaced-pixels ratio is not."""
    import cv2

    rng = np.random.default_rng(3)
    original = np.clip(128 + rng.normal(0, 25, (120, 120)), 0, 255).astype(np.uint8)
    original = cv2.cvtColor(original, cv2.COLOR_GRAY2BGR)
    swapped = cv2.GaussianBlur(original, (0, 0), 2.0)
    swapped = np.clip(swapped.astype(int) + 30, 0, 255).astype(np.uint8)  # another, softer face
    frames = np.zeros((120, 120), bool)
    for r in (12, 22, 32):  # three 4 px rings kept from the target, a quarter of the box
        ring = np.zeros((120, 120), np.uint8)
        cv2.circle(ring, (60, 60), r * 1 + 10, 1, 4)
        frames |= ring > 0
    swapped[frames] = original[frames]
    box = (10, 10, 110, 110)
    whole = metrics.sharpness(swapped, box) / metrics.sharpness(original, box)
    both = metrics.replaced_sharpness(original, swapped, box)
    assert both is not None
    assert both[1] / both[0] < 0.5 * whole  # the kept ring no longer counts
    assert metrics.replaced_sharpness(original, original.copy(), box) is None  # nothing replaced


def test_pair_boxes_merge_overlaps_symmetrically() -> None:
    a = [(10.0, 10.0, 50.0, 50.0), (200.0, 10.0, 30.0, 30.0)]
    b = [(12.0, 11.0, 50.0, 52.0)]
    assert pair_boxes(a, b) == pair_boxes(b, a)
    assert len(pair_boxes(a, b)) == 2


def test_real_swap_ranks_above_a_copy_and_is_symmetric(
    shared_data: Path, tmp_path: Path, obama_faceset: Path, paste_model: PasteModel
) -> None:
    original = shared_data / BIDEN
    swapped = tmp_path / "swapped.png"
    swap(original, paste_model, swapped, SwapConfig(), progress=False)
    real = evaluate(original, swapped, obama_faceset, progress=False)
    copy = evaluate(original, original, obama_faceset, progress=False)
    r, c = real.summary(), copy.summary()
    assert r["identity_to_source"] > c["identity_to_source"] + 0.1
    assert r["identity_to_original"] < c["identity_to_original"] - 0.1
    assert c["identity_to_original"] == pytest.approx(1.0, abs=1e-4) and c["landmark_error"] == 0.0
    assert c["frames_changed"] == 0 and r["frames_changed"] == 1
    back = evaluate(swapped, original, obama_faceset, progress=False).summary()
    for key in ("identity_to_original", "landmark_error", "pose_error_deg", "expression_error"):
        assert back[key] == pytest.approx(r[key], abs=1e-6), key
    assert back["identity_to_source"] == pytest.approx(r["original_to_source"], abs=1e-6)


def test_video_flicker_and_copy(shared_data: Path, tmp_path: Path, obama_faceset: Path) -> None:
    original = tmp_path / "orig.mp4"
    swap(shared_data / WOMAN, TintModel(), original, SwapConfig(end=0.6, track=99), progress=False)  # a copy
    swapped = tmp_path / "tint.mp4"
    swap(original, TintModel(), swapped, SwapConfig(color="none"), progress=False)
    same = evaluate(original, original, obama_faceset, progress=False).summary()
    assert same["flicker_excess"] == 0.0 and same["flicker_ratio"] == pytest.approx(1.0)
    assert same["frames"] == 15 and same["frames_with_face"] == 15
    report = evaluate(original, swapped, obama_faceset, progress=False)
    s = report.to_json()["summary"]
    assert s["frames_changed"] == 15 and s["landmark_error"] < 0.05  # the tint keeps the face where it was
    assert len(report.to_json()["frames"]) == 15


def test_bad_input(shared_data: Path, tmp_path: Path, obama_faceset: Path) -> None:
    with pytest.raises(FacecraftError, match="does not exist"):
        evaluate(tmp_path / "x.png", shared_data / BIDEN, obama_faceset, progress=False)
    with pytest.raises(FacecraftError, match="must match"):
        evaluate(shared_data / BIDEN, shared_data / OBAMA[0], obama_faceset, progress=False)
    with pytest.raises(FacecraftError, match="not a faceset"):
        evaluate(shared_data / BIDEN, shared_data / BIDEN, tmp_path, progress=False)
    with pytest.raises(FacecraftError, match="video with a video"):
        evaluate(shared_data / BIDEN, shared_data / WOMAN, obama_faceset, progress=False)
