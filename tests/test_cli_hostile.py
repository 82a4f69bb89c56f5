"""Every command fed hostile input: NaN, infinity, zero, negative and huge numbers, unknown extensions,
outputs that are (or hide) an input. Each must answer with one line on stderr and a non-zero exit, never a
traceback, and leave every input byte-identical. Nothing here loads a model: the checks run first."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from facecraft.cli.main import main

BAD_FLOATS = ("nan", "inf", "-inf", "-1", "1e30")
BAD_INTS = ("nan", "inf", "-1", "1e30", "99999999999999999999", "2.5")


@pytest.fixture(scope="module")
def world(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of inputs: photo, video, consent record, a faceset and a model folder (as their files)."""
    root = tmp_path_factory.mktemp("hostile")
    shutil.copy(shared_data / "images" / "obama_4_small_320x240.jpg", root / "photo.jpg")
    shutil.copy(shared_data / "images" / "biden_2_portrait.jpg", root / "ref.jpg")
    shutil.copy(shared_data / "videos" / "obama_speaking_8s.mp4", root / "video.mp4")
    (root / "consent.txt").write_text("release signed 2026-11-30\n")
    (root / "photos").mkdir()
    shutil.copy(root / "photo.jpg", root / "photos" / "a.jpg")
    for name in ("faces_a", "faces_b"):
        _empty_faceset(root / name)
    (root / "model").mkdir()
    (root / "model" / "model.json").write_text('{"format": "facecraft-face-model"}')
    os.link(root / "photo.jpg", root / "photo_hardlink.jpg")
    (root / "photo_symlink.jpg").symlink_to(root / "photo.jpg")
    return root


def _empty_faceset(path: Path) -> None:
    from facecraft.extract.config import ExtractConfig
    from facecraft.faceset.store import Faceset

    Faceset.create(path, ExtractConfig().faceset_settings()).close()


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse usage errors
        code = exc.code if isinstance(exc.code, int) else 1
    err = capsys.readouterr().err
    return code, err


def _refused(
    argv: list[str], world: Path, capsys: pytest.CaptureFixture[str], expect: str, monkeypatch
) -> None:
    monkeypatch.chdir(world)
    before = _digest(world)
    code, err = _run(argv, capsys)
    assert code != 0, f"accepted: {argv}"
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"{argv}: {err!r}"
    assert "Traceback" not in err and "Error:" not in err.split("error:")[0]
    assert expect in lines[0], f"{argv}: {lines[0]!r}"
    assert _digest(world) == before, f"{argv} changed an input"
    leftovers = [p.name for p in world.iterdir() if p.name.startswith(".") or p.name.startswith("out")]
    assert not leftovers, f"{argv} left {leftovers}"


