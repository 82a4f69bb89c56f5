"""Architectures: every shipped preset loads and builds; bad settings are clear errors."""

from __future__ import annotations

import pytest
import torch

from facecraft.errors import FacecraftError
from facecraft.train.models import build_model, list_architectures, load_preset, make_config


def test_registry_has_the_four_architectures():
    assert set(list_architectures()) >= {"lite", "original", "standard", "hd"}


@pytest.mark.parametrize("name", ["lite", "lite128", "original", "standard", "hd"])
def test_every_preset_loads_builds_and_draws_rgb_plus_mask(name):
    preset = load_preset(name)
    assert preset.model.size == {"lite": 64, "lite128": 128, "original": 64, "standard": 128, "hd": 256}[name]
    assert preset.train["batch"] >= 1 and 0 < preset.train["learning_rate"] < 1
    net = build_model(name, preset.model, ["A", "B"])
    s = preset.model.size
    with torch.no_grad():
        out = net([torch.rand(1, 3, s, s), torch.rand(1, 3, s, s)])
    assert [o.shape for o in out] == [(1, 4, s, s)] * 2
    assert all(float(o.min()) >= 0 and float(o.max()) <= 1 for o in out)


def test_size_override_changes_the_model_size():
    preset = load_preset("lite", size=128)
    net = build_model("lite", preset.model, ["A", "B", "C"])
    assert net.identities == ["A", "B", "C"]
    with torch.no_grad():
        assert net.convert(torch.rand(2, 3, 128, 128), "C").shape == (2, 4, 128, 128)


def test_bad_model_settings_are_user_errors():
    with pytest.raises(FacecraftError, match="multiple of 16"):
        load_preset("lite", size=72)
    with pytest.raises(FacecraftError, match="unknown setting"):
        make_config("lite", {"widht": 3})
    with pytest.raises(FacecraftError, match="unknown model"):
        load_preset("huge")
    with pytest.raises(FacecraftError, match="unique"):
        build_model("lite", load_preset("lite").model, ["A", "A"])
