"""``make demo``: the whole pipeline on the embedded default portraits, or on the user's own media.

The embedded default uses two public-domain portraits that ship inside packages already installed:
Grace Hopper (matplotlib) and the astronaut Eileen Collins (scikit-image). One photo of a person is
not enough to train on, so the demo first animates each portrait with the built-in performances
(animate stage) to get varied poses and expressions, extracts faces from those clips, trains the
``lite`` model for a bounded few minutes, swaps Grace Hopper's face into the astronaut's talking clip,
and evaluates the result. Every video it writes is labelled as synthetic.
"""

from __future__ import annotations

import importlib.util
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from facecraft.errors import FacecraftError
from facecraft.extract import ExtractConfig, extract
from facecraft.faceset import Faceset
from facecraft.faceset.preview import write_preview
from facecraft.media.inputs import collect_media

#: Built-in performances used to turn one portrait into varied training faces.
TRAINING_PERFORMANCES = ("talk", "look-around", "nod", "smile")


def embedded_portraits() -> tuple[Path, Path]:
    """Paths of the two public-domain portraits shipped with matplotlib and scikit-image."""
    paths = []
    for package, rel in (
        ("matplotlib", "mpl-data/sample_data/grace_hopper.jpg"),
        ("skimage", "data/astronaut.png"),
    ):
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise FacecraftError(f"the package {package} (which ships the demo portrait) is not installed")
        path = Path(next(iter(spec.submodule_search_locations))) / rel
        if not path.is_file():
            raise FacecraftError(f"the demo portrait {rel} is missing from {package}")
        paths.append(path)
    return paths[0], paths[1]


@dataclass(frozen=True)
class DemoConfig:
    train_minutes: float = 4.0
    """Wall-clock budget for training the lite model (minutes)."""
    train_steps: int = 0
    """Stop training after this many steps instead (0: use the minutes)."""
    face_size: int = 128
    """Aligned face size of the demo facesets (the lite model works at 64 px)."""
    clip_seconds: float = 4.0
    """Length of each animated clip of a portrait."""

    def __post_init__(self) -> None:
        if self.train_minutes <= 0 and self.train_steps <= 0:
            raise FacecraftError("the demo needs a training budget (minutes or steps)")


@dataclass
class DemoResult:
    out: Path
    files: dict[str, Path] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def run_demo(
    out: str | Path,
    a: list[str] | None = None,
    b: list[str] | None = None,
    config: DemoConfig | None = None,
    progress: bool = True,
    say: Callable[[str], None] = print,
) -> DemoResult:
    """Run the demo pipeline into ``out``; ``a``/``b`` are the user's media (default: the embedded portraits).

    Steps: faces for A and B (animated clips of the portraits, or the user's media) -> facesets ->
    train ``lite`` -> swap A's face into a clip of B -> evaluate -> a portrait animated on its own.
    """
    config = config or DemoConfig()
    if bool(a) != bool(b):
        raise FacecraftError("give both A=... and B=... (or neither for the embedded default)")
    out = Path(out)
    result = DemoResult(out)
    timer = _Timer(result.timings)

    if a and b:
        media = {"A": [str(p) for p in a], "B": [str(p) for p in b]}
        target = _first_video(b) or Path(b[0])
    else:
        say("animating the two built-in portraits to get varied training faces ...")
        media = _animated_training_clips(out / "clips", config, progress)
        target = out / "clips" / "B_talk.mp4"
        timer.lap("animate training clips")

    for name, files in media.items():
        result.files[f"faceset {name} sheet"] = _extract(name, files, out, config, progress, say)
    timer.lap("extract")

    model_dir = out / "model"
    _train({"A": out / "facesets" / "A", "B": out / "facesets" / "B"}, model_dir, config, progress, say)
    result.files["training preview"] = model_dir / "preview.png"
    timer.lap("train")

    swapped = _swap(target, model_dir, out, progress)
    result.files["swapped video"] = swapped.output
    if swapped.preview is not None:
        result.files["side by side"] = swapped.preview
    timer.lap("swap")

    result.files["evaluation"] = _evaluate(target, swapped.output, out / "facesets" / "A", out, say, progress)
    timer.lap("evaluate")

    if not (a and b):
        result.files["animated portrait"] = _animate(
            embedded_portraits()[0], out / "animated_portrait.mp4", "talk", config, progress
        )
        timer.lap("animate portrait")
    (out / "timings.json").write_text(json.dumps(result.timings, indent=2) + "\n")
    return result