# ---- class 1: numbers that are not numbers, or out of range ---------------------------------------
# (command line with {} for the value, option name, bad values)
NUMERIC = [
    (["extract", "photo.jpg", "-o", "out", "--size", "{}"], "--size", (*BAD_INTS, "0", "31", "4096")),
    (["extract", "photo.jpg", "-o", "out", "--every", "{}"], "--every", (*BAD_INTS, "0")),
    (["extract", "photo.jpg", "-o", "out", "--max-faces", "{}"], "--max-faces", BAD_INTS),
    (["extract", "photo.jpg", "-o", "out", "--min-score", "{}"], "--min-score", (*BAD_FLOATS, "0", "1.5")),
    (["faceset", "preview", "faces_a", "-o", "out.png", "--max", "{}"], "--max", (*BAD_INTS, "0")),
    (["faceset", "curate", "faces_a", "--keep", "{}"], "--keep", BAD_INTS),
    (["faceset", "curate", "faces_a", "--identity", "{}"], "--identity", BAD_INTS[:-2]),
    (["faceset", "curate", "faces_a", "--min-sharpness", "{}"], "--min-sharpness", BAD_FLOATS[:-1]),
    (["train", "--a", "faces_a", "--b", "faces_b", "-o", "out", "--steps", "{}"], "--steps", BAD_INTS),
    (["train", "--a", "faces_a", "--b", "faces_b", "-o", "out", "--minutes", "{}"], "--minutes", BAD_FLOATS),
    (
        ["train", "--a", "faces_a", "--b", "faces_b", "-o", "out", "--until-ssim", "{}"],
        "--until-ssim",
        (*BAD_FLOATS, "1"),
    ),
    (["train", "--a", "faces_a", "--b", "faces_b", "-o", "out", "--lr", "{}"], "--lr", (*BAD_FLOATS, "0")),
    (
        ["train", "--a", "faces_a", "--b", "faces_b", "-o", "out", "--batch", "{}"],
        "--batch",
        (*BAD_INTS, "0"),
    ),
    (["train", "--a", "faces_a", "--b", "faces_b", "-o", "out", "--size", "{}"], "--size", (*BAD_INTS, "0")),
    (
        ["train", "--a", "faces_a", "--b", "faces_b", "-o", "out", "--save-every", "{}"],
        "--save-every",
        (*BAD_INTS, "0"),
    ),
    (
        ["train", "--a", "faces_a", "--b", "faces_b", "-o", "out", "--validate-every", "{}"],
        "--validate-every",
        (*BAD_INTS, "0"),
    ),
    (
        ["train", "--a", "faces_a", "--b", "faces_b", "-o", "out", "--preview-every", "{}"],
        "--preview-every",
        BAD_INTS,
    ),
    (["train", "--a", "faces_a", "--b", "faces_b", "-o", "out", "--keep", "{}"], "--keep", (*BAD_INTS, "0")),
    (["train", "--a", "faces_a", "--b", "faces_b", "-o", "out", "--seed", "{}"], "--seed", BAD_INTS),
    (["train", "--a", "faces_a", "--b", "faces_b", "-o", "out", "--threads", "{}"], "--threads", BAD_INTS),
    (["swap", "video.mp4", "-m", "model", "-o", "out.mp4", "--start", "{}"], "--start", BAD_FLOATS),
    (["swap", "video.mp4", "-m", "model", "-o", "out.mp4", "--end", "{}"], "--end", (*BAD_FLOATS, "0")),
    (["swap", "video.mp4", "-m", "model", "-o", "out.mp4", "--erode", "{}"], "--erode", BAD_FLOATS),
    (["swap", "video.mp4", "-m", "model", "-o", "out.mp4", "--dilate", "{}"], "--dilate", BAD_FLOATS),
    (
        ["swap", "video.mp4", "-m", "model", "-o", "out.mp4", "--feather", "{}"],
        "--feather",
        ("nan", "inf", "-inf", "1e30", "-2"),
    ),
    (["swap", "video.mp4", "-m", "model", "-o", "out.mp4", "--batch", "{}"], "--batch", (*BAD_INTS, "0")),
    (["swap", "video.mp4", "-m", "model", "-o", "out.mp4", "--track", "{}"], "--track", BAD_INTS),
    (
        [
            "evaluate",
            "--original",
            "video.mp4",
            "--swapped",
            "video.mp4",
            "--source",
            "faces_a",
            "--every",
            "{}",
        ],
        "--every",
        (*BAD_INTS, "0"),
    ),
    (["evaluate", "--reenact", "video.mp4", "--max-frames", "{}"], "--max-frames", (*BAD_INTS, "0")),
    (
        ["animate", "photo.jpg", "--performance", "talk", "-o", "out.mp4", "--seconds", "{}"],
        "--seconds",
        (*BAD_FLOATS, "0"),
    ),
    (
        ["animate", "photo.jpg", "--performance", "talk", "-o", "out.mp4", "--size", "{}"],
        "--size",
        (*BAD_INTS, "0"),
    ),
    (
        ["animate", "photo.jpg", "--performance", "talk", "-o", "out.mp4", "--expression-scale", "{}"],
        "--expression-scale",
        BAD_FLOATS,
    ),
    (
        ["animate", "photo.jpg", "--performance", "talk", "-o", "out.mp4", "--pose-scale", "{}"],
        "--pose-scale",
        BAD_FLOATS,
    ),
    (["animate", "photo.jpg", "--performance", "talk", "-o", "out.mp4", "--face", "{}"], "--face", BAD_INTS),
    (["demo", "-o", "out", "--minutes", "{}"], "--minutes", (*BAD_FLOATS, "0")),
    (["demo", "-o", "out", "--steps", "{}"], "--steps", BAD_INTS),
]
NUMERIC_CASES = [
    pytest.param([a.replace("{}", v) for a in argv], option, id=f"{argv[0]}{option}={v}")
    for argv, option, values in NUMERIC
    for v in values
]


@pytest.mark.parametrize(("argv", "option"), NUMERIC_CASES)
def test_bad_numbers_are_one_line_usage_errors(argv, option, world, capsys, monkeypatch):
    _refused(argv, world, capsys, f"argument {option}", monkeypatch)


