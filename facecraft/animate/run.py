"""The animate verb: a portrait, a driving video or a built-in performance -> a labelled video."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from facecraft.animate.config import AnimateConfig
from facecraft.animate.driving import VideoDriver
from facecraft.animate.layers import load_parser, parse_head
from facecraft.animate.motion import Motion
from facecraft.animate.performance import curve_motions, load_performance, performance_motions
from facecraft.animate.portrait import Portrait, load_portrait
from facecraft.animate.prefetch import Prefetch
from facecraft.animate.renderers import FrameRequest, Renderer, get_renderer
from facecraft.animate.request import check_request, staged_output
from facecraft.animate.retarget import mouth_rest, reference_to_portrait, target_points
from facecraft.animate.speech import frame_count, read_audio, speech_curves
from facecraft.errors import FacecraftError
from facecraft.face.detect import FaceDetector
from facecraft.face.mesh import FaceMesher
from facecraft.media.video import probe
from facecraft.media.writer import VideoWriter
from facecraft.provenance import FrameLabeller, label_video

if TYPE_CHECKING:
    from facecraft.face.parse_dnn import DnnFaceParser

PERFORMANCE_FPS = 25.0
MAX_SILENT_UPSCALE = 1.5  # enlarging the portrait more than this gets a warning
_RENDER_AHEAD = 4  # rendered frames waiting to be labelled and written
# Driving frames decoded and meshed ahead: they fill while the parser loads (~2 s of a short clip's time to
# its first frame), so up to this many bytes of driving frames (~250 frames of 512 x 512), at least 48.
_AHEAD_BYTES = 192 * 2**20
_AHEAD_MIN = 48


@dataclass(frozen=True)
class AnimateReport:
    output: Path
    frames: int
    fps: float
    width: int
    height: int
    seconds: float  # wall time
    audio: bool
    warnings: tuple[str, ...] = ()

    @property
    def frames_per_second(self) -> float:
        return self.frames / max(self.seconds, 1e-9)


class Animation:
    """A portrait prepared for animation by one renderer: feed it motions, get frames.

    Use it directly to render without writing a file (benchmarks, evaluation, a live preview).
    """

    def __init__(
        self,
        portrait: Portrait,
        config: AnimateConfig,
        reference: tuple[np.ndarray, np.ndarray] | None,
        close_mouth: bool = False,
    ):
        """``reference``: (driving reference frame BGR, its mesh) for video-driven motion. ``close_mouth``:
        close the portrait's lips at rest (speech: pauses must show closed lips)."""
        self.portrait = portrait
        self.config = config
        self.settings = config.retarget_settings()
        self.orient = (
            reference_to_portrait(reference[1], portrait.landmarks) if reference is not None else np.eye(3)
        )
        # Absolute mouth: the portrait's lip gap at rest becomes the driving reference's (closed).
        if reference is not None and config.absolute_mouth and config.relative:
            self.rest = mouth_rest(portrait.landmarks, reference[1])
        elif close_mouth:
            self.rest = mouth_rest(portrait.landmarks, None)
        else:
            self.rest = np.zeros_like(portrait.landmarks)
        self.renderer: Renderer = get_renderer(config.renderer)(portrait, config, reference)

    def target(self, motion: Motion) -> np.ndarray:
        """Where the portrait's mesh points (478, 3) go for this motion (portrait pixels)."""
        return target_points(self.portrait.landmarks, motion, self.orient, self.settings, self.rest)

    def render(self, motion: Motion) -> np.ndarray:
        return self.renderer.render(FrameRequest(motion, self.target(motion)))

    def frames(self, motions: Iterator[Motion]) -> Iterator[np.ndarray]:
        for motion in motions:
            yield self.render(motion)


