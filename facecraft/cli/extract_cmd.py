"""``facecraft extract``."""

from __future__ import annotations

import argparse

from facecraft.cli.checks import number, output_path
from facecraft.extract import ExtractConfig, extract
from facecraft.face.align import COVERAGES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "extract",
        help="find, track and align faces from videos and photos into a faceset",
        description="Find, track and align faces from videos and photos into a faceset. "
        "Run it again to resume an interrupted extraction.",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="video files, photos, or folders of them")
    p.add_argument(
        "-o", "--output", required=True, metavar="FACESET", help="faceset folder to create or extend"
    )
    p.add_argument(
        "--size",
        type=number(32, 2048, integer=True),
        default=256,
        help="aligned face size in pixels (default 256)",
    )
    p.add_argument(
        "--coverage",
        choices=sorted(COVERAGES),
        default="whole_face",
        help="how much around the face to keep (default whole_face)",
    )
    p.add_argument(
        "--every",
        type=number(1, 100_000, integer=True),
        default=1,
        metavar="N",
        help="process every N-th video frame",
    )
    p.add_argument("--identity", metavar="REF_IMAGE", help="keep only faces of the person in this photo")
    p.add_argument(
        "--max-faces",
        type=number(0, 1000, integer=True),
        default=0,
        metavar="K",
        help="at most K faces per frame (largest)",
    )
    p.add_argument(
        "--min-score",
        type=number(0, 1, open_low=True),
        default=0.8,
        help="detector confidence to start a face (0..1)",
    )
    p.add_argument("--no-smooth", action="store_true", help="do not smooth landmarks along video tracks")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    inputs = {f"input {i}": path for i, path in enumerate(args.inputs, 1)}
    output_path(args.output, {**inputs, "--identity photo": args.identity}, folder=True)
    config = ExtractConfig(
        size=args.size,
        coverage=args.coverage,
        every=args.every,
        max_faces=args.max_faces,
        smooth=not args.no_smooth,
        min_score=args.min_score,
    )
    report = extract(args.inputs, args.output, config, identity=args.identity, progress=not args.quiet)
    for w in report.warnings:
        print(f"warning: {w}")
    print(
        f"{report.faces_added} faces added from {report.frames_processed} frames of {report.sources} file(s) in "
        f"{report.seconds:.1f} s ({report.frames_per_second:.1f} frames/s); {report.output_summary()}"
    )
    return 0