# ---- class 2: an output that is one of the inputs -------------------------------------------------
SAME = [
    # the cases of the report, then every verb and every input it reads
    (["animate", "photo.jpg", "--performance", "talk", "-o", "photo.jpg"], "is the portrait"),
    (["animate", "photo.jpg", "video.mp4", "-o", "video.mp4"], "is the driving video"),
    (["animate", "photo.jpg", "video.mp4", "-o", "./video.mp4"], "is the driving video"),
    (
        ["animate", "photo.jpg", "video.mp4", "--audio", "video.mp4", "-o", "video.mp4"],
        "is the driving video",
    ),
    (
        ["animate", "photo.jpg", "--performance", "talk", "--consent", "consent.txt", "-o", "consent.txt"],
        "is the consent",
    ),
    (["swap", "photo.jpg", "-m", "model", "-o", "ref.jpg", "--face", "ref.jpg"], "is the --face photo"),
    (["swap", "photo.jpg", "-m", "model", "-o", "consent.txt", "--consent", "consent.txt"], "is the consent"),
    (["swap", "photo.jpg", "-m", "model", "-o", "photo.jpg"], "is the input"),
    (["swap", "photo.jpg", "-m", "model", "-o", "photo_hardlink.jpg"], "is the input"),
    (["swap", "photo.jpg", "-m", "model", "-o", "photo_symlink.jpg"], "is the input"),
    (["swap", "video.mp4", "-m", "model", "-o", "video.mp4"], "is the input"),
    (["swap", "video.mp4", "-m", "model", "-o", "model/out.mp4"], "inside the model folder"),
    (["swap", "photos", "-m", "model", "-o", "photos"], "is the input"),
    (
        [
            "evaluate",
            "--original",
            "video.mp4",
            "--swapped",
            "photo.jpg",
            "--source",
            "faces_a",
            "-o",
            "video.mp4",
        ],
        "is the original",
    ),
    (
        [
            "evaluate",
            "--original",
            "video.mp4",
            "--swapped",
            "video.mp4",
            "--source",
            "faces_a",
            "-o",
            "faces_a/faceset.db",
        ],
        "faces_a",
    ),
    (["evaluate", "--reenact", "video.mp4", "-o", "video.mp4"], "is the --reenact video"),
    (["extract", "photo.jpg", "-o", "photo.jpg"], "is the input 1"),
    (["extract", "photos", "-o", "photos"], "is the input 1"),
    (["extract", "video.mp4", "--identity", "ref.jpg", "-o", "ref.jpg"], "is the --identity photo"),
    (["faceset", "preview", "faces_a", "-o", "faces_a/faceset.db"], "inside the faceset"),
    (["faceset", "preview", "faces_a", "-o", "faces_a/faces/x.png"], "inside the faceset"),
    (["faceset", "curate", "faces_a", "-o", "faces_a"], "is the faceset itself"),
    (["faceset", "curate", "faces_a", "-o", "faces_a/sub"], "inside the faceset"),
    (["faceset", "merge", "faces_a", "faces_b", "-o", "faces_b/sub"], "inside the faceset"),
    (["train", "--a", "faces_a", "--b", "faces_b", "-o", "faces_a"], "is the faceset of A"),
    (["train", "--a", "faces_a", "--b", "faces_b", "-o", "faces_b/model"], "inside the faceset of B"),
    (["demo", "-o", "photo.jpg"], "is a file"),
    (["demo", "--a", "photo.jpg", "--b", "photos/a.jpg", "-o", "photos"], "inside the demo's output"),
]


@pytest.mark.parametrize(("argv", "expect"), SAME, ids=[" ".join(a) for a, _ in SAME])
def test_an_output_that_is_an_input_is_refused(argv, expect, world, capsys, monkeypatch):
    _refused(argv, world, capsys, expect, monkeypatch)


# ---- class 3: extensions and folders a verb cannot write ---------------------------------------
FORMATS = [
    (["animate", "photo.jpg", "--performance", "talk", "-o", "out.gif"], "must end in .mp4"),
    (["animate", "photo.jpg", "--performance", "talk", "-o", "out.avi"], "must end in .mp4"),
    (["animate", "photo.jpg", "--performance", "talk", "-o", "photos"], "is a folder"),
    (["faceset", "preview", "faces_a", "-o", "photos"], "is a folder"),
    (["faceset", "preview", "faces_a", "-o", "out.gif"], "must end in .png"),
    (["faceset", "preview", "faces_a", "-o", "out"], "must end in .png"),
    (["evaluate", "--reenact", "video.mp4", "-o", "photos"], "is a folder"),
    (["evaluate", "--reenact", "video.mp4", "-o", "out.txt"], "must end in .json"),
    (["evaluate", "--reenact", "video.mp4", "-o", "photo.jpg/x.json"], "is a file, not a folder"),
    (["extract", "photo.jpg", "-o", "consent.txt"], "is a file, not a folder"),
    (["extract", "consent.txt", "-o", "out"], "not a video or photo"),
    (["train", "--a", "faces_a", "--b", "faces_b", "-o", "consent.txt"], "is a file, not a folder"),
    (["swap", "consent.txt", "-m", "model", "-o", "out.mp4"], "not a video, photo or folder"),
]


@pytest.mark.parametrize(("argv", "expect"), FORMATS, ids=[" ".join(a) for a, _ in FORMATS])
def test_outputs_of_the_wrong_kind_are_refused(argv, expect, world, capsys, monkeypatch):
    _refused(argv, world, capsys, expect, monkeypatch)
