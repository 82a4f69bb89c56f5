"""Training under interruption, concurrency and mistakes: SIGTERM saves like Ctrl-C, one run per model
folder, exchanged facesets are refused, the thread count is recorded and reused, "best" is always a
saved checkpoint, a start-up line says what the run does, and the NaN guard's snapshot is refreshed on
every process."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import time

import pytest
import torch
from train_fixtures import facesets  # noqa: F401

from facecraft.errors import FacecraftError
from facecraft.fileio import FolderLock
from facecraft.train import train
from facecraft.train.checkpoint import list_checkpoints
from facecraft.train.testing import tiny_config


def test_sigterm_saves_and_exits_like_ctrl_c(facesets, tmp_path):  # noqa: F811
    out = tmp_path / "m"
    cmd = [
        sys.executable,
        "-m",
        "facecraft",
        "-q",
        "train",
        "--a",
        str(facesets["A"]),
        "--b",
        str(facesets["B"]),
    ]
    cmd += [
        "-o",
        str(out),
        "--batch",
        "2",
        "--threads",
        "1",
        "--save-every",
        "100000",
        "--validate-every",
        "100000",
        "--preview-every",
        "1",
    ]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    try:
        seen = []
        while not (seen and "train: new model" in seen[-1]) and (line := proc.stderr.readline()):
            seen.append(line)
        assert "train: new model" in seen[-1], seen
        deadline = time.time() + 300
        while not (out / "preview.png").exists() and time.time() < deadline:  # written after each step
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        err = proc.stderr.read()
        code = proc.wait(timeout=120)
    finally:
        proc.kill()
    assert code == 143, err
    assert (
        err.strip()
        .splitlines()[-1]
        .endswith("stopped by SIGTERM; what was done is saved, run the same command to resume")
    )
    assert "Traceback" not in err
    steps = [s for s, _ in list_checkpoints(out)]
    assert steps[0] == 0 and steps[-1] > 0  # the steps since the last save were saved on SIGTERM
    assert not (out / ".facecraft.lock").exists()


def test_a_second_run_on_one_model_folder_is_refused(facesets, tmp_path):  # noqa: F811
    out = tmp_path / "m"
    with (
        FolderLock.for_folder(out, "the model", "train"),
        pytest.raises(FacecraftError, match="another train run"),
    ):
        train(facesets, out, tiny_config(steps=1), progress=False)
    train(facesets, out, tiny_config(steps=1), progress=False)  # the lock file does not make it "not a model"
    assert not (out / ".facecraft.lock").exists()


def test_exchanged_facesets_are_refused_on_resume(facesets, tmp_path):  # noqa: F811
    out = tmp_path / "m"
    train(facesets, out, tiny_config(steps=1), progress=False)
    with pytest.raises(FacecraftError, match="exchanged"):
        train({"A": facesets["B"], "B": facesets["A"]}, out, tiny_config(steps=2), progress=False)
    with pytest.raises(
        FacecraftError, match="the faceset given for B shows the person this model learned as A"
    ):
        train({"A": facesets["A"], "B": facesets["A"]}, out, tiny_config(steps=2), progress=False)
    assert train(facesets, out, tiny_config(steps=2), progress=False).step == 2


def test_the_thread_count_is_recorded_and_reused(facesets, tmp_path, monkeypatch):  # noqa: F811
    import importlib

    device = importlib.import_module("facecraft.train.device")  # facecraft.train is also the verb

    out = tmp_path / "m"
    monkeypatch.setattr(device.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    monkeypatch.setattr(device.os, "cpu_count", lambda: 1)
    train(facesets, out, tiny_config(steps=1, threads=0), progress=False)
    assert json.loads((out / "model.json").read_text())["settings"]["cpu_threads"] == 1
    monkeypatch.setattr(device.os, "cpu_count", lambda: 2)  # the free cores would now say 2
    report = train(facesets, out, tiny_config(steps=2, threads=0), progress=False)
    assert torch.get_num_threads() == 1 and not report.warnings
    report = train(facesets, out, tiny_config(steps=3, threads=2), progress=False)
    assert torch.get_num_threads() == 2
    assert any("not be bit-identical" in w for w in report.warnings)
    torch.set_num_threads(1)


def test_best_is_always_a_saved_checkpoint_and_the_start_is_announced(facesets, tmp_path, caplog):  # noqa: F811
    out = tmp_path / "m"
    with caplog.at_level(logging.INFO, logger="facecraft.train"):
        report = train(
            facesets, out, tiny_config(steps=5, validate_every=2, save_every=3, keep=10), progress=False
        )
    assert (
        "train: new model in" in caplog.text
        and "cpu, 1 CPU threads" in caplog.text
        and "batch 4" in caplog.text
    )
    saved = [s for s, _ in list_checkpoints(out)]
    validated = {json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()}
    assert saved == [0, 3, 5] and set(saved) <= validated  # every checkpoint carries its own validation
    assert report.best["step"] in saved
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="facecraft.train"):
        train(facesets, out, tiny_config(steps=6, save_every=3, keep=10), progress=False)
    assert f"resuming {out} at step 5" in caplog.text


def test_every_process_refreshes_the_nan_guard_snapshot(facesets):  # noqa: F811
    """A process without the checkpointer (a DDP rank other than 0) must go back to the last save step
    after a NaN, like rank 0 does, not to the run's start."""
    from facecraft.train.callbacks import StopWhen
    from facecraft.train.data import load_identity
    from facecraft.train.distributed import DistInfo
    from facecraft.train.models import build_model, make_config
    from facecraft.train.testing import TINY_LITE
    from facecraft.train.trainer import Trainer

    data = [load_identity(n, p, 32) for n, p in facesets.items()]
    net = build_model("lite", make_config("lite", TINY_LITE), ["A", "B"])
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    trainer = Trainer(
        net, opt, data, tiny_config(save_every=2), 4, torch.device("cpu"), DistInfo(), [StopWhen(4, 0, 0)]
    )
    start = {k: v.clone() for k, v in net.state_dict().items()}
    trainer.run()
    at_4 = {k: v.clone() for k, v in net.state_dict().items()}
    assert any(not torch.equal(start[k], at_4[k]) for k in start)  # the weights moved
    with torch.no_grad():
        next(net.encoder.parameters()).fill_(float("nan"))
    trainer.train_step()
    assert trainer.state.restores == 1
    assert all(torch.equal(at_4[k], v) for k, v in net.state_dict().items())
