"""benchmarks/gpu_check.py, the GPU readiness script, runs its code paths on the CPU (--cpu-smoke)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.py"


def _smoke(*args: str) -> dict:  # type: ignore[type-arg]
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--cpu-smoke", *args], capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(done.stdout)


def test_models_and_compile_run_on_the_cpu() -> None:
    out = _smoke("--only", "matmul,models,compile")
    assert out["errors"] == [] and out["mode"].startswith("cpu-smoke")
    assert set(out["models"]) >= {"lite", "original", "standard", "hd"}
    assert all(m["grads_finite"] for name, m in out["models"].items() if name != "section_seconds")
    assert out["compile"]["max_abs_diff_vs_eager"] == 0.0
    assert out["matmul"]["median_gflops"] > 0


@pytest.mark.slow
def test_every_section_runs_on_the_cpu(shared_data: Path) -> None:
    out = _smoke()
    assert out["errors"] == []
    assert out["train"]["lite"]["faces_per_second"] > 0
    assert out["swap"]["faces_swapped"] == out["swap"]["frames"] > 0 and out["swap"]["labelled"]
    assert out["animate"]["frames"] == 10
    assert out["ddp"]["gradients_equal_across_processes"] and out["ddp"]["processes"] == 2
