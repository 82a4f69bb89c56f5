"""Animate benchmark: frames/s at 512 x 512 output (``--crop face``) on this CPU, and self-reenactment quality.

Prints JSON (every speed at the 512 x 512 output the target names; ``output`` says the size):
- ``render_fps``: the renderer alone (retarget + warp field + remap + mouth), a built-in performance
- ``driven_fps``: driving-video loop without file output (decode + mesh the driving face + smooth + render)
- ``warm_fps``: :func:`facecraft.animate.animate` writing the labelled H.264 file with audio, in a process whose
  libraries and models are already loaded (what a second job in the studio sees)
- ``end_to_end_fps``: the ``facecraft animate`` command as a user runs it, a fresh process: Python's start,
  imports and model loading included (frames / wall time), on the 7.3 s driving clip
- ``end_to_end_fps_long``: the same command on that clip played four times in a row (29 s, no sound): the
  start-up cost, a few seconds, weighs a quarter as much
- ``startup_s``, ``steady_fps``: the two runs solved for wall = start-up + frames / rate (one run each: the
  machine's noise goes straight into them)
- ``reenact``: :func:`facecraft.animate.reenact_eval` on man_green_screen_3s and woman_glasses_talking_5s_audio
Target on the 2-core CPU: >= 25 frames/s end to end at 512 x 512.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from facecraft.animate import AnimateConfig, Animation, animate, reenact_eval
from facecraft.animate.driving import VideoDriver
from facecraft.animate.performance import load_performance, performance_motions
from facecraft.animate.portrait import load_portrait
from facecraft.face.detect import FaceDetector
from facecraft.face.mesh import FaceMesher

DATA = Path(os.environ.get("FACECRAFT_TEST_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
PORTRAIT = DATA / "portraits" / "mona_lisa.jpg"
DRIVING = DATA / "videos" / "man_glasses_orange_7s_audio.mp4"
REENACT = ("man_green_screen_3s.mp4", "woman_glasses_talking_5s_audio.mp4")
TARGET_FPS = 25.0
CROP = "face"  # a 512 x 512 output (the default crop, "portrait", gives 288 x 512)


def _render_fps(mesher: FaceMesher, detector: FaceDetector) -> float:
    config = AnimateConfig(size=512, crop=CROP)
    pic = load_portrait(PORTRAIT, mesher, detector, size=512, crop=CROP)
    anim = Animation(pic, config, None)
    motions = list(performance_motions(load_performance("talk"), pic.landmarks, 25.0, 4.0))
    anim.render(motions[0])
    t0 = time.perf_counter()
    for m in motions:
        anim.render(m)
    return len(motions) / (time.perf_counter() - t0)


def _driven_fps(mesher: FaceMesher, detector: FaceDetector) -> float:
    config = AnimateConfig(size=512, crop=CROP)
    pic = load_portrait(PORTRAIT, mesher, detector, size=512, crop=CROP)
    driver = VideoDriver(DRIVING, config, mesher, detector, pic.landmarks)
    anim = Animation(
        pic, config, (driver.reference.image, driver.reference.mesh.landmarks.astype(np.float64))
    )
    t0 = time.perf_counter()
    n = sum(1 for _ in anim.frames(driver.motions()))
    return n / (time.perf_counter() - t0)


def _looped(path: Path, times: int, out: Path) -> Path:
    """``path``'s frames ``times`` over, without sound (a longer driving clip)."""
    from facecraft.media.video import iter_frames, probe
    from facecraft.media.writer import VideoWriter

    info = probe(path)
    with VideoWriter(out, info.width, info.height, info.fps) as writer:
        for _ in range(times):
            for frame in iter_frames(path):
                writer.write(frame.image)
    return out


def _command_run(out: Path, driving: Path = DRIVING) -> tuple[int, float]:
    """(frames, wall seconds) of the ``facecraft animate`` command in a fresh process."""
    from facecraft.media.video import probe

    cmd = [
        sys.executable,
        "-m",
        "facecraft",
        "animate",
        str(PORTRAIT),
        str(driving),
        "--crop",
        CROP,
        "-o",
        str(out),
    ]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return probe(out).frame_count, time.perf_counter() - t0


def startup_and_rate(short: tuple[int, float], long: tuple[int, float]) -> tuple[float, float]:
    """(seconds before frames flow, frames/s after) from two runs of the command, (frames, wall) each, on
    the same clip at two lengths: wall = start-up + frames / rate."""
    (n1, t1), (n2, t2) = short, long
    rate = (n2 - n1) / max(t2 - t1, 1e-9)
    return t1 - n1 / rate, rate


def main() -> int:
    if not PORTRAIT.is_file():
        print(json.dumps({"skipped": f"{PORTRAIT} not found (set FACECRAFT_TEST_DATA)"}))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        short = _command_run(Path(tmp) / "cold.mp4")  # first: nothing loaded yet
        long = _command_run(Path(tmp) / "long.mp4", _looped(DRIVING, 4, Path(tmp) / "driving_x4.mp4"))
        end_to_end, end_to_end_long = short[0] / short[1], long[0] / long[1]
        startup, steady = startup_and_rate(short, long)
        detector = FaceDetector()
        with FaceMesher() as mesher:
            render = _render_fps(mesher, detector)
            driven = _driven_fps(mesher, detector)
        report = animate(
            PORTRAIT, DRIVING, output=Path(tmp) / "a.mp4", config=AnimateConfig(crop=CROP), progress=False
        )
    size = f"{report.width}x{report.height}"
    result = {
        "machine": f"{platform.machine()} {os.cpu_count()} cpu (shared)",
        "output": size,
        "render_fps": round(render, 1),
        "driven_fps": round(driven, 1),
        "warm_fps": round(report.frames_per_second, 1),
        "end_to_end_fps": round(end_to_end, 1),
        "end_to_end_fps_long": round(end_to_end_long, 1),
        "startup_s": round(startup, 2),
        "steady_fps": round(steady, 1),
        "target_fps": TARGET_FPS,
        "reenact": [reenact_eval(DATA / "videos" / name) for name in REENACT],
    }
    print(json.dumps(result, indent=2))
    print(
        f"animate at {size}: render {render:.1f} fps, driven {driven:.1f} fps, warm {report.frames_per_second:.1f} "
        f"fps, end to end (the command, fresh process) {end_to_end:.1f} fps on 7.3 s, {end_to_end_long:.1f} fps on 29 s "
        f"({startup:.1f} s of start-up, then {steady:.1f} fps; target {TARGET_FPS:g})",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
