"""One writer per output: FolderLock refuses a live second run, takes over a lock left by a killed one,
and cleans up after itself; same_file sees through symlinks and hard links."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from facecraft.errors import FacecraftError
from facecraft.fileio import LOCK_NAME, FolderLock, refuse_overwriting_inputs, same_file


def test_a_second_live_run_is_refused_with_the_first_named(tmp_path: Path) -> None:
    busy = pytest.raises(FacecraftError, match=r"another extract run \(facecraft extract, pid \d+\)")
    with FolderLock.for_folder(tmp_path / "faces", "the faceset faces", "extract"), busy:
        FolderLock.for_folder(tmp_path / "faces", "the faceset faces", "extract").acquire()
    assert not (tmp_path / "faces" / LOCK_NAME).exists()  # released and removed
    with FolderLock.for_folder(tmp_path / "faces", "the faceset faces", "extract") as again:
        assert again.taken_over is None


def test_the_lock_is_removed_when_the_run_fails(tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    with pytest.raises(RuntimeError), FolderLock.for_file(out, "the output", "swap"):
        raise RuntimeError("the run failed")
    assert list(tmp_path.iterdir()) == []


def test_a_lock_left_by_a_killed_run_is_taken_over_with_a_message(tmp_path: Path, caplog) -> None:
    folder = tmp_path / "model"
    code = (
        "import sys, time; from facecraft.fileio import FolderLock; "
        f"FolderLock.for_folder({str(folder)!r}, 'the model', 'train').acquire(); "
        "print('locked', flush=True); time.sleep(60)"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(FacecraftError, match=f"pid {holder.pid}"):
            FolderLock.for_folder(folder, "the model", "train").acquire()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert json.loads((folder / LOCK_NAME).read_text())["pid"] == holder.pid  # the stale file is still there
    with FolderLock.for_folder(folder, "the model", "train") as lock:
        assert lock.taken_over is not None and str(holder.pid) in lock.taken_over
        assert json.loads((folder / LOCK_NAME).read_text())["pid"] == os.getpid()
    assert "taking it over" in caplog.text


def test_waiters_never_both_hold_the_lock(tmp_path: Path) -> None:
    """Many processes race for one lock while holders release it (and remove the file): at most one
    holds it at any moment."""
    code = (
        "import sys, time, os; from facecraft.fileio import FolderLock; from facecraft.errors import FacecraftError\n"
        f"log = {str(tmp_path / 'log')!r}\n"
        "end = time.time() + 1.5\n"
        "while time.time() < end:\n"
        "    try:\n"
        f"        with FolderLock.for_folder({str(tmp_path / 'f')!r}, 'f', 't'):\n"
        "            fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT); os.write(fd, b'in\\n')\n"
        "            time.sleep(0.002); os.write(fd, b'out\\n'); os.close(fd)\n"
        "    except FacecraftError:\n"
        "        pass\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(3)]
    for p in procs:
        assert p.wait(timeout=60) == 0
    events = (tmp_path / "log").read_text().split()
    assert events and all(a != b for a, b in itertools.pairwise(events))  # in/out alternate


def test_same_file_sees_links_and_relative_paths(tmp_path: Path, monkeypatch) -> None:
    a = tmp_path / "a.jpg"
    a.write_bytes(b"x")
    os.link(a, tmp_path / "hard.jpg")
    (tmp_path / "soft.jpg").symlink_to(a)
    monkeypatch.chdir(tmp_path)
    assert same_file("a.jpg", a) and same_file(tmp_path / "hard.jpg", a) and same_file("soft.jpg", a)
    assert same_file("./sub/../a.jpg", a)
    assert not same_file(tmp_path / "b.jpg", a)
    with pytest.raises(FacecraftError, match="is the portrait"):
        refuse_overwriting_inputs("hard.jpg", {"portrait": a, "audio": None})


def test_the_lock_takes_little_time(tmp_path: Path) -> None:
    t = time.perf_counter()
    for _ in range(50):
        with FolderLock.for_folder(tmp_path, "x"):
            pass
    assert time.perf_counter() - t < 2.0
