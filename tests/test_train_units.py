"""Pure parts of training: data order, augmentation, losses, checkpoint files."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from facecraft.errors import FacecraftError
from facecraft.train.augment import AugmentConfig, augment, draw_params, lab_to_rgb, rgb_to_lab
from facecraft.train.checkpoint import list_checkpoints, load_latest, read_checkpoint, save_checkpoint
from facecraft.train.data import IdentityData, batch_positions, check_compatible
from facecraft.train.losses import LossConfig, loss_weights, masked_ssim, reconstruction_loss


def test_data_order_is_a_permutation_per_epoch_and_a_function_of_the_step():
    n, batch = 10, 4
    seen = np.concatenate([batch_positions(n, batch, s, seed=3, stream=0) for s in range(5)])
    assert sorted(seen[:10]) == list(range(10)) and sorted(seen[10:20]) == list(range(10))
    assert np.array_equal(batch_positions(n, batch, 2, 3, 0), seen[8:12])
    assert not np.array_equal(batch_positions(n, batch, 2, 3, 1), seen[8:12])  # other identity, other order


def test_lab_round_trip():
    x = torch.rand(2, 3, 8, 8)
    assert torch.allclose(lab_to_rgb(rgb_to_lab(x)), x, atol=1e-4)
    white = rgb_to_lab(torch.ones(1, 3, 1, 1)).flatten()
    assert torch.allclose(white, torch.tensor([100.0, 0.0, 0.0]), atol=0.05)


def test_augmentation_with_zero_strength_is_identity_and_warp_moves_pixels():
    images = torch.randint(0, 256, (3, 3, 32, 32), dtype=torch.uint8)
    masks = torch.randint(0, 2, (3, 2, 32, 32), dtype=torch.uint8) * 255
    none = AugmentConfig(rotate_deg=0, zoom=0, shift=0, flip=0, warp=0, lab_lightness=0, lab_colour=0)
    warped, target, tmask = augment(images, masks, draw_params(3, none, 0, 0, 0))
    assert torch.allclose(target, images.float() / 255, atol=1e-4)
    assert torch.allclose(warped, target, atol=1e-4)
    assert torch.allclose(tmask, masks.float() / 255, atol=1e-4)
    warped, target, _ = augment(images, masks, draw_params(3, AugmentConfig(), 0, 7, 0))
    assert (warped - target).abs().mean() > 0.01
    assert torch.equal(
        draw_params(3, AugmentConfig(), 0, 7, 0)["warp"], draw_params(3, AugmentConfig(), 0, 7, 0)["warp"]
    )


def test_flip_mirrors_the_face():
    images = torch.zeros(1, 3, 16, 16, dtype=torch.uint8)
    images[..., :4] = 255
    flip = AugmentConfig(rotate_deg=0, zoom=0, shift=0, flip=1, warp=0, lab_lightness=0, lab_colour=0)
    _, target, _ = augment(
        images, torch.zeros(1, 2, 16, 16, dtype=torch.uint8), draw_params(1, flip, 0, 0, 0)
    )
    assert target[0, 0, 8, -1] > 0.99 and target[0, 0, 8, 0] < 0.01


def test_loss_is_zero_for_a_perfect_drawing_and_weights_eyes_and_mouth_up():
    target = torch.rand(2, 3, 32, 32)
    masks = torch.zeros(2, 2, 32, 32)
    masks[:, 0, 4:28, 4:28] = 1
    masks[:, 1, 10:14, 10:14] = 1
    pred = torch.cat([target, masks[:, :1]], 1)
    loss, _ = reconstruction_loss(pred, target, masks, LossConfig())
    assert float(loss) < 1e-5
    w = loss_weights(masks, LossConfig(eyes_mouth=3, background=0.1))
    assert float(w[0, 0, 12, 12]) == pytest.approx(3) and float(w[0, 0, 20, 20]) == 1
    assert float(w[0, 0, 0, 0]) == pytest.approx(0.1)
    face = masks[:, :1]
    assert torch.allclose(masked_ssim(target, target, face), torch.ones(2))
    assert float(masked_ssim(torch.rand(2, 3, 32, 32), target, face).mean()) < 0.2


def _ident(name, size, coverage):
    e = torch.zeros(0, dtype=torch.int64)
    return IdentityData(name, torch.zeros(0, 3, 8, 8), torch.zeros(0, 2, 8, 8), e, e, coverage, size, "x")


def test_facesets_must_share_size_and_coverage():
    assert check_compatible([_ident("A", 64, "face"), _ident("B", 64, "face")]) == (64, "face")
    with pytest.raises(FacecraftError, match="different sizes"):
        check_compatible([_ident("A", 64, "face"), _ident("B", 128, "face")])
    with pytest.raises(FacecraftError, match="different coverage"):
        check_compatible([_ident("A", 64, "face"), _ident("B", 64, "head")])


def _save(root, step, best_step=None, keep=10):
    w = {"w": torch.full((4,), float(step))}
    best = {"step": best_step, "val_ssim": 0.5} if best_step is not None else {}
    return save_checkpoint(
        root, step, w, {"optim.0.exp_avg": torch.ones(2)}, {"best": best, "optimizer": {}}, keep
    )


def test_checkpoints_round_trip_keep_last_k_plus_best(tmp_path):
    for step in (1, 2, 3, 4, 5):
        _save(tmp_path, step, best_step=2, keep=2)
    assert [s for s, _ in list_checkpoints(tmp_path)] == [2, 4, 5]
    ck, warnings = load_latest(tmp_path)
    assert ck is not None and ck.step == 5 and not warnings
    assert torch.equal(ck.weights["w"], torch.full((4,), 5.0))
    assert torch.equal(ck.tensors["optim.0.exp_avg"], torch.ones(2))
    best, _ = load_latest(tmp_path, prefer_best=True)
    assert best is not None and best.step == 2


def test_corrupt_checkpoint_falls_back_to_the_previous_one_and_says_so(tmp_path):
    _save(tmp_path, 1)
    last = _save(tmp_path, 2)
    data = (last / "weights.safetensors").read_bytes()
    (last / "weights.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(FacecraftError, match="corrupt"):
        read_checkpoint(last)
    ck, warnings = load_latest(tmp_path)
    assert ck is not None and ck.step == 1
    assert len(warnings) == 1 and "step-000000002" in warnings[0] and "falling back" in warnings[0]
    (tmp_path / "checkpoints" / "step-000000001" / "state.json").write_text("{not json")
    with pytest.raises(FacecraftError, match="every checkpoint"):
        load_latest(tmp_path)


def test_half_written_checkpoint_folder_is_ignored(tmp_path):
    _save(tmp_path, 1)
    partial = tmp_path / "checkpoints" / ".tmp-step-000000002-123"
    partial.mkdir()
    (partial / "weights.safetensors").write_bytes(b"\0" * 10)
    ck, warnings = load_latest(tmp_path)
    assert ck is not None and ck.step == 1 and not warnings
    state = json.loads((tmp_path / "checkpoints" / "step-000000001" / "state.json").read_text())
    assert set(state["files"]) == {"weights.safetensors", "optimizer.safetensors"}


def test_largest_batch_doubles_until_out_of_memory():
    from facecraft.train.autobatch import largest_batch

    tried = []

    def fits(batch):
        tried.append(batch)
        return batch <= 48

    assert largest_batch(fits, 8, 1024) == 32 and tried == [8, 16, 32, 64]
    assert largest_batch(lambda b: True, 8, 100) == 64
    with pytest.raises(FacecraftError, match="out of memory even at --batch 8"):
        largest_batch(lambda b: False, 8, 1024)
