"""Session fixtures for the train tests: two small real facesets extracted from two shared videos.

Import the fixture into a test module with ``from train_fixtures import facesets  # noqa: F401``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

VIDEOS = {"A": "obama_speaking_8s.mp4", "B": "woman_glasses_talking_5s_audio.mp4"}


@pytest.fixture(scope="session")
def facesets(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """{"A": faceset folder, "B": faceset folder}: 64 px whole_face faces, every 4th frame (~30-65 each)."""
    from facecraft.extract import ExtractConfig, extract

    root = tmp_path_factory.mktemp("train_facesets")
    out = {}
    for name, video in VIDEOS.items():
        out[name] = root / name
        extract([shared_data / "videos" / video], out[name], ExtractConfig(size=64, every=4), progress=False)
    return out
