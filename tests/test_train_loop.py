"""Training on real (small) facesets with tiny configs on CPU: steps, conversion, exact resume, errors."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from train_fixtures import facesets  # noqa: F401

from facecraft.cli.main import main
from facecraft.errors import FacecraftError
from facecraft.faceset.store import Faceset
from facecraft.train import FaceModel, train
from facecraft.train.checkpoint import list_checkpoints
from facecraft.train.losses import LossConfig
from facecraft.train.testing import tiny_config, tiny_model


def _weights(model_dir: Path) -> tuple[int, dict[str, torch.Tensor]]:
    step, path = list_checkpoints(model_dir)[-1]
    return step, load_file(path / "weights.safetensors")


def _changed(before: dict[str, torch.Tensor], after: dict[str, torch.Tensor], prefix: str) -> bool:
    return any(not torch.equal(before[k], after[k]) for k in before if k.startswith(prefix))


def test_one_step_changes_the_encoder_and_both_decoders(facesets, tmp_path):  # noqa: F811
    out = tmp_path / "m"
    report = train(facesets, out, tiny_config(steps=1), progress=False)
    assert report.step == 1 and report.steps_this_run == 1
    steps = [s for s, _ in list_checkpoints(out)]
    assert steps == [0, 1]
    before = load_file(list_checkpoints(out)[0][1] / "weights.safetensors")
    _, after = _weights(out)
    for part in ("encoder.", "decoders.A.", "decoders.B."):
        assert _changed(before, after, part), part


def test_a_to_b_uses_b_decoder_and_records_faceset_geometry(facesets, tmp_path):  # noqa: F811
    model = FaceModel.load(tiny_model(tmp_path, facesets["A"], facesets["B"], steps=2))
    assert model.identities == ["A", "B"] and model.size == 32
    assert model.coverage == "whole_face" and model.faceset_size == 64
    with Faceset.open(facesets["A"]) as fs:
        faces = np.stack([fs.load_image(f) for f in fs.faces()[:3]])
    to_b, mask_b = model.convert(faces, "B")
    to_a, _ = model.convert(faces, "A")
    assert to_b.shape == faces.shape and to_b.dtype == np.uint8
    assert (
        mask_b.shape == (3, 64, 64) and mask_b.dtype == np.float32 and 0 <= mask_b.min() <= mask_b.max() <= 1
    )
    assert not np.array_equal(to_a, to_b)
    with torch.no_grad():  # breaking A's decoder leaves A->B alone; breaking B's changes it
        for p in model.net.decoders["A"].parameters():
            p.add_(1.0)
        assert np.array_equal(model.convert(faces, "B")[0], to_b)
        for p in model.net.decoders["B"].parameters():
            p.add_(1.0)
        assert not np.array_equal(model.convert(faces, "B")[0], to_b)
    with pytest.raises(FacecraftError, match="unknown identity"):
        model.convert(faces, "C")


def test_the_model_file_holds_the_running_average_and_training_goes_on_from_its_own_weights(
    facesets,  # noqa: F811
    tmp_path,
):
    from facecraft.train.ema import decay_at

    assert decay_at(0, 0.999) == 0.1 and decay_at(10**6, 0.999) == 0.999
    train(facesets, tmp_path / "avg", tiny_config(steps=1), progress=False)
    train(facesets, tmp_path / "raw", tiny_config(steps=1, weight_average=0.0), progress=False)
    (_, start), (_, end) = list_checkpoints(tmp_path / "avg")
    w0, w1 = load_file(start / "weights.safetensors"), _weights(tmp_path / "raw")[1]
    saved, kept = load_file(end / "weights.safetensors"), load_file(end / "optimizer.safetensors")
    for k, v in w1.items():
        assert torch.equal(kept[f"train.{k}"], v), k  # averaging never changes the training itself
        torch.testing.assert_close(saved[k], w0[k] + 0.9 * (v - w0[k]))  # decay 0.1 after one step
    assert any(not torch.equal(saved[k], w1[k]) for k in w1)
    # a resumed run goes on from the training weights, as an uninterrupted one does
    train(facesets, tmp_path / "avg", tiny_config(steps=3), progress=False)
    train(facesets, tmp_path / "raw", tiny_config(steps=3, weight_average=0.0), progress=False)
    kept = load_file(list_checkpoints(tmp_path / "avg")[-1][1] / "optimizer.safetensors")
    assert all(torch.equal(kept[f"train.{k}"], v) for k, v in _weights(tmp_path / "raw")[1].items())


def test_resume_after_n_steps_equals_an_uninterrupted_2n_run_bit_for_bit(facesets, tmp_path):  # noqa: F811
    cfg = tiny_config(steps=6, save_every=2)
    train(facesets, tmp_path / "full", cfg, progress=False)
    train(facesets, tmp_path / "split", tiny_config(steps=3, save_every=2), progress=False)
    report = train(facesets, tmp_path / "split", cfg, progress=False)
    assert report.resumed and report.steps_this_run == 3
    for name in ("weights.safetensors", "optimizer.safetensors"):
        a = load_file(list_checkpoints(tmp_path / "full")[-1][1] / name)
        b = load_file(list_checkpoints(tmp_path / "split")[-1][1] / name)
        assert a.keys() == b.keys()
        assert all(torch.equal(a[k], b[k]) for k in a), name


def test_the_adversarial_phase_trains_from_its_step_and_resumes_bit_for_bit(facesets, tmp_path):  # noqa: F811
    loss = LossConfig(adversarial=0.1, adversarial_from=2, identity=0.0, perceptual=0.0)
    cfg = tiny_config(steps=5, save_every=2, loss=loss)
    train(facesets, tmp_path / "full", cfg, progress=False)
    train(facesets, tmp_path / "split", tiny_config(steps=3, save_every=2, loss=loss), progress=False)
    train(facesets, tmp_path / "split", cfg, progress=False)
    a = load_file(list_checkpoints(tmp_path / "full")[-1][1] / "optimizer.safetensors")
    b = load_file(list_checkpoints(tmp_path / "split")[-1][1] / "optimizer.safetensors")
    assert any(k.startswith("adversary.net.") for k in a) and any(k.startswith("adversary.optim.") for k in a)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    # before adversarial_from the judge is not trained: its step-2 checkpoint still holds the initial weights
    first = load_file(list_checkpoints(tmp_path / "full")[0][1] / "optimizer.safetensors")
    assert not any(k.startswith("adversary.optim.") for k in first)
    assert _changed(first, a, "adversary.net.")  # and later it is
    # the phase changes what the model learns: the same run without it ends elsewhere
    train(facesets, tmp_path / "plain", tiny_config(steps=5, save_every=2), progress=False)
    assert _changed(_weights(tmp_path / "plain")[1], _weights(tmp_path / "full")[1], "")


_KILL_DURING_SAVE = """
import os, signal, sys
from facecraft.train import checkpoint, train
from facecraft.train.testing import tiny_config
real = checkpoint.write_file_synced
calls = [0]
def dying_write(path, data):
    calls[0] += 1
    if calls[0] == 5:  # second checkpoint (step 2): half its weights, then kill -9
        path.write_bytes(data[: len(data) // 2])
        os.kill(os.getpid(), signal.SIGKILL)
    real(path, data)
checkpoint.write_file_synced = dying_write
train({"A": sys.argv[1], "B": sys.argv[2]}, sys.argv[3], tiny_config(steps=4, save_every=2), progress=False)
"""


def test_kill_9_during_a_save_leaves_a_model_that_resumes(facesets, tmp_path):  # noqa: F811
    out = tmp_path / "m"
    script = tmp_path / "die.py"
    script.write_text(textwrap.dedent(_KILL_DURING_SAVE))
    proc = subprocess.run(
        [sys.executable, str(script), str(facesets["A"]), str(facesets["B"]), str(out)], check=False
    )
    assert proc.returncode == -9
    assert [s for s, _ in list_checkpoints(out)] == [0]
    assert any(p.name.startswith(".tmp-") for p in (out / "checkpoints").iterdir())
    report = train(facesets, out, tiny_config(steps=4, save_every=2), progress=False)
    assert report.resumed and report.step == 4 and report.steps_this_run == 4
    assert not any(p.name.startswith(".tmp-") for p in (out / "checkpoints").iterdir())
    assert FaceModel.load(out).step == 4


def test_corrupt_latest_checkpoint_resumes_from_the_previous_with_a_warning(facesets, tmp_path):  # noqa: F811
    out = tmp_path / "m"
    train(facesets, out, tiny_config(steps=4, save_every=2), progress=False)
    weights = list_checkpoints(out)[-1][1] / "weights.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    assert FaceModel.load(out).step == 2
    report = train(facesets, out, tiny_config(steps=5, save_every=2), progress=False)
    assert report.step == 5 and report.steps_this_run == 3
    assert any("step-000000004" in w and "falling back" in w for w in report.warnings)
    assert (out / "checkpoints" / "corrupt-step-000000004").is_dir()  # kept for inspection, not tried again
    assert [s for s, _ in list_checkpoints(out)][-1] == 5
    assert not train(facesets, out, tiny_config(steps=6, save_every=2), progress=False).warnings


def test_ctrl_c_saves_and_reraises(facesets, tmp_path, monkeypatch):  # noqa: F811
    from facecraft.train.trainer import Trainer

    real_step = Trainer.train_step

    def interrupted(self):
        if self.state.step == 3:
            raise KeyboardInterrupt
        real_step(self)

    monkeypatch.setattr(Trainer, "train_step", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train(facesets, tmp_path / "m", tiny_config(steps=10), progress=False)
    assert list_checkpoints(tmp_path / "m")[-1][0] == 3


def test_nan_guard_restores_the_last_good_state(facesets, tmp_path):  # noqa: F811
    from facecraft.train.data import load_identity
    from facecraft.train.distributed import DistInfo
    from facecraft.train.models import build_model, make_config
    from facecraft.train.testing import TINY_LITE
    from facecraft.train.trainer import Trainer

    data = [load_identity(n, p, 32) for n, p in facesets.items()]
    net = build_model("lite", make_config("lite", TINY_LITE), ["A", "B"])
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    trainer = Trainer(net, opt, data, tiny_config(), 4, torch.device("cpu"), DistInfo())
    trainer.train_step()
    trainer.snapshot()
    good = {k: v.clone() for k, v in net.state_dict().items()}
    with torch.no_grad():
        next(net.encoder.parameters()).fill_(float("nan"))
    trainer.train_step()
    assert trainer.state.restores == 1 and trainer.state.step == 2
    assert all(torch.equal(good[k], v) for k, v in net.state_dict().items())
    trainer.train_step()  # training goes on from the good state
    assert all(torch.isfinite(p).all() for p in net.parameters())
    with pytest.raises(FacecraftError, match="diverged"):
        for _ in range(3):
            with torch.no_grad():
                next(net.encoder.parameters()).fill_(float("nan"))
            trainer.train_step()


def test_more_than_two_identities_share_one_encoder(facesets, tmp_path):  # noqa: F811
    faces = {"alice": facesets["A"], "bob": facesets["B"], "carol": facesets["A"]}
    train(faces, tmp_path / "m", tiny_config(steps=1), progress=False)
    model = FaceModel.load(tmp_path / "m")
    assert model.identities == ["alice", "bob", "carol"]


def test_bad_inputs_are_clear_errors(facesets, tmp_path):  # noqa: F811
    out = tmp_path / "m"
    train(facesets, out, tiny_config(steps=1), progress=False)
    with pytest.raises(FacecraftError, match="holds a 'lite' model"):
        train(facesets, out, tiny_config(steps=2, model="original"), progress=False)
    with pytest.raises(FacecraftError, match=r"other settings \(batch 4 -> 8\)"):
        train(facesets, out, tiny_config(steps=2, batch=8), progress=False)
    # Faces prepared another way (hair painted, lenses left tinted) would mix two kinds of training faces.
    with pytest.raises(FacecraftError, match=r"other settings \(paint_hair False -> True\)"):
        train(facesets, out, tiny_config(steps=2, paint_hair=True), progress=False)
    with pytest.raises(FacecraftError, match="identities"):
        train({"A": facesets["A"], "C": facesets["B"]}, out, tiny_config(steps=2), progress=False)


def test_the_hair_is_painted_out_by_the_preset_and_a_resumed_model_keeps_its_choice(facesets, tmp_path):  # noqa: F811
    import json

    from facecraft.train.distributed import DistInfo
    from facecraft.train.plan import plan_run

    def planned(out, **changes):
        config = tiny_config(**changes)
        return plan_run(
            facesets, tmp_path / out, config, torch.device("cpu"), DistInfo(), progress=False
        ).config

    assert planned("a", model="lite128", model_settings={}).paint_hair is True  # lite128's preset paints it
    assert planned("b", model="lite128", model_settings={}, paint_hair=False).paint_hair is False  # asked
    assert planned("c").paint_hair is False  # lite's preset leaves it
    # A lite128 model trained before its preset painted the hair goes on with its faces as they were.
    info = json.loads((tmp_path / "a" / "model.json").read_text())
    assert info["settings"]["paint_hair"] is True
    info["settings"]["paint_hair"] = False
    (tmp_path / "a" / "model.json").write_text(json.dumps(info))
    assert planned("a", model="lite128", model_settings={}).paint_hair is False


def test_a_model_from_before_the_lens_untinting_resumes_as_it_was_trained(facesets, tmp_path):  # noqa: F811
    import json

    from facecraft.train.distributed import DistInfo
    from facecraft.train.plan import plan_run

    out = tmp_path / "m"
    train(facesets, out, tiny_config(steps=1), progress=False)
    info = json.loads((out / "model.json").read_text())
    assert info["settings"]["untint_lenses"] is True
    del info["settings"]["untint_lenses"], info["settings"]["paint_hair"]  # as written before they existed
    (out / "model.json").write_text(json.dumps(info))
    plan = plan_run(facesets, out, tiny_config(steps=2), torch.device("cpu"), DistInfo(), progress=False)
    assert plan.config.untint_lenses is False
    train(facesets, out, tiny_config(steps=2), progress=False)  # and it resumes without a clash
    with pytest.raises(FacecraftError, match="at least two identities"):
        train({"A": facesets["A"]}, tmp_path / "x", tiny_config(), progress=False)
    with pytest.raises(FacecraftError, match="not a faceset"):
        train({"A": facesets["A"], "B": tmp_path}, tmp_path / "x", tiny_config(), progress=False)
    with pytest.raises(FacecraftError, match="not a facecraft model"):
        FaceModel.load(tmp_path)
    with pytest.raises(FacecraftError, match="not a facecraft model folder"):
        train(facesets, facesets["A"], tiny_config(), progress=False)  # never write into a faceset
    small = tmp_path / "small"
    shutil.copytree(facesets["B"], small)
    with Faceset.open(small) as fs:
        fs.delete_faces([f.id for f in fs.faces()][5:])
    with pytest.raises(FacecraftError, match="has 5 faces; training needs at least 16"):
        train({"A": facesets["A"], "B": small}, tmp_path / "y", tiny_config(), progress=False)
    head = tmp_path / "head"
    shutil.copytree(facesets["B"], head)
    with Faceset.open(head) as fs:
        fs.set_meta("settings", fs.get_meta("settings").replace('"whole_face"', '"head"'))  # type: ignore[union-attr]
    with pytest.raises(FacecraftError, match="different coverage"):
        train({"A": facesets["A"], "B": head}, tmp_path / "z", tiny_config(), progress=False)


def test_cli_trains_resumes_and_reports_errors_in_one_line(facesets, tmp_path, capsys):  # noqa: F811
    out = tmp_path / "m"
    args = ["-q", "train", "--a", str(facesets["A"]), "--b", str(facesets["B"]), "-o", str(out)]
    small = [
        "--model",
        "lite",
        "--size",
        "32",
        "--batch",
        "2",
        "--device",
        "cpu",
        "--threads",
        "1",
        "--preview-every",
        "1",
    ]
    assert main([*args, *small, "--steps", "2"]) == 0
    assert "step 2 (2 this run" in capsys.readouterr().out
    assert (out / "preview.png").is_file() and (out / "model.json").is_file()
    from facecraft.swap.exemplars import load_bank

    bank = load_bank(out, "B")  # each person's sharp faces are kept for the swap to lend detail from
    assert bank is not None and len(bank.images) >= 5 and bank.masks.max() == 255
    assert main([*args, "--steps", "3", "--device", "cpu", "--threads", "1"]) == 0
    assert "step 3 (1 this run" in capsys.readouterr().out
    assert main([*args, "--model", "hd", "--steps", "4"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("facecraft train: error:") and "\n" not in err
    assert main(["-q", "train", "--face", "noequals", "-o", str(tmp_path / "n")]) == 2


def test_stop_conditions_and_preview_grid(facesets, tmp_path):  # noqa: F811
    from facecraft.train.evaluate import preview_grid

    report = train(
        facesets, tmp_path / "s", tiny_config(steps=0, until_ssim=0.01, validate_every=2), progress=False
    )
    assert (
        report.step == 0 and "validation SSIM" in report.stop_reason
    )  # the untrained model already has 0.01
    report = train(facesets, tmp_path / "t", tiny_config(steps=0, minutes=1e-4), progress=False)
    assert report.step == 1 and "minutes" in report.stop_reason
    model = FaceModel.load(tmp_path / "t")
    from facecraft.train.data import load_identity

    data = [load_identity(n, p, 32) for n, p in facesets.items()]
    grid = preview_grid(model.net, data, torch.device("cpu"))
    rows = sum(min(4, len(d.val_idx)) for d in data)
    assert grid.shape == (rows * 32, 3 * 32, 3) and grid.dtype == np.uint8


def test_until_ssim_stops_at_the_first_validation_that_reaches_it():
    from types import SimpleNamespace

    from facecraft.train.callbacks import StopWhen
    from facecraft.train.distributed import DistInfo
    from facecraft.train.trainer import TrainState

    state = TrainState(step=0)
    trainer = SimpleNamespace(state=state, dist=DistInfo(), device=torch.device("cpu"))
    stop = StopWhen(steps=0, minutes=0, until_ssim=0.5)
    stop.on_start(trainer)  # type: ignore[arg-type]
    for step, ssim in [(1, None), (2, 0.4), (3, None), (4, 0.6)]:
        state.step = step
        if ssim is not None:
            state.metrics = {"A": {"ssim": ssim, "psnr": 20.0}}
            state.history.append({"step": step, "val_ssim": ssim})
        stop.on_step(trainer)  # type: ignore[arg-type]
        assert bool(state.stop) == (step == 4), step


def test_resume_with_a_grown_faceset_warns_that_the_data_order_changed(facesets, tmp_path):  # noqa: F811
    small = tmp_path / "small"
    shutil.copytree(facesets["B"], small)
    with Faceset.open(small) as fs:
        fs.delete_faces([f.id for f in fs.faces()][20:])
    train({"A": facesets["A"], "B": small}, tmp_path / "m", tiny_config(steps=1), progress=False)
    report = train(facesets, tmp_path / "m", tiny_config(steps=2), progress=False)
    assert report.step == 2 and any("faceset B now has" in w for w in report.warnings)


def test_tensorboard_gets_scalars_and_previews_when_installed(facesets, tmp_path, monkeypatch):  # noqa: F811
    import types

    calls: list[tuple] = []

    class FakeWriter:
        def __init__(self, logdir):
            calls.append(("init", logdir))

        def add_scalar(self, tag, value, step):
            calls.append((tag, step, value))

        def add_image(self, tag, image, step, dataformats):
            calls.append((tag, step, image.shape, dataformats))

        def close(self):
            calls.append(("close",))

    fake = types.ModuleType("torch.utils.tensorboard")
    fake.SummaryWriter = FakeWriter  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", fake)
    train(facesets, tmp_path / "m", tiny_config(steps=10, validate_every=5, preview_every=5), progress=False)
    tags = {c[0] for c in calls}
    assert {"train/loss", "train/images_per_second", "val/A/ssim", "val/B/psnr", "preview", "close"} <= tags
    assert calls[0] == ("init", str(tmp_path / "m" / "tensorboard"))
    assert [c[1] for c in calls if c[0] == "val/A/ssim"] == [5, 10]


def test_progress_false_reaches_the_parser_of_the_facesets(facesets, tmp_path, monkeypatch):  # noqa: F811
    import facecraft.train.data as data

    seen: list[bool] = []

    def fake_parsed(fs, faces, progress=True):  # type: ignore[no-untyped-def]
        seen.append(progress)
        return [np.full((fs.size, fs.size), 1, np.uint8) for _ in faces]  # all skin

    monkeypatch.setattr(data, "parsed_labels", fake_parsed)
    monkeypatch.delenv("FACECRAFT_NO_PARSER")
    train(
        facesets,
        tmp_path / "m",
        tiny_config(steps=1, loss=LossConfig(identity=0.0, perceptual=0.0)),
        progress=False,
    )
    assert seen == [False, False]


def test_the_identity_loss_aims_at_the_faceset_or_at_the_training_faces(facesets) -> None:  # noqa: F811
    from facecraft.train.data import load_identity
    from facecraft.train.distributed import DistInfo
    from facecraft.train.identity_loss import faceset_identity
    from facecraft.train.models import build_model, make_config
    from facecraft.train.testing import TINY_LITE
    from facecraft.train.trainer import Trainer

    data = [load_identity(n, p, 32) for n, p in facesets.items()]
    net = build_model("lite", make_config("lite", TINY_LITE), ["A", "B"])
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    cpu, dist = torch.device("cpu"), DistInfo()
    by_faceset = Trainer(net, opt, data, tiny_config(), 4, cpu, dist).identity_loss
    aim = LossConfig(identity_aim="training")
    by_training = Trainer(net, opt, data, tiny_config(loss=aim), 4, cpu, dist).identity_loss
    assert by_faceset is not None and by_training is not None
    for i, d in enumerate(data):
        assert torch.allclose(by_faceset.people[i], faceset_identity(d.source))
        assert torch.allclose(by_training.people[i], by_training.person_of(d.images[d.train_idx]), atol=1e-5)
        assert float(by_training.people[i] @ by_faceset.people[i]) < 0.999
