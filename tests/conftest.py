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
