"""``facecraft train``: the options and ``--set`` reach TrainConfig; every default is the dataclass's."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

import facecraft.train
from facecraft.cli.main import main
from facecraft.errors import FacecraftError
from facecraft.train import TrainConfig
from facecraft.train.models import list_architectures, load_preset
from facecraft.train.settings import apply_settings


def _train_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *extra: str) -> TrainConfig:
    """The TrainConfig ``facecraft train`` builds from ``extra`` (the training itself is replaced)."""
    seen: list[TrainConfig] = []

    def fake_train(faces, output, config, progress=True):  # type: ignore[no-untyped-def]
        seen.append(config)
        raise FacecraftError("stopped before training")

    monkeypatch.setattr(facecraft.train, "train", fake_train)
    args = [
        "train",
        "--a",
        str(tmp_path / "a"),
        "--b",
        str(tmp_path / "b"),
        "-o",
        str(tmp_path / "m"),
        *extra,
    ]
    assert main(args) == 2
    assert seen, "train was not reached"
    return seen[0]


def test_no_options_means_the_dataclass_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _train_config(tmp_path, monkeypatch) == TrainConfig()


def test_options_and_set_reach_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = _train_config(
        tmp_path,
        monkeypatch,
        "--keep",
        "5",
        "--compile",
        "--set",
        "loss.identity=0.5",
        "--set",
        "augment.flip=0",
    )
    expected = dataclasses.replace(
        TrainConfig(keep=5, compile=True),
        loss=dataclasses.replace(TrainConfig().loss, identity=0.5),
        augment=dataclasses.replace(TrainConfig().augment, flip=0.0),
    )
    assert config == expected


@pytest.mark.parametrize(
    ("setting", "says"),
    [
        ("loss.identiti=0.5", "unknown setting 'loss.identiti'; settings are: "),
        ("augment.flip=false", "augment.flip must be float, got False"),
        ("loss.identity=high", "loss.identity must be float"),
        ("loss.l1=-1", "must not be negative"),
        ("loss.identity_aim=mirror", "loss.identity_aim must be faceset or training"),
    ],
)
def test_a_bad_set_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setting: str, says: str
) -> None:
    args = ["train", "--a", str(tmp_path / "a"), "--b", str(tmp_path / "b"), "-o", str(tmp_path / "m")]
    assert main([*args, "--set", setting]) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1 and "Traceback" not in err
    if "unknown" in says:  # the valid names are listed, read off the dataclasses (new fields included)
        for field in dataclasses.fields(TrainConfig().loss):
            assert f"loss.{field.name}" in err


def test_every_preset_train_section_is_valid_settings() -> None:
    """A preset's ``train:`` section (``loss:``/``augment:`` included) goes through the same checks as --set."""
    for name in list_architectures():
        train = dict(load_preset(name, None).train)
        extra = {k: v for k, v in train.items() if k not in ("batch", "learning_rate")}
        apply_settings(TrainConfig(), extra)  # raises FacecraftError for an unknown or mistyped setting
    section = yaml.safe_load("loss:\n  identity: 0.5\naugment:\n  flip: 0.25\n")
    config = apply_settings(TrainConfig(), section, only_defaults=True)
    assert (config.loss.identity, config.augment.flip) == (0.5, 0.25)
