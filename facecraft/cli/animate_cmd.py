"""``facecraft animate``."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from facecraft.animate.config import CROPS, AnimateConfig
from facecraft.cli.checks import number, output_path
from facecraft.errors import FacecraftError
from facecraft.fileio import FolderLock

if TYPE_CHECKING:
    from facecraft.animate.run import AnimateReport

_VIDEO_OUT = (".mp4",)  # what the writer and the provenance labels produce


def register(sub: argparse._SubParsersAction) -> None:
    from facecraft.animate import list_performances, list_renderers

    p = sub.add_parser(
        "animate",
        help="bring a portrait to life, driven by a video of a face, a built-in performance or speech audio",
        description="Animate one photo or painting: the head, expressions, blinks and gaze of the driving video "
        "(or of a built-in performance) are transferred onto the portrait; or, with only --audio, the portrait "
        "speaks the audio. Runs on the CPU, no downloads.",
    )
    p.add_argument("portrait", metavar="PORTRAIT", help="photo or painting with a face")
    p.add_argument(
        "driving", metavar="DRIVING_VIDEO", nargs="?", help="video of a face that drives the portrait"
    )
    p.add_argument(
        "--performance",
        metavar="NAME",
        choices=list_performances(),
        help=f"built-in performance instead of a video: {', '.join(list_performances())}",
    )
    p.add_argument("-o", "--output", required=True, metavar="OUTPUT", help="output video (.mp4)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--relative",
        dest="relative",
        action="store_true",
        default=True,
        help="transfer motion relative to the driving video's first frame (default; keeps the portrait's face shape)",
    )
    mode.add_argument(
        "--absolute",
        dest="relative",
        action="store_false",
        help="the portrait takes on the driving face's shape",
    )
    p.add_argument(
        "--expression-scale",
        type=number(0, 3),
        default=1.0,
        metavar="S",
        help="expression strength (default 1)",
    )
    p.add_argument(
        "--pose-scale", type=number(0, 3), default=1.0, metavar="S", help="head motion strength (default 1)"
    )
    p.add_argument(
        "--crop",
        choices=CROPS,
        default="portrait",
        help="output framing: face (square), portrait (head and shoulders in the source's aspect; default) or full",
    )
    p.add_argument(
        "--size",
        type=number(64, 2048, integer=True),
        default=512,
        help="longer side of the output in pixels (default 512)",
    )
    p.add_argument(
        "--seconds",
        type=number(0, 3600, open_low=True),
        metavar="S",
        help="length of a --performance (default: its own)",
    )
    p.add_argument(
        "--audio",
        metavar="FILE",
        help="speech the portrait speaks (when no driving video or performance is given: the output has its "
        "length and sound); with a driving video or performance, only the sound track is taken from it",
    )
    p.add_argument(
        "--say",
        metavar="TEXT",
        help="text the portrait speaks, voiced by the text-to-speech engine installed on this machine "
        "(espeak-ng; optional, nothing is downloaded); instead of --audio",
    )
    p.add_argument("--voice", metavar="NAME", help="espeak-ng voice for --say (e.g. en-us, fr, de)")
    p.add_argument(
        "--reference-frame",
        type=int,
        metavar="N",
        help="driving frame motion is measured against (default: the most neutral closed-mouth face in the "
        "first 3 s)",
    )
    p.add_argument(
        "--face",
        type=number(0, 1000, integer=True),
        metavar="N",
        help="which face of the portrait to animate (0 = largest)",
    )
    p.add_argument("--renderer", choices=list_renderers(), default="geometric", help="default geometric")
    p.add_argument("--no-smooth", action="store_true", help="do not smooth the driving motion over time")
    p.add_argument(
        "--no-head-layer",
        action="store_true",
        help="warp the whole image as one sheet instead of moving the head over a still background (skips the "
        "face parser, whose weights are for non-commercial use; faster start, the background near the head bends)",
    )
    p.add_argument(
        "--no-shading",
        action="store_true",
        help="move the face only: do not carry the driving face's creases and shading (smile folds, frown "
        "lines, forehead lines) onto the portrait",
    )
    p.add_argument(
        "--no-mirror-fill",
        action="store_true",
        help="show a cheek that a head turn stretches as the stretched pixels (streaks) instead of giving it "
        "the mirrored cheek's skin texture",
    )
    p.add_argument(
        "--consent", metavar="FILE", help="consent record of the person shown, stored in the provenance"
    )
    p.add_argument(
        "--label", action="store_true", help="also burn a visible 'synthetic' label into the video"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    inputs = {"portrait": args.portrait, "driving video": args.driving, "audio source": args.audio}
    output_path(args.output, {**inputs, "consent record": args.consent}, _VIDEO_OUT)
    config = AnimateConfig(
        relative=args.relative,
        expression_scale=args.expression_scale,
        pose_scale=args.pose_scale,
        crop=args.crop,
        size=args.size,
        renderer=args.renderer,
        smooth=not args.no_smooth,
        reference_frame=args.reference_frame,
        layers=not args.no_head_layer,
        shading=not args.no_shading,
        mirror_fill=not args.no_mirror_fill,
    )
    if args.say is not None:
        _check_say(args)
    elif args.voice is not None:
        raise FacecraftError("--voice is for --say TEXT")
    # One writer per output: a second animate to the same file waits for nothing and says so.
    with FolderLock.for_file(args.output, f"the output {args.output}", "animate"):
        if args.say is None:
            report = _animate(args, config)
        else:
            from facecraft.animate.say import say_to_wav

            with tempfile.TemporaryDirectory(prefix="facecraft-say-") as tmp:
                args.audio = str(say_to_wav(args.say, Path(tmp) / "say.wav", args.voice))
                report = _animate(args, config)
    for warning in report.warnings:
        print(f"facecraft animate: warning: {warning}", file=sys.stderr)
    print(
        f"{report.output}: {report.frames} frames at {report.fps:g} fps, {report.width}x{report.height}"
        f"{', with audio' if report.audio else ''}; {report.frames_per_second:.1f} frames/s; labelled as synthetic"
    )
    return 0


def _check_say(args: argparse.Namespace) -> None:
    """--say's text and engine, checked before anything is rendered."""
    from facecraft.animate.say import check_text, find_engine

    if args.audio is not None:
        raise FacecraftError("give either --audio FILE or --say TEXT, not both")
    check_text(args.say)
    find_engine()


def _animate(args: argparse.Namespace, config: AnimateConfig) -> AnimateReport:
    from facecraft.animate import animate

    return animate(
        args.portrait,
        args.driving,
        output=args.output,
        performance=args.performance,
        seconds=args.seconds,
        config=config,
        audio=args.audio,
        face=args.face,
        consent=args.consent,
        visible_label=args.label,
        progress=not args.quiet,
    )
