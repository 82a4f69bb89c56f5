"""CUDA-path fixes that a CPU can check: compile time outside the budget, facesets that do not fit,
one host-to-device copy of the augmentation parameters."""

from __future__ import annotations

import functools

import pytest
import torch
from train_fixtures import facesets  # noqa: F401

from facecraft.errors import FacecraftError
from facecraft.train import train
from facecraft.train.augment import AugmentConfig, augment, draw_params, params_to
from facecraft.train.callbacks import StopWhen
from facecraft.train.data import IdentityData, load_identity
from facecraft.train.distributed import DistInfo
from facecraft.train.models import build_model, make_config
from facecraft.train.testing import TINY_LITE, tiny_config
from facecraft.train.trainer import Trainer


def _trainer(facesets, compile: bool) -> Trainer:  # type: ignore[no-untyped-def]  # noqa: F811
    data = [load_identity(n, p, 32) for n, p in facesets.items()]
    torch.manual_seed(0)
    net = build_model("lite", make_config("lite", TINY_LITE), list(facesets))
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    config = tiny_config(steps=3, compile=compile)
    return Trainer(net, opt, data, config, 4, torch.device("cpu"), DistInfo(), [StopWhen(3, 0, 0)])


def test_compiling_happens_before_the_clock_and_learns_nothing(facesets, monkeypatch):  # noqa: F811
    # the eager backend traces like inductor but needs no C++ compiler and keeps the numbers exact
    monkeypatch.setattr(torch, "compile", functools.partial(torch.compile, backend="eager"))
    plain, compiled = _trainer(facesets, compile=False), _trainer(facesets, compile=True)
    plain.run()
    compiled.run()
    assert plain.state.compile_seconds == 0 and compiled.state.compile_seconds > 0
    assert compiled.state.step == 3 and compiled.state.run_images == plain.state.run_images
    for (name, a), b in zip(plain.net.state_dict().items(), compiled.net.state_dict().values(), strict=True):
        assert torch.allclose(a, b, atol=1e-6), name  # the compile warm-up step was undone


def test_facesets_that_do_not_fit_on_the_device_are_a_clear_error(facesets, tmp_path, monkeypatch):  # noqa: F811
    def out_of_memory(self: IdentityData, device: torch.device) -> IdentityData:
        raise torch.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(IdentityData, "to", out_of_memory)
    with pytest.raises(FacecraftError, match="do not fit in the memory"):
        train(facesets, tmp_path / "m", tiny_config(steps=1), progress=False)


def test_augmentation_parameters_travel_in_one_copy_and_keep_their_values() -> None:
    p = draw_params(6, AugmentConfig(), seed=3, step=7, stream=1)
    moved = params_to(p, torch.device("meta"))  # any non-CPU device takes the packed path
    assert list(moved) == list(p)
    assert all(moved[k].shape == p[k].shape and moved[k].device.type == "meta" for k in p)
    storages = {moved[k].untyped_storage().data_ptr() for k in p}
    assert len(storages) == 1  # views of one tensor: one host-to-device copy
    assert params_to(p, torch.device("cpu")) is p
    images = torch.randint(0, 256, (6, 3, 32, 32), dtype=torch.uint8)
    masks = torch.randint(0, 256, (6, 2, 32, 32), dtype=torch.uint8)
    a = augment(images, masks, p)
    b = augment(images, masks, p)
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))  # cached colour constants change nothing
