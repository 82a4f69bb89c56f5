"""What each job kind runs: the same ``facecraft`` command line a person would type, built from a form.

The studio never re-implements a verb: a job is a CLI command run by :mod:`facecraft.studio.runner`, so its
errors are the CLI's one-line messages and an interrupted job resumes exactly as the CLI does.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, cast

from facecraft.errors import FacecraftError
from facecraft.faceset.schema import DB_NAME as FACESET_DB
from facecraft.media.inputs import IMAGE_EXTS, VIDEO_EXTS
from facecraft.studio.project import Project, safe_name, stamp

KINDS = ("extract", "train", "swap", "animate", "evaluate", "verify", "curate")
AUDIO_EXTS = frozenset({".wav", ".mp3", ".m4a", ".aac", ".ogg", ".flac", ".opus"})
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,47}$")
MODELS = ("lite128", "lite", "original", "standard", "hd")
"""The architectures a studio train job offers, the default (train.config.DEFAULT_MODEL) first: the model
registry's, listed here so that the server starts without importing torch (a test keeps them the same)."""

# CLI options the studio sets itself (paths, consent, preview) or that make no sense in a form.
_NOT_OPTIONS = {
    "help",
    "input",
    "inputs",
    "model",
    "output",
    "to",
    "face",
    "track",
    "start",
    "end",
    "preview",
    "device",
    "consent",
    "batch",
    "portrait",
    "driving",
    "performance",
    "audio",
    "say",
    "voice",
    "relative",
}
TTS_ENGINES = ("espeak-ng", "espeak")
"""The text-to-speech programs ``animate --say`` looks for (facecraft.animate.say.ENGINES), checked here
without importing the animate stack."""
SAY_MAX_CHARS = 2000  # facecraft.animate.say.MAX_CHARS
_VOICE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_+-]{0,31}$")


@dataclass(frozen=True)
class JobPlan:
    """A job ready to queue: its argv (without the program name), a title and the params to store."""

    kind: str
    argv: list[str]
    title: str
    params: dict[str, Any]


@cache
def _actions(command: str) -> dict[str, argparse.Action]:
    from facecraft.cli.main import build_parser

    parser = build_parser([command])
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {
        a.dest: a for a in sub.choices[command]._actions if a.option_strings and a.dest not in _NOT_OPTIONS
    }


def _number_kind(a: argparse.Action) -> str | None:
    if a.type is None or a.choices or isinstance(a.default, bool) or not isinstance(a.default, int | float):
        return None
    return "int" if isinstance(a.default, int) else "number"


@cache
def cli_options(command: str) -> list[dict[str, Any]]:
    """The choice, number and on/off options of ``facecraft COMMAND`` (read from its parser, so a new CLI
    option appears in the studio's forms without changing the studio)."""
    out: list[dict[str, Any]] = []
    for a in _actions(command).values():
        o = {"dest": a.dest, "flag": max(a.option_strings, key=len), "help": a.help or ""}
        if isinstance(a, argparse._StoreTrueAction):
            out.append({**o, "kind": "flag"})
        elif a.choices:
            out.append({**o, "kind": "choice", "choices": list(a.choices), "default": a.default})
        elif kind := _number_kind(a):
            out.append({**o, "kind": kind, "default": a.default})
    return out


def option_args(command: str, options: dict[str, Any]) -> list[str]:
    """argv for ``options`` ({dest: value}) of ``command``, each checked against the CLI's own choices."""
    known = {o["dest"]: o for o in cli_options(command)}
    argv: list[str] = []
    for dest, value in sorted(options.items()):
        o = known.get(dest)
        if o is None:
            raise FacecraftError(f"{command} has no option {dest!r}")
        if o["kind"] == "flag":
            if not isinstance(value, bool):
                raise FacecraftError(f"option {dest} takes true or false")
            argv += [o["flag"]] if value else []
        elif o["kind"] in ("int", "number"):
            if value is None or value == "":
                continue
            text = str(value)
            try:
                parse = cast(Callable[[str], Any], _actions(command)[dest].type)
                checked = parse(text)
            except (TypeError, ValueError, argparse.ArgumentTypeError) as exc:
                raise FacecraftError(f"option {dest}: {exc or 'not a number'}") from None
            if not isinstance(checked, int | float) or not math.isfinite(checked):
                raise FacecraftError(f"option {dest} takes a number")
            argv += [o["flag"], text]
        else:
            if value not in o["choices"]:
                raise FacecraftError(f"option {dest} must be one of {', '.join(map(str, o['choices']))}")
            argv += [o["flag"], str(value)]
    return argv


