"""The false-positive benchmark can be split, resumed and merged without counting a sample twice."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "provenance_fp.py"
SHARED = ROOT.parent / "shared" / "data"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, cwd=ROOT, timeout=600
    )


def _summary(proc: subprocess.CompletedProcess[str]) -> dict[str, object]:
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout[proc.stdout.index("{") :]))


@pytest.mark.skipif(not (SHARED / "videos").is_dir(), reason="needs the shared media")
def test_resumed_and_merged_runs_count_each_sample_once(tmp_path: Path) -> None:
    first, second = tmp_path / "seed0.jsonl", tmp_path / "seed1.jsonl"
    assert _summary(_run("--samples", "2", "--scores", str(first)))["samples"] == 2
    lines = first.read_text().splitlines()
    # A longer run over the same file measures only the samples it lacks (resume), in index order.
    resumed = _summary(_run("--samples", "4", "--scores", str(first)))
    assert resumed["samples"] == 4
    records = [json.loads(line) for line in first.read_text().splitlines()]
    assert first.read_text().splitlines()[:2] == lines
    assert [r["index"] for r in records] == [0, 1, 2, 3]
    assert all(not r["found"] and not r["mark"] for r in records)
    # Another seed's samples merge; the same file given twice adds nothing.
    _summary(_run("--samples", "1", "--seed", "1", "--scores", str(second)))
    merged = _summary(_run("--samples", "0", "--scores", str(first), "--merge", str(second), str(first)))
    assert merged["samples"] == 5
    assert merged["duplicates_dropped"] == 4
    assert merged["seeds"] == {
        "0": {"count": 4, "first": 0, "last": 3},
        "1": {"count": 1, "first": 0, "last": 0},
    }
    # Scores of another detector version are refused, not merged.
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps({**records[0], "version": "0" * 12}) + "\n")
    refused = _run("--samples", "0", "--scores", str(first), "--merge", str(other))
    assert refused.returncode != 0
    assert "not merged" in refused.stderr
