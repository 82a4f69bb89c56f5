"""The animate verb: a portrait, a driving video or a built-in performance -> a labelled video."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facecraft.animate.config import AnimateConfig
from facecraft.animate.driving import VideoDriver
from facecraft.animate.motion import Motion
from facecraft.animate.performance import load_performance, performance_motions
from facecraft.animate.portrait import Portrait, load_portrait
from facecraft.animate.prefetch import prefetch
from facecraft.animate.renderers import FrameRequest, Renderer, get_renderer
from facecraft.animate.retarget import reference_to_portrait, target_points
from facecraft.errors import FacecraftError
from facecraft.face.detect import FaceDetector
from facecraft.face.mesh import FaceMesher
from facecraft.media.video import probe
from facecraft.media.writer import VideoWriter
from facecraft.provenance import FrameLabeller, label_video

PERFORMANCE_FPS = 25.0


@dataclass(frozen=True)
class AnimateReport:
    output: Path
    frames: int
    fps: float
    width: int
    height: int
    seconds: float  # wall time
    audio: bool

    @property
    def frames_per_second(self) -> float:
        return self.frames / max(self.seconds, 1e-9)


class Animation:
    """A portrait prepared for animation by one renderer: feed it motions, get frames.

    Use it directly to render without writing a file (benchmarks, evaluation, a live preview).
    """

    def __init__(
        self, portrait: Portrait, config: AnimateConfig, reference: tuple[np.ndarray, np.ndarray] | None
    ):
        self.portrait = portrait
        self.config = config
        self.settings = config.retarget_settings()
        self.orient = (
            reference_to_portrait(reference[1], portrait.landmarks) if reference is not None else np.eye(3)
        )
        self.renderer: Renderer = get_renderer(config.renderer)(portrait, config, reference)

    def target(self, motion: Motion) -> np.ndarray:
        """Where the portrait's mesh points (478, 3) go for this motion (portrait pixels)."""
        return target_points(self.portrait.landmarks, motion, self.orient, self.settings)

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
) -> AnimateReport:
    """Bring ``portrait`` (a photo or painting path, or a BGR image) to life and write ``output`` (MP4).

    Give either ``driving`` (a video of a face; the output follows its length, frame rate and audio) or
    ``performance`` (a built-in name, see :func:`facecraft.animate.list_performances`; ``seconds`` sets the
    length, default the performance's own). ``audio``: take the sound from this file instead.
    ``face``: which face of the portrait (0 = largest) when it has several.
    """
    config = config or AnimateConfig()
    if (driving is None) == (performance is None):
        raise FacecraftError("give either a driving video or --performance NAME (not both)")
    if audio is not None and not Path(audio).is_file():
        raise FacecraftError(f"the audio source {audio} does not exist")
    if consent is not None and not Path(consent).is_file():
        raise FacecraftError(f"the consent record {consent} does not exist")
    output = Path(output)
    start = time.perf_counter()
    detector = FaceDetector()
    with FaceMesher() as mesher:
        pic = load_portrait(portrait, mesher, detector, crop=config.crop, size=config.size, face=face)
        if driving is not None:
            driver = VideoDriver(driving, config, mesher, detector, pic.landmarks)
            ref = driver.reference
            anim = Animation(pic, config, (ref.image, ref.mesh.landmarks.astype(np.float64)))
            motions, fps, total = prefetch(driver.motions()), driver.info.fps, driver.info.frame_count
            audio_from = audio if audio is not None else (driving if driver.info.has_audio else None)
        else:
            assert performance is not None
            perf = load_performance(performance)
            anim = Animation(pic, config, None)
            fps = PERFORMANCE_FPS
            motions = performance_motions(perf, pic.landmarks, fps, seconds)
            total = round((seconds or perf.seconds) * fps)
            audio_from = audio
        h, w = pic.image.shape[:2]
        frames = 0
        labeller = FrameLabeller(visible_label)  # watermark while writing: no second encode
        duration = None if audio_from is None else total / fps
        with VideoWriter(output, w, h, fps, audio_from=audio_from, audio_duration=duration) as writer:
            for frame in _progress(anim.frames(motions), total, progress):
                writer.write(labeller.apply(frame))
                frames += 1
    if frames == 0:
        raise FacecraftError(f"the driving video {driving} has no frames")
    has_audio = audio_from is not None and probe(output).has_audio
    inputs = [
        Path(x) for x in (portrait if not isinstance(portrait, np.ndarray) else None, driving, audio) if x
    ]
    label_video(
        output,
        "animate",
        inputs,
        consent=Path(consent) if consent else None,
        visible_label=visible_label,
        content_id=labeller.content_id,
        replaced=labeller.replaced_content_ids,
    )
    return AnimateReport(output, frames, fps, w, h, time.perf_counter() - start, has_audio)


def _progress(frames: Iterator[np.ndarray], total: int, enabled: bool) -> Iterator[np.ndarray]:
    if not enabled:
        yield from frames
        return
    from tqdm import tqdm

    yield from tqdm(frames, total=total or None, unit="frame", desc="animate", leave=False)
