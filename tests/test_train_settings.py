"""Every typed training setting reachable by name, from presets and the CLI's --set."""

from __future__ import annotations

from pathlib import Path

import pytest

from facecraft.errors import FacecraftError
from facecraft.train.config import TrainConfig
from facecraft.train.settings import apply_settings, parse_assignments, settable


def test_nested_settings_are_set_by_name_with_their_types() -> None:
    config = apply_settings(TrainConfig(), {"augment.rotate_deg": 5, "loss.identity": 0, "seed": 7})
    assert config.augment.rotate_deg == 5.0 and isinstance(config.augment.rotate_deg, float)
    assert config.loss.identity == 0.0 and config.seed == 7
    assert TrainConfig().augment.rotate_deg != 5.0  # the default is untouched
    nested = apply_settings(TrainConfig(), {"augment": {"warp": 0.03, "flip": 0.0}})  # a preset's shape
    assert nested.augment.warp == 0.03 and nested.augment.flip == 0.0


def test_every_setting_round_trips_through_its_own_default() -> None:
    base = TrainConfig()
    names = settable(base)
    assert {"augment.rotate_deg", "loss.identity", "val_fraction", "batch"} <= set(names)
    for name in names:
        value = base
        for part in name.split("."):
            value = getattr(value, part)
        assert apply_settings(base, {name: value}) == base, name


def test_mistakes_are_one_line_errors() -> None:
    with pytest.raises(FacecraftError, match=r"unknown setting 'augment\.rotate'.*augment\.rotate_deg"):
        apply_settings(TrainConfig(), {"augment.rotate": 5})
    with pytest.raises(FacecraftError, match="unknown setting 'device'"):
        apply_settings(TrainConfig(), {"device": "cuda"})  # has its own option
    with pytest.raises(FacecraftError, match=r"loss\.identity must be float"):
        apply_settings(TrainConfig(), {"loss.identity": "high"})
    with pytest.raises(FacecraftError, match="must not be negative"):  # the dataclass's own validation
        apply_settings(TrainConfig(), {"loss.l1": -1})
    with pytest.raises(FacecraftError, match="group of settings"):
        apply_settings(TrainConfig(), {"augment": 3})
    with pytest.raises(FacecraftError, match="KEY=VALUE"):
        parse_assignments(["augment.warp"])


def test_preset_values_yield_to_the_callers() -> None:
    mine = apply_settings(TrainConfig(), {"augment.warp": 0.05})
    preset = {"augment": {"warp": 0.03, "zoom": 0.1}}
    merged = apply_settings(mine, preset, only_defaults=True)
    assert merged.augment.warp == 0.05 and merged.augment.zoom == 0.1


def test_cli_set_reaches_the_config_and_refuses_unknown_names(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from facecraft.cli.main import main

    assert parse_assignments(["augment.warp=0.03", "compile=true", "batch=null"]) == {
        "augment.warp": 0.03,
        "compile": True,
        "batch": None,
    }
    code = main(
        [
            "train",
            "--a",
            str(tmp_path / "a"),
            "--b",
            str(tmp_path / "b"),
            "-o",
            str(tmp_path / "m"),
            "--set",
            "augment.spin=3",
        ]
    )
    assert code == 2 and "unknown setting 'augment.spin'" in capsys.readouterr().err
