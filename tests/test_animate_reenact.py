"""Self-reenactment scoring: the delivered file, the still-frame baseline, two keypoint detectors."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from facecraft.animate import AnimateConfig, reenact_eval
from facecraft.animate.evaluate import EVAL_CONTENT_ID, METRICS, akd, face_crop_box, l1, ssim
from facecraft.animate.renderers import FrameRequest, Renderer, register
from facecraft.face.detect import Detection
from facecraft.media.video import iter_frames
from facecraft.media.writer import VideoWriter

SIZE = 256


@register("test-do-nothing")
class DoNothing(Renderer):
    """A renderer that ignores the motion: every frame is the portrait. It must not pass as animation."""

    def render(self, request: FrameRequest) -> np.ndarray:
        return self.portrait.image.copy()


@pytest.fixture(scope="module")
def moving_clip(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """18 frames of a man turning and talking (every 3rd frame of the first 54), at 256 x 256."""
    src = shared_data / "videos" / "man_glasses_orange_7s_audio.mp4"
    out = tmp_path_factory.mktemp("reenact") / "moving.mp4"
    frames = [f.image for f in iter_frames(src) if f.index < 54 and f.index % 3 == 0]
    with VideoWriter(out, SIZE, SIZE, 25.0, crf=12) as writer:
        for image in frames:
            writer.write(cv2.resize(image, (SIZE, SIZE), interpolation=cv2.INTER_AREA))
    return out


def test_face_crop_is_the_square_union_of_the_boxes_with_a_margin() -> None:
    points = np.zeros((5, 2))
    boxes = [Detection((100, 50, 40, 60), 0.9, points), None, Detection((120, 60, 40, 60), 0.9, points)]
    x, y, side = face_crop_box(boxes, 300, 200)
    assert side == 84  # union 60 x 70, 10 % more on each side: 84
    assert (x, y) == (88, 43)  # centred on the union (130, 85)
    x, y, side = face_crop_box([Detection((0, 0, 150, 190), 0.9, points)], 300, 200)
    assert side == 200 and x == 0 and y == 0  # never larger than the frame, kept inside it


def test_pixel_and_keypoint_metrics_have_known_answers() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    assert ssim(image, image) == pytest.approx(1.0)
    assert ssim(image, 255 - image) < 0.1
    assert l1(image, image) == 0.0 and l1(np.zeros_like(image), np.full_like(image, 255)) == 1.0
    pts = rng.normal(size=(5, 2))
    assert akd(pts, pts + np.array([3.0, 4.0]), 0.5) == pytest.approx(2.5)
    assert np.isnan(akd(pts, None, 1.0))


def test_a_renderer_that_does_nothing_scores_no_better_than_the_still_frame(moving_clip: Path) -> None:
    result = reenact_eval(moving_clip, config=AnimateConfig(renderer="test-do-nothing"))
    metrics = result["metrics"]
    assert set(metrics) == set(METRICS)
    for name in ("akd_mesh", "akd_yunet", "face_l1"):
        m = metrics[name]
        assert m["animated"] > 0.95 * m["still"], (name, m)  # no real gain: only the encode's noise
    for name, m in metrics.items():
        # delivered the same way (the same watermark id, the same encoder), doing nothing is the delivered
        # still frame, to the last digit
        assert m["animated"] == m["still_delivered"], (name, m)
    assert result["renderer"] == "test-do-nothing" and result["mouth_interior"] == "drawn"
    assert result["mouth"]["amplitude"] < 0.3, result["mouth"]  # the still mouth: only the mesh's noise


def test_the_geometric_renderer_beats_the_still_frame_on_both_detectors(moving_clip: Path) -> None:
    result = reenact_eval(moving_clip)
    assert result["frames"] == 18 and result["faces_lost"] == 0
    assert "delivered" in result["scored"]
    metrics = result["metrics"]
    # the face moves where the real one moves, seen by the mesh that drives the warp and by YuNet
    assert metrics["akd_mesh"]["animated"] < 0.6 * metrics["akd_mesh"]["still"], metrics["akd_mesh"]
    assert metrics["akd_yunet"]["animated"] < 0.85 * metrics["akd_yunet"]["still"], metrics["akd_yunet"]
    assert 0.5 < metrics["csim"]["animated"] <= 1.0
    assert result["mouth"]["amplitude"] > 0.6 and result["mouth"]["correlation"] > 0.6, result["mouth"]


def test_the_same_clip_scores_the_same_twice_and_another_watermark_id_moves_pixels(moving_clip: Path) -> None:
    first, again = (reenact_eval(moving_clip, max_frames=6) for _ in range(2))
    assert first["watermark_id"] == again["watermark_id"] == EVAL_CONTENT_ID
    for key in ("metrics", "mouth", "jitter"):
        assert first[key] == again[key], key
    other = reenact_eval(moving_clip, max_frames=6, content_id=EVAL_CONTENT_ID + 1)
    assert other["metrics"]["frame_l1"] != first["metrics"]["frame_l1"]  # the id is in the pixels


def test_cli_prints_the_still_baseline_next_to_every_metric(
    moving_clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from facecraft.cli.main import main

    out = tmp_path / "reenact.json"
    assert main(["-q", "evaluate", "--reenact", str(moving_clip), "--max-frames", "4", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    for name in METRICS:
        assert name in printed
    assert "still" in printed and "mouth       amplitude" in printed
    saved = json.loads(out.read_text())
    assert saved["frames"] == 4 and saved["mouth_interior"] == "drawn"
    # the answer's shading is not used either
    assert saved["shading"].startswith("none") and "shading none" in printed
    assert all(m["still"] is not None and m["still_delivered"] is not None for m in saved["metrics"].values())
