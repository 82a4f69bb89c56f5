"""Shared fixtures: the real test media in ../shared/data (skipped where a clone has none)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("GLOG_minloglevel", "2")

SHARED = Path(
    os.environ.get("FACECRAFT_TEST_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data")
)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder with images/, videos/ and portraits/ (see its MANIFEST.csv)."""
    if not (SHARED / "MANIFEST.csv").is_file():
        message = f"test media not found at {SHARED} (set FACECRAFT_TEST_DATA)"
        if os.environ.get("FACECRAFT_REQUIRE_DATA"):
            pytest.fail(message)  # CI must never pass by skipping every real-media test
        pytest.skip(message)
    return SHARED


@pytest.fixture(autouse=True, scope="session")
def _private_config_folder(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Signing keys made by labelled outputs go to a temporary folder, never the user's ~/.config."""
    os.environ["FACECRAFT_CONFIG_DIR"] = str(tmp_path_factory.mktemp("facecraft-config"))


@pytest.fixture(autouse=True)
def _parser_off_in_fast_tests(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The face parser costs ~0.3-1 s per face on 2 cores: fast tests run the stages without it (the
    documented FACECRAFT_NO_PARSER=1 path), except tests marked ``parser``; slow tests run the default."""
    marks = {m.name for m in request.node.iter_markers()}
    if "parser" not in marks and "slow" not in marks:
        monkeypatch.setenv("FACECRAFT_NO_PARSER", "1")
