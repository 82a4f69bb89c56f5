"""``lite`` really learns: validation masked SSIM on held-out faces of two real facesets goes up."""

from __future__ import annotations

import pytest
from train_fixtures import facesets  # noqa: F401

from facecraft.train import FaceModel, TrainConfig, train


@pytest.mark.slow
def test_lite_improves_validation_ssim_within_a_short_run(facesets, tmp_path):  # noqa: F811
    config = TrainConfig(
        model="lite", batch=8, steps=150, device="cpu", validate_every=50, preview_every=150, save_every=150
    )
    report = train(facesets, tmp_path / "m", config, progress=False)
    curve = [h["val_ssim"] for h in report.history]
    assert [h["step"] for h in report.history] == [0, 50, 100, 150]
    assert curve[-1] > curve[0] + 0.15, curve
    assert all(m["psnr"] > 12 for m in report.metrics.values()), report.metrics
    assert (tmp_path / "m" / "preview.png").is_file()
    assert FaceModel.load(tmp_path / "m", checkpoint="best").step in (0, 50, 100, 150)
