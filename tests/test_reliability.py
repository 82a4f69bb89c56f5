"""Extract and faceset commands under interruption and concurrency: no self-ingestion, one writer per
faceset, a read-only database is one line, a faceset with a lost image can be checked and repaired."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from facecraft.cli.main import main
from facecraft.errors import FacecraftError
from facecraft.extract import ExtractConfig, extract
from facecraft.faceset.store import Faceset
from facecraft.fileio import FolderLock

PHOTOS = ("obama_1_portrait.jpg", "obama_2_podium.jpg", "obama_3_pressroom.jpg")


@pytest.fixture(scope="module")
def photo_faceset(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of three photos with its faceset inside it (``photos/faces``), extracted once."""
    root = tmp_path_factory.mktemp("reliability") / "photos"
    root.mkdir()
    for name in PHOTOS:
        shutil.copy(shared_data / "images" / name, root / name)
    extract([root], root / "faces", ExtractConfig(size=64), progress=False)
    return root / "faces"


def _copy(faceset: Path, tmp_path: Path) -> Path:
    out = tmp_path / "faces"
    shutil.copytree(faceset, out)
    return out


def test_extract_into_a_folder_inside_its_input_does_not_ingest_its_own_faces(photo_faceset: Path) -> None:
    with Faceset.open(photo_faceset) as fs:
        before = fs.count()
    assert before == len(PHOTOS)
    report = extract([photo_faceset.parent], photo_faceset, ExtractConfig(size=64), progress=False)
    assert report.faces_total == before and report.faces_added == 0


def test_two_extracts_of_one_faceset_the_second_is_refused(shared_data: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "faces"
    with FolderLock.for_folder(out, f"the faceset {out}", "extract"):
        code = main(["extract", str(shared_data / "images" / PHOTOS[0]), "-o", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "another extract run" in err[0]


def test_a_read_only_faceset_database_is_one_line(
    photo_faceset: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    faces = _copy(photo_faceset, tmp_path)
    real_connect = sqlite3.connect

    def read_only(
        db, *args, **kwargs
    ):  # root writes anywhere: open the database the way a read-only file opens
        return real_connect(f"file:{db}?mode=ro", *args, uri=True, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", read_only)
    code = main(["faceset", "curate", str(faces), "--keep", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "read" in err[0] and "Traceback" not in err[0]


def test_a_lost_face_image_is_found_by_check_and_dropped_by_repair(
    photo_faceset: Path, tmp_path: Path, capsys
) -> None:
    faces = _copy(photo_faceset, tmp_path)
    with Faceset.open(faces) as fs:
        lost = fs.faces()[0]
        fs.image_path(lost).unlink()
        (faces / "faces" / "stray.png").write_bytes(b"not a png")
        with pytest.raises(FacecraftError, match="faceset repair"):
            fs.load_image(lost)
    assert main(["faceset", "check", str(faces)]) == 1
    out = capsys.readouterr().out
    assert "1 missing image" in out and "1 file(s) with no face row" in out
    assert main(["faceset", "repair", str(faces)]) == 0
    assert "dropped 1 face(s)" in capsys.readouterr().out
    assert main(["faceset", "check", str(faces)]) == 0
    with Faceset.open(faces) as fs:
        assert fs.count() == len(PHOTOS) - 1
        assert all(fs.load_image(f).shape == (64, 64, 3) for f in fs.faces())
    assert not (faces / ".facecraft.lock").exists()


def test_curate_reports_what_the_output_really_holds(photo_faceset: Path, tmp_path: Path, capsys) -> None:
    from facecraft.faceset.curate import CurateConfig, curate

    with pytest.raises(FacecraftError, match="is the faceset itself"):
        curate(photo_faceset, CurateConfig(), photo_faceset)
    out = tmp_path / "curated"
    first = curate(photo_faceset, CurateConfig(keep=1), out)
    assert first["faces"] == first["after"]["faces"] == 1
    again = curate(photo_faceset, CurateConfig(keep=2), out)  # extends: the output now holds more than chosen
    with Faceset.open(out) as fs:
        assert again["faces"] == fs.count() >= again["after"]["faces"]


def test_two_animates_to_one_output_the_second_is_refused(shared_data: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "a.mp4"
    portrait = str(shared_data / "images" / PHOTOS[0])
    with FolderLock.for_file(out, f"the output {out}", "animate"):
        code = main(["animate", portrait, "--performance", "talk", "-o", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "another animate run" in err[0]
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_evaluate_checks_an_unwritable_output_before_measuring(tmp_path: Path, monkeypatch, capsys) -> None:
    import importlib

    import facecraft.cli.checks as checks

    evaluate_module = importlib.import_module("facecraft.evaluate")

    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = checks.os.access
    monkeypatch.setattr(checks.os, "access", lambda p, mode: Path(p) != locked and real_access(p, mode))
    measured = []
    monkeypatch.setattr(evaluate_module, "evaluate", lambda *a, **k: measured.append(1))
    argv = [
        "evaluate",
        "--original",
        "a.mp4",
        "--swapped",
        "b.mp4",
        "--source",
        "f",
        "-o",
        str(locked / "r.json"),
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no permission to write" in err[0] and not measured


@pytest.mark.slow  # two extractions of an 8 s video
def test_sigterm_during_extract_saves_and_a_rerun_finishes_the_same_faceset(
    shared_data: Path, tmp_path: Path
) -> None:
    import signal
    import subprocess
    import sys
    import time

    video = shared_data / "videos" / "obama_speaking_8s.mp4"
    config = ExtractConfig(size=64, every=2)
    whole = extract([video], tmp_path / "whole", config, progress=False)
    out = tmp_path / "cut"
    cmd = [
        sys.executable,
        "-m",
        "facecraft",
        "-q",
        "extract",
        str(video),
        "-o",
        str(out),
        "--size",
        "64",
        "--every",
        "2",
    ]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    committed = 0
    while committed == 0 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.3)
        if (out / "faceset.db").is_file():
            with sqlite3.connect(out / "faceset.db") as db:
                try:
                    committed = db.execute("SELECT COUNT(*) FROM frames_done").fetchone()[0]
                except sqlite3.OperationalError:
                    committed = 0
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143 and "stopped by SIGTERM" in err and "Traceback" not in err, err
    with Faceset.open(out) as fs:
        assert 0 < fs.count() < whole.faces_total
    again = extract([video], out, config, progress=False)
    assert again.faces_total == whole.faces_total
