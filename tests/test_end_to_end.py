"""Slow: the whole pipeline on two real clips, as `make demo A=... B=...` runs it."""

from __future__ import annotations

import json

import pytest

from facecraft.demo import DemoConfig, run_demo
from facecraft.media.video import probe
from facecraft.provenance import verify


@pytest.mark.slow
def test_demo_on_user_media_extracts_trains_swaps_and_evaluates(shared_data, tmp_path):
    a = shared_data / "videos" / "man_grey_backdrop_7s_audio.mp4"
    b = shared_data / "videos" / "woman_glasses_talking_5s_audio.mp4"
    messages: list[str] = []
    result = run_demo(
        tmp_path / "out", [str(a)], [str(b)], DemoConfig(train_steps=150), progress=False, say=messages.append
    )
    swapped = result.files["swapped video"]
    original, out = probe(b), probe(swapped)
    assert (out.width, out.height, out.frame_count, out.has_audio) == (
        original.width,
        original.height,
        original.frame_count,
        True,
    )
    assert result.files["side by side"].is_file()
    assert result.files["training preview"].is_file()
    report = json.loads(result.files["evaluation"].read_text())
    summary = report["summary"]
    # Even a short CPU run must move the face towards A: closer to A than the original face was.
    assert summary["identity_to_source"] > summary["original_to_source"]
    assert verify(swapped).labelled
    assert any("trained 150 steps" in m for m in messages)