def performances() -> list[str]:
    """The built-in animate performances (their YAML files), found without importing the animate stack."""
    spec = importlib.util.find_spec("facecraft.animate")
    folder = Path(next(iter(spec.submodule_search_locations or []))) / "performances" if spec else None
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder else []


def tts_available() -> bool:
    """Whether ``animate --say`` can voice a text on this machine."""
    return any(shutil.which(name) for name in TTS_ENGINES)


def check_name(name: Any, what: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise FacecraftError(f"{what} name must be letters, digits, '_' or '-' (at most 48), got {name!r}")
    return name


def _file(project: Project, rel: Any, what: str, exts: frozenset[str] | None = None) -> Path:
    if not isinstance(rel, str):
        raise FacecraftError(f"choose the {what}")
    path = project.resolve(rel)
    if not path.is_file() or (exts is not None and path.suffix.lower() not in exts):
        raise FacecraftError(f"{rel} is not a {what}")
    return path


def _int(params: dict[str, Any], key: str, default: int, lo: int, hi: int) -> int:
    value = params.get(key, default)
    if value in (None, ""):
        value = default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise FacecraftError(f"{key} must be a whole number") from None
    if not lo <= number <= hi:
        raise FacecraftError(f"{key} must be between {lo} and {hi}")
    return number


def _faceset(project: Project, name: Any) -> Path:
    path = project.item("facesets", check_name(name, "faceset"))
    if not (path / FACESET_DB).is_file():
        raise FacecraftError(f"{name} is not a faceset")
    return path


def plan(project: Project, kind: str, params: dict[str, Any]) -> JobPlan:
    """Check the form ``params`` of a ``kind`` job and build its command line. Raises FacecraftError."""
    builders = {
        "extract": _extract,
        "train": _train,
        "swap": _swap,
        "animate": _animate,
        "evaluate": _evaluate,
        "verify": _verify,
        "curate": _curate,
    }
    if kind not in builders:
        raise FacecraftError(f"unknown job kind {kind!r}; one of {', '.join(KINDS)}")
    return builders[kind](project, dict(params))


def _extract(project: Project, p: dict[str, Any]) -> JobPlan:
    inputs = p.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise FacecraftError("choose at least one video or photo to extract from")
    paths = [_file(project, rel, "video or photo", VIDEO_EXTS | IMAGE_EXTS) for rel in inputs]
    name = check_name(p.get("name"), "faceset")
    size = _int(p, "size", 256, 64, 1024)
    every = _int(p, "every", 1, 1, 1000)
    out = project.folder("facesets") / name
    argv = ["extract", *map(str, paths), "-o", str(out), "--size", str(size), "--every", str(every)]
    title = f"extract {', '.join(x.name for x in paths)} -> {name}"
    return JobPlan("extract", argv, title, {"inputs": inputs, "name": name, "size": size, "every": every})


def _train(project: Project, p: dict[str, Any]) -> JobPlan:
    a, b = _faceset(project, p.get("a")), _faceset(project, p.get("b"))
    if a == b:
        raise FacecraftError("choose two different facesets for A and B")
    name = check_name(p.get("name"), "model")
    model = p.get("model") or MODELS[0]
    if model not in MODELS:
        raise FacecraftError(f"model must be one of {', '.join(MODELS)}")
    steps = _int(p, "steps", 0, 0, 10_000_000)
    minutes = float(p.get("minutes") or 0)
    if bool(steps) == bool(minutes > 0):
        raise FacecraftError("give a budget: a number of steps or of minutes")
    every = {k: _int(p, k, d, 1, 1_000_000) for k, d in (("preview_every", 200), ("validate_every", 100))}
    save_every = _int(p, "save_every", 500, 1, 1_000_000)
    argv = ["train", "--a", str(a), "--b", str(b), "-o", str(project.folder("models") / name)]
    argv += ["--model", model, *(["--steps", str(steps)] if steps else ["--minutes", f"{minutes:g}"])]
    argv += ["--preview-every", str(every["preview_every"]), "--validate-every", str(every["validate_every"])]
    argv += ["--save-every", str(save_every)]
    if p.get("batch"):
        argv += ["--batch", str(_int(p, "batch", 16, 1, 4096))]
    budget = f"{steps} steps" if steps else f"{minutes:g} min"
    params = {"a": a.name, "b": b.name, "name": name, "model": model, "steps": steps, "minutes": minutes}
    params.update(every, save_every=save_every, batch=p.get("batch"))
    return JobPlan("train", argv, f"train {name} ({model}, {budget}) on {a.name} + {b.name}", params)


def _consent(project: Project, p: dict[str, Any]) -> Path:
    rel = p.get("consent")
    if not rel:
        raise FacecraftError("choose or write the consent record of the people shown before making an output")
    path = _file(project, rel, "consent record")
    if path.parent != project.folder("consent"):
        raise FacecraftError("the consent record must be one of the project's consent/ files")
    return path


def _output(project: Project, stem: str, ext: str) -> Path:
    return project.new_path("outputs", f"{safe_name(stem)}-{stamp()}{ext}")


def _swap(project: Project, p: dict[str, Any]) -> JobPlan:
    video = _file(project, p.get("video"), "video or photo", VIDEO_EXTS | IMAGE_EXTS)
    model = project.item("models", check_name(p.get("model"), "model"))
    consent = _consent(project, p)
    options = p.get("options") or {}
    if not isinstance(options, dict):
        raise FacecraftError("options must be a mapping")
    opt = option_args("swap", options)
    out = project.resolve(p["output"], must_exist=False) if p.get("output") else None
    ext = ".mp4" if video.suffix.lower() in VIDEO_EXTS else ".png"
    out = out or _output(project, f"{video.stem}-swap-{model.name}", ext)
    argv = ["swap", str(video), "-m", str(model), "-o", str(out), "--preview", "--consent", str(consent)]
    if p.get("to"):
        argv += ["--to", check_name(p["to"], "identity")]
    for key in ("start", "end"):  # seconds: swap a part of the video
        if p.get(key) not in (None, ""):
            seconds = float(p[key])
            if not (math.isfinite(seconds) and seconds >= 0):
                raise FacecraftError(f"{key} must be a time in seconds")
            argv += [f"--{key}", f"{seconds:g}"]
    argv += opt
    params = {"video": p["video"], "model": model.name, "to": p.get("to"), "consent": p["consent"]}
    params.update(start=p.get("start"), end=p.get("end"))
    params.update(options=options, output=project.relative(out))
    return JobPlan("swap", argv, f"swap {video.name} with {model.name}", params)


def _animate(project: Project, p: dict[str, Any]) -> JobPlan:
    """Motion from a driving video, a built-in performance, speech in a sound file (``audio`` alone: the
    portrait speaks it) or a text to say (``say``, voiced by the machine's text-to-speech engine)."""
    portrait = _file(project, p.get("portrait"), "photo", IMAGE_EXTS)
    consent = _consent(project, p)
    argv = ["animate", str(portrait)]
    say = p.get("say")
    if say not in (None, "") and (p.get("driving") or p.get("performance") or p.get("audio")):
        raise FacecraftError(
            "a text to say is the whole motion and sound: no driving video, performance or sound"
        )
    if p.get("driving"):
        argv.append(str(_file(project, p["driving"], "video", VIDEO_EXTS)))
        how = Path(p["driving"]).name
    elif p.get("performance"):
        if p["performance"] not in performances():
            raise FacecraftError(f"unknown performance; one of {', '.join(performances())}")
        argv += ["--performance", p["performance"]]
        how = p["performance"]
    elif p.get("audio"):
        how = f"the speech in {Path(str(p['audio'])).name}"
    elif say not in (None, ""):
        argv += _say_args(say, p.get("voice"))
        how = "a text to say"
    else:
        raise FacecraftError(
            "choose a driving video, a built-in performance, a sound file to speak or a text to say"
        )
    if p.get("audio"):
        argv += ["--audio", str(_file(project, p["audio"], "audio or video file", AUDIO_EXTS | VIDEO_EXTS))]
    options = p.get("options") or {}
    out = project.resolve(p["output"], must_exist=False) if p.get("output") else None
    out = out or _output(project, f"{portrait.stem}-animate", ".mp4")
    argv += ["-o", str(out), "--consent", str(consent), *option_args("animate", options)]
    params = {k: p.get(k) for k in ("portrait", "driving", "performance", "audio", "say", "voice", "consent")}
    params.update(options=options, output=project.relative(out))
    return JobPlan("animate", argv, f"animate {portrait.name} with {how}", params)


def _say_args(text: Any, voice: Any) -> list[str]:
    """``--say=TEXT [--voice=NAME]`` (one argument each, so a text starting with '-' is still text)."""
    if not isinstance(text, str) or not text.strip():
        raise FacecraftError("type the text the portrait says")
    text = " ".join(text.split())
    if len(text) > SAY_MAX_CHARS:
        raise FacecraftError(f"the text to say takes at most {SAY_MAX_CHARS} characters (got {len(text)})")
    argv = [f"--say={text}"]
    if voice not in (None, ""):
        if not isinstance(voice, str) or not _VOICE.match(voice):
            raise FacecraftError(f"voice must be an espeak-ng voice name such as en-us or fr, got {voice!r}")
        argv.append(f"--voice={voice}")
    if not tts_available():
        raise FacecraftError(
            "saying a text needs a text-to-speech engine on this machine (apt-get install espeak-ng); "
            "or upload recorded speech and choose it as the sound"
        )
    return argv


def _evaluate(project: Project, p: dict[str, Any]) -> JobPlan:
    original = _file(project, p.get("original"), "video or photo", VIDEO_EXTS | IMAGE_EXTS)
    swapped = _file(project, p.get("swapped"), "swapped video or photo", VIDEO_EXTS | IMAGE_EXTS)
    source = _faceset(project, p.get("source"))
    every = _int(p, "every", 5, 1, 1000)
    report = swapped.with_name(f"{swapped.stem}.evaluate.json")
    argv = ["evaluate", "--original", str(original), "--swapped", str(swapped), "--source", str(source)]
    argv += ["--every", str(every), "-o", str(report)]
    params = {"original": p["original"], "swapped": p["swapped"], "source": source.name, "every": every}
    params["output"] = project.relative(report)
    return JobPlan("evaluate", argv, f"evaluate {swapped.name}", params)


def _verify(project: Project, p: dict[str, Any]) -> JobPlan:
    path = _file(project, p.get("file"), "image or video", VIDEO_EXTS | IMAGE_EXTS)
    report = project.folder("jobs") / f"verify-{safe_name(path.name)}-{stamp()}.json"
    return JobPlan(
        "verify",
        ["verify", str(path)],
        f"verify {path.name}",
        {"file": p["file"], "output": project.relative(report)},
    )


def _curate(project: Project, p: dict[str, Any]) -> JobPlan:
    fs = _faceset(project, p.get("faceset"))
    return JobPlan("curate", ["faceset", "curate", str(fs)], f"curate {fs.name}", {"faceset": fs.name})
