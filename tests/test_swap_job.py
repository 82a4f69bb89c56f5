"""The swap paths take one job object and return what they add to the report; they touch no caller state."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
from swap_standin import TintModel

from facecraft.swap import SwapConfig, SwapReport
from facecraft.swap.images import swap_images
from facecraft.swap.job import SwapJob, SwapOutcome
from facecraft.swap.label import LabelSpec
from facecraft.swap.targets import TargetFinder


def test_a_folder_swap_returns_its_outcome(shared_data: Path, tmp_path: Path) -> None:
    src = tmp_path / "photos"
    src.mkdir()
    shutil.copy(shared_data / "images/obama_1_portrait.jpg", src / "a.jpg")
    shutil.copy(shared_data / "images/no_face_dogs.jpg", src / "b.jpg")
    (src / "c.jpg").write_bytes(b"not a photo")
    config = SwapConfig(color="none")
    finder = TargetFinder(128, "whole_face", config)
    job = SwapJob(
        src, tmp_path / "out", TintModel(), "A", config, finder, LabelSpec([], None, False), progress=False
    )
    try:
        outcome = swap_images(job)
        again = swap_images(job)  # a second run resumes: every readable photo is already there
    finally:
        finder.close()
    assert isinstance(outcome, SwapOutcome)
    assert (outcome.frames, outcome.faces_swapped, outcome.frames_with_faces, outcome.resumed_frames) == (
        2,
        1,
        1,
        0,
    )
    assert outcome.labelled and any("could not be read" in w for w in outcome.warnings)
    assert (again.frames, again.resumed_frames, again.faces_swapped) == (2, 2, 0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        job.preview = True  # type: ignore[misc]


def test_adding_an_outcome_leaves_the_report_alone() -> None:
    report = SwapReport(Path("out.png"), warnings=["weak model"])
    added = report.adding(
        SwapOutcome(frames=3, faces_swapped=2, tracks={1: 2}, warnings=("w",), notes=("n",))
    )
    assert (report.frames, report.faces_swapped, report.tracks, report.warnings) == (0, 0, {}, ["weak model"])
    assert (added.frames, added.faces_swapped, added.tracks) == (3, 2, {1: 2})
    assert added.warnings == ["weak model", "w"] and added.notes == ["n"]
