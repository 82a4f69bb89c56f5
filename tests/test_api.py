"""The verb-first Python API: ``facecraft.extract(...)`` and the other verbs stay callable."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import facecraft
from facecraft.errors import FacecraftError

VERBS = ["extract", "train", "swap", "animate", "verify", "evaluate"]
# verbs defined in a sub-package of the same name (facecraft/extract/ defines extract)
SAME_NAME_PACKAGES = ["extract", "train", "swap", "animate", "evaluate"]


def _bad_call(verb: str, tmp: Path) -> Callable[[], Any]:
    """A call of ``verb`` on a missing input: it must raise FacecraftError before any real work."""
    missing = tmp / "missing.mp4"
    calls: dict[str, Callable[[], Any]] = {
        "extract": lambda: facecraft.extract([missing], tmp / "faces", progress=False),
        "train": lambda: facecraft.train(
            {"A": tmp / "no_a", "B": tmp / "no_b"}, tmp / "model", progress=False
        ),
        "swap": lambda: facecraft.swap(missing, tmp / "no_model", tmp / "out.mp4", progress=False),
        "animate": lambda: facecraft.animate(tmp / "missing.jpg", output=tmp / "out.mp4", performance="talk"),
        "verify": lambda: facecraft.verify(missing),
        "evaluate": lambda: facecraft.evaluate(missing, missing, tmp / "no_faces", progress=False),
    }
    return calls[verb]


@pytest.mark.parametrize("verb", VERBS)
def test_every_verb_can_be_called_twice(verb: str, tmp_path: Path) -> None:
    for _ in range(2):
        with pytest.raises(FacecraftError):
            _bad_call(verb, tmp_path)()
    assert callable(getattr(facecraft, verb))
    assert "progress" in inspect.signature(getattr(facecraft, verb)).parameters or verb == "verify"


@pytest.mark.parametrize("verb", SAME_NAME_PACKAGES)
def test_a_verb_is_also_its_package(verb: str) -> None:
    package = importlib.import_module(f"facecraft.{verb}")
    assert getattr(facecraft, verb) is package  # so every import of the package keeps working
    function = getattr(package, verb)
    assert inspect.signature(package) == inspect.signature(function)


def test_fresh_interpreter_importing_sub_packages_first() -> None:
    code = (
        "import facecraft.extract.run, facecraft.evaluate.run, facecraft.swap.config\n"
        "import facecraft.train.run as run\n"
        "import facecraft\n"
        "from facecraft.extract import ExtractConfig\n"
        "assert run.__name__ == 'facecraft.train.run'\n"
        "for verb in ('extract', 'swap', 'evaluate', 'train', 'extract'):\n"
        "    assert callable(getattr(facecraft, verb)), verb\n"
        "try:\n"
        "    facecraft.extract(['missing.mp4'], 'out', progress=False)\n"
        "except facecraft.FacecraftError:\n"
        "    print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
