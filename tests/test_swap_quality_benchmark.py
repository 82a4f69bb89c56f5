"""The swap-quality benchmark, replayed at a small budget: the current recipe beats the previous one on the
files users get (identity to the source person and sharpness, both directions where the old recipe does
not paint over the target's own glasses and hair)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STEPS = 300


@pytest.mark.slow
def test_new_recipe_beats_the_old_one_at_the_same_budget(shared_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "q"
    env = {**os.environ, "FACECRAFT_TEST_DATA": str(shared_data)}
    env.pop("FACECRAFT_NO_PARSER", None)
    cmd = [sys.executable, str(ROOT / "benchmarks" / "swap_quality.py"), "--steps", str(STEPS)]
    run = subprocess.run(
        [*cmd, "--recipes", "old,new", "--out", str(out), "--watermark-ids", "2"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "swap quality:" in run.stdout
    old = json.loads((out / "result_old.json").read_text())
    new = json.loads((out / "result_new.json").read_text())
    nothing = json.loads((out / "result_do_nothing.json").read_text())
    assert old["train"]["steps"] == new["train"]["steps"] == STEPS
    for direction in ("A_into_B", "B_into_A"):
        o, n = old[direction], new[direction]
        # the source person's real detail, lent by the exemplars: sharper than the old smear
        assert n["sharpness_ratio"] > max(2 * o["sharpness_ratio"], 0.3), (direction, o, n)
        # both are the source person, far from doing nothing
        assert n["identity_to_source"] > nothing[direction]["identity_to_source"] + 0.2, (direction, n)
    # her face into his video: nothing of the target is kept by either recipe, so identity compares fairly
    assert new["A_into_B"]["identity_to_source"] > old["A_into_B"]["identity_to_source"], (old, new)
    # each swap also delivered with a second watermark id: the spread a single file's numbers come from
    for direction in ("A_into_B", "B_into_A"):
        over = new[direction]["over_watermark_ids"]
        low, mid, high = over["source_match_rate"]
        assert over["ids"] == 2 and low <= new[direction]["source_match_rate"] <= high and low <= mid <= high
    assert (out / "sheet_A_into_B.png").is_file() and (out / "sheet_B_into_A.png").is_file()