def animate(
    portrait: str | Path | np.ndarray,
    driving: str | Path | None = None,
    *,
    output: str | Path,
    performance: str | None = None,
    seconds: float | None = None,
    config: AnimateConfig | None = None,
    audio: str | Path | None = None,
    face: int | None = None,
    consent: str | Path | None = None,
    visible_label: bool = False,
    progress: bool = True,
    content_id: int | None = None,
) -> AnimateReport:
    """Bring ``portrait`` (a photo or painting path, or a BGR image) to life and write ``output`` (MP4).

    Give one source of motion: ``driving`` (a video of a face; the output follows its length, frame rate
    and audio), ``performance`` (a built-in name, see :func:`facecraft.animate.list_performances`;
    ``seconds`` sets the length, default the performance's own) or only ``audio`` (speech: the portrait
    speaks it, the output has the audio's length and sound). With a driving video or a performance,
    ``audio`` only replaces the sound track. ``face``: which face of the portrait (0 = largest).
    ``content_id``: the provenance watermark's id (None: a new random one, as every output gets; the
    self-reenactment evaluation fixes it, so that a measurement repeats).
    Every option and the output are checked before anything is rendered; the output appears only once
    it is complete and labelled.
    """
    config = config or AnimateConfig()
    source = check_request(
        None if isinstance(portrait, np.ndarray) else portrait,
        driving,
        performance,
        audio,
        output,
        consent=consent,
        seconds=seconds,
    )
    perf = load_performance(performance) if performance is not None else None
    samples = read_audio(source.audio) if source.kind == "audio" and source.audio is not None else None
    output = Path(output)
    start = time.perf_counter()
    warnings: list[str] = []
    detector = FaceDetector()
    with FaceMesher() as mesher, staged_output(output) as staged, ExitStack() as stack:
        # The face parser (head layer) loads while the portrait is read, and runs while the driving video's
        # reference frame is found and its first frames are decoded and meshed.
        pool = stack.enter_context(ThreadPoolExecutor(1, thread_name_prefix="facecraft-parse"))
        parser = pool.submit(load_parser) if config.layers else None
        pic = load_portrait(portrait, mesher, detector, crop=config.crop, size=config.size, face=face)
        warnings += framing_warnings(pic)
        parsed = None
        if parser is not None:
            parsed = pool.submit(_parse_when_loaded, pic, parser)
        if source.driving is not None:
            driver = VideoDriver(source.driving, config, mesher, detector, pic.landmarks)
            depth = max(_AHEAD_MIN, _AHEAD_BYTES // max(1, 3 * driver.info.width * driver.info.height))
            ahead = stack.enter_context(Prefetch(driver.motions(), depth=depth))
        pic = replace(pic, head=parsed.result() if parsed is not None else None)
        if source.driving is not None:
            plan = _video_plan(pic, config, driver, source.audio, ahead)
        elif perf is not None:
            motions = performance_motions(perf, pic.landmarks, PERFORMANCE_FPS, seconds)
            total = round((seconds or perf.seconds) * PERFORMANCE_FPS)
            plan = _Plan(Animation(pic, config, None), motions, PERFORMANCE_FPS, total, source.audio)
        else:
            assert samples is not None and source.audio is not None
            plan = _speech_plan(pic, config, samples, source.audio)
        anim, motions, fps, total, audio_from = plan
        h, w = pic.image.shape[:2]
        frames = 0
        # watermark while writing: no second encode
        labeller = (
            FrameLabeller(visible_label) if content_id is None else FrameLabeller(visible_label, content_id)
        )
        duration = None if audio_from is None else total / fps
        with VideoWriter(staged, w, h, fps, audio_from=audio_from, audio_duration=duration) as writer:
            # Rendering runs a few frames ahead in a thread while this one labels and writes.
            rendered = stack.enter_context(Prefetch(anim.frames(motions), depth=_RENDER_AHEAD))
            for frame in _progress(rendered, total, progress):
                writer.write(labeller.apply(frame))
                frames += 1
        if frames == 0:
            raise FacecraftError(f"the driving video {driving} has no frames")
        has_audio = audio_from is not None and probe(staged).has_audio
        inputs = [
            Path(x) for x in (portrait if not isinstance(portrait, np.ndarray) else None, driving, audio) if x
        ]
        label_video(
            staged,
            "animate",
            inputs,
            consent=Path(consent) if consent else None,
            visible_label=visible_label,
            content_id=labeller.content_id,
            replaced=labeller.replaced_content_ids,
        )
    return AnimateReport(output, frames, fps, w, h, time.perf_counter() - start, has_audio, tuple(warnings))


def _parse_when_loaded(
    pic: Portrait, parser: Future[DnnFaceParser | None]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    loaded = parser.result()
    return parse_head(pic.image, pic.landmarks, loaded) if loaded is not None else None


class _Plan(NamedTuple):
    """What to render: the prepared portrait, one motion per frame, the frame rate, the frame count and the
    file the sound track comes from."""

    anim: Animation
    motions: Iterator[Motion]
    fps: float
    total: int
    audio_from: Path | None


def _video_plan(
    pic: Portrait, config: AnimateConfig, driver: VideoDriver, audio: Path | None, motions: Iterator[Motion]
) -> _Plan:
    ref = driver.reference
    anim = Animation(pic, config, (ref.image, ref.mesh.landmarks.astype(np.float64)))
    sound = audio or (driver.path if driver.info.has_audio else None)
    return _Plan(anim, motions, driver.info.fps, driver.info.frame_count, sound)


def _speech_plan(pic: Portrait, config: AnimateConfig, samples: np.ndarray, audio: Path) -> _Plan:
    """The portrait speaks ``samples`` (mono, speech.RATE): visemes and gestures over idle motion; its
    lips are closed at rest so pauses show closed lips."""
    total = frame_count(samples, PERFORMANCE_FPS)
    idle = load_performance("idle").sample(np.arange(total) / PERFORMANCE_FPS)
    motions = curve_motions(speech_curves(samples, PERFORMANCE_FPS, idle), pic.landmarks)
    return _Plan(Animation(pic, config, None, close_mouth=True), motions, PERFORMANCE_FPS, total, audio)


def framing_warnings(pic: Portrait) -> list[str]:
    """A warning when the portrait had to be enlarged more than 1.5 times to the output size."""
    upscale = pic.image.shape[1] / max(pic.crop[2], 1)
    if upscale > MAX_SILENT_UPSCALE:
        return [
            f"the portrait's {pic.crop[2]}x{pic.crop[3]} px crop is enlarged {upscale:.1f}x to "
            f"{pic.image.shape[1]}x{pic.image.shape[0]}; it will look soft (use --size {_even(pic.crop[2] * 1.5)} "
            "or a larger image)"
        ]
    return []


def _even(x: float) -> int:
    return max(64, int(x) // 2 * 2)


def _progress(frames: Iterator[np.ndarray], total: int, enabled: bool) -> Iterator[np.ndarray]:
    if not enabled:
        yield from frames
        return
    from tqdm import tqdm

    yield from tqdm(frames, total=total or None, unit="frame", desc="animate", leave=False)
