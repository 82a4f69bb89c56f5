"""``swap`` with a real (tiny, barely trained) model folder: the train stage's FaceModel end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from facecraft.errors import FacecraftError
from facecraft.extract import ExtractConfig, extract
from facecraft.media.video import probe
from facecraft.swap import SwapConfig, swap
from facecraft.train.testing import tiny_model as train_tiny_model

MAN = "videos/man_grey_backdrop_7s_audio.mp4"
WOMAN = "videos/woman_glasses_talking_5s_audio.mp4"


@pytest.fixture(scope="module")
def tiny_model(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tiny")
    extract([shared_data / MAN], root / "A", ExtractConfig(size=128, every=10), progress=False)
    extract([shared_data / WOMAN], root / "B", ExtractConfig(size=128, every=6), progress=False)
    return train_tiny_model(root, root / "A", root / "B", steps=2)


def test_swap_with_a_trained_model_folder(shared_data: Path, tmp_path: Path, tiny_model: Path) -> None:
    src = shared_data / WOMAN
    out = tmp_path / "out.mp4"
    report = swap(src, tiny_model, out, SwapConfig(to="A", start=0.4, end=1.4, mask="both"), progress=False)
    info, orig = probe(out), probe(src)
    assert (info.width, info.height, info.fps, info.frame_count) == (orig.width, orig.height, orig.fps, 25)
    assert info.has_audio and report.faces_swapped == 25
    with pytest.raises(FacecraftError, match="no identity 'C'"):
        swap(src, tiny_model, tmp_path / "c.mp4", SwapConfig(to="C"), progress=False)
    with pytest.raises(FacecraftError):
        swap(src, tmp_path / "not_a_model", tmp_path / "d.mp4", progress=False)
