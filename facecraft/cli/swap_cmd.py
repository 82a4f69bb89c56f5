"""``facecraft swap``."""

from __future__ import annotations

import argparse
from pathlib import Path

from facecraft.cli.checks import number, output_path
from facecraft.media.inputs import media_kind
from facecraft.swap import SwapConfig, swap
from facecraft.swap.blend import list_blends
from facecraft.swap.color import list_colors
from facecraft.swap.mask import list_masks

_HOURS = 24 * 3600.0  # --start/--end: at most a day into the video
_PX = 1000.0  # mask erosion, dilation and feathering, frame pixels


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "swap",
        help="put the trained face into a video, photo or folder of photos",
        description="Replace faces in a video (keeping its size, frame rate, frame count and audio), a photo or "
        "a folder of photos with the face a trained model makes. Run it again to resume an interrupted swap.",
    )
    p.add_argument("input", metavar="INPUT", help="video, photo or folder of photos")
    p.add_argument("-m", "--model", required=True, metavar="MODEL", help="trained model folder")
    p.add_argument("-o", "--output", required=True, metavar="OUTPUT", help="output video, photo or folder")
    p.add_argument("--to", metavar="NAME", help="identity (decoder) to put in (default: the model's first)")
    who = p.add_mutually_exclusive_group()
    who.add_argument("--face", metavar="REF_IMAGE", help="swap only the person in this photo")
    who.add_argument(
        "--track", type=number(0, 2**62, integer=True), metavar="ID", help="swap only this track id"
    )
    who.add_argument(
        "--all", action="store_true", help="swap every face (default: the largest in each frame)"
    )
    p.add_argument("--start", type=number(0, _HOURS), default=0.0, metavar="T", help="start at T seconds")
    p.add_argument("--end", type=number(0, _HOURS, open_low=True), metavar="T", help="end at T seconds")
    p.add_argument(
        "--mask",
        choices=["auto", *list_masks()],
        default="auto",
        help=(
            "face mask (default auto: parse-learned, or landmarks when FACECRAFT_NO_PARSER=1 turns the parser off)"
        ),
    )
    p.add_argument(
        "--erode", type=number(0, _PX), default=0.0, metavar="PX", help="shrink the mask by PX pixels"
    )
    p.add_argument(
        "--dilate", type=number(0, _PX), default=0.0, metavar="PX", help="grow the mask by PX pixels"
    )
    p.add_argument(
        "--feather",
        type=number(0, _PX, also=(-1,)),
        default=-1.0,
        metavar="PX",
        help="soften the mask edge (default 6%% of face width)",
    )
    p.add_argument("--color", choices=list_colors(), default="rct", help="colour transfer (default rct)")
    p.add_argument("--blend", choices=list_blends(), default="alpha", help="blending (default alpha)")
    p.add_argument("--keep-eyes", action="store_true", help="keep the original eyes")
    p.add_argument("--keep-mouth", action="store_true", help="keep the original mouth")
    p.add_argument(
        "--keep-blinks",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="as the person in the video closes an eye, their own eyelids show through (default on)",
    )
    p.add_argument(
        "--keep-glasses",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="glasses the person in the video wears stay in the output (parse mask; default on)",
    )
    p.add_argument(
        "--keep-teeth",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the inside of an open mouth (teeth, tongue) stays the video's own; the lips are swapped "
        "(parse mask; default on)",
    )
    p.add_argument(
        "--keep-lips",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="while the mouth in the video is closed its own lips stay, in the new face's lip tone "
        "(needs the model's exemplars; default on)",
    )
    p.add_argument(
        "--shading",
        type=number(0, 1),
        default=0.0,
        metavar="AMOUNT",
        help="give the new face the video's light on the skin (its brightness at the scale of an eye, "
        "features kept; looks more lit like the scene, but the source is recognised less often): 0 keeps "
        "the model's shading (default), 1 the video's",
    )
    p.add_argument(
        "--detail",
        type=number(0, 2),
        default=1.0,
        metavar="AMOUNT",
        help="restore the video's own fine skin texture under the new face, outside eyes, brows and mouth "
        "(0 off, default 1)",
    )
    p.add_argument(
        "--source-detail",
        type=number(0, 1),
        default=1.0,
        metavar="AMOUNT",
        help="lend the new face the fine detail (eyelids, brows, lips, skin) of the source person's own faces "
        "kept with the model, warped to the video's expression (0 off, default 1; models trained before "
        "exemplars were kept have none)",
    )
    p.add_argument("--no-smooth", action="store_true", help="do not smooth face positions along tracks")
    p.add_argument(
        "--batch",
        type=number(1, 4096, integer=True),
        default=8,
        metavar="N",
        help="faces per model call (default 8)",
    )
    p.add_argument("--preview", action="store_true", help="also write an original | swapped side-by-side")
    p.add_argument("--device", default="auto", help="model device: auto, cpu, cuda (default auto)")
    p.add_argument("--consent", metavar="FILE", help="consent record to attach to the output's provenance")
    p.add_argument(
        "--label", action="store_true", help="also burn a visible 'synthetic' label into the output"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    inputs = {
        "input": args.input,
        "model folder": args.model,
        "--face photo": args.face,
        "consent record": args.consent,
    }
    output_path(args.output, inputs, folder=Path(args.input).is_dir())
    config = SwapConfig(
        to=args.to,
        track=args.track,
        all_faces=args.all,
        start=args.start,
        end=args.end,
        mask=args.mask,
        erode=args.erode,
        dilate=args.dilate,
        feather=args.feather,
        color=args.color,
        blend=args.blend,
        keep_eyes=args.keep_eyes,
        keep_mouth=args.keep_mouth,
        keep_glasses=args.keep_glasses,
        keep_teeth=args.keep_teeth,
        keep_lips=args.keep_lips,
        keep_blinks=args.keep_blinks,
        shading=args.shading,
        detail=args.detail,
        source_detail=args.source_detail,
        smooth=not args.no_smooth,
        batch=args.batch,
    )
    report = swap(
        args.input,
        args.model,
        args.output,
        config,
        face=args.face,
        preview=args.preview,
        consent=args.consent,
        label=args.label,
        progress=not args.quiet,
        device=args.device,
    )
    for note in report.notes:
        print(f"note: {note}")
    for w in report.warnings:
        print(f"warning: {w}")
    if Path(args.input).is_dir() or media_kind(Path(args.input)) == "image":  # photos have no tracks
        unit = "photo" if report.frames == 1 else "photos"
        print(
            f"swapped {report.faces_swapped} faces in {report.frames_with_faces} of {report.frames} {unit} in "
            f"{report.seconds:.1f} s"
        )
    else:
        tracks = ", ".join(f"{k} ({v} frames)" for k, v in sorted(report.tracks.items())) or "none"
        print(
            f"swapped {report.faces_swapped} faces in {report.frames_with_faces} of {report.frames} frames in "
            f"{report.seconds:.1f} s ({report.frames_per_second:.1f} frames/s); tracks swapped: {tracks}"
        )
    print(f"wrote {report.output}" + (f" and {report.preview}" if report.preview else ""))
    if not report.labelled:
        print("note: the output is not labelled as synthetic (the provenance stage is not installed)")
    return 0