class _Timer:
    """Records the seconds each step took into ``timings``."""

    def __init__(self, timings: dict[str, float]):
        self.timings = timings
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(now - self.last, 1)
        self.last = now


def _animate(portrait: Path, output: Path, performance: str, config: DemoConfig, progress: bool) -> Path:
    from facecraft.animate import animate

    if not output.is_file():  # a rerun of the demo reuses what it made
        animate(
            portrait, output=output, performance=performance, seconds=config.clip_seconds, progress=progress
        )
    return output


def _animated_training_clips(folder: Path, config: DemoConfig, progress: bool) -> dict[str, list[str]]:
    """Each built-in portrait animated with every training performance: {"A": [clips], "B": [clips]}."""
    portraits = dict(zip(("A", "B"), embedded_portraits(), strict=True))
    return {
        name: [
            str(_animate(portrait, folder / f"{name}_{perf}.mp4", perf, config, progress))
            for perf in TRAINING_PERFORMANCES
        ]
        for name, portrait in portraits.items()
    }


def _extract(
    name: str, files: list[str], out: Path, config: DemoConfig, progress: bool, say: Callable[[str], None]
) -> Path:
    """Extract ``files`` into out/facesets/NAME and write its contact sheet; returns the sheet's path."""
    faceset_dir = out / "facesets" / name
    report = extract(list(files), faceset_dir, ExtractConfig(size=config.face_size), progress=progress)
    say(f"{name}: {report.output_summary()}")
    with Faceset.open(faceset_dir) as fs:
        return write_preview(fs, out / f"faceset_{name}.png")


def _first_video(paths: list[str]) -> Path | None:
    videos = [m.path for m in collect_media(list(paths)) if m.kind == "video"]
    return videos[0] if videos else None


def _train(
    facesets: dict[str, Path],
    model_dir: Path,
    config: DemoConfig,
    progress: bool,
    say: Callable[[str], None],
) -> None:
    from facecraft.train import TrainConfig, train

    budget = f"{config.train_steps} steps" if config.train_steps else f"{config.train_minutes:g} minutes"
    say(f"training the lite model for {budget} (a GPU or a longer run gives better faces) ...")
    train_config = TrainConfig(
        model="lite",
        steps=config.train_steps,
        minutes=0.0 if config.train_steps else config.train_minutes,
        preview_every=100,
        validate_every=100,
        save_every=200,
    )
    report = train({k: str(v) for k, v in facesets.items()}, model_dir, train_config, progress=progress)
    say(
        f"trained {report.step} steps at {report.images_per_second:.0f} faces/s; validation masked SSIM "
        f"{report.val_ssim:.3f}"
    )


def _swap(target: Path, model_dir: Path, out: Path, progress: bool):  # type: ignore[no-untyped-def]
    from facecraft.swap import SwapConfig, swap

    return swap(target, model_dir, out / "swapped.mp4", SwapConfig(to="A"), preview=True, progress=progress)


def _evaluate(
    original: Path, swapped: Path, source: Path, out: Path, say: Callable[[str], None], progress: bool
) -> Path:
    from facecraft.evaluate import evaluate

    report = evaluate(original, swapped, source, progress=progress)
    data = report.to_json()
    path = out / "evaluation.json"
    path.write_text(json.dumps(data, indent=2) + "\n")
    summary = data.get("summary", {})
    shown = ", ".join(f"{k} {v:.3f}" for k, v in summary.items() if isinstance(v, float))
    say(f"evaluation: {shown}")
    return path
