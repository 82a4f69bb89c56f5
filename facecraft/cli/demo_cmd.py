"""``facecraft demo`` (what ``make demo`` runs)."""

from __future__ import annotations

import argparse
from pathlib import Path

from facecraft.cli.checks import number, output_path
from facecraft.errors import FacecraftError
from facecraft.fileio import same_file


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo", help="run the whole pipeline on the built-in portraits, or on your own A and B media"
    )
    p.add_argument("-o", "--output", default="demo_out", help="output folder (default demo_out)")
    p.add_argument("--a", nargs="+", metavar="MEDIA", help="videos/photos of person A (default: built-in)")
    p.add_argument("--b", nargs="+", metavar="MEDIA", help="videos/photos of person B (default: built-in)")
    p.add_argument(
        "--minutes",
        type=number(0, 10**6, open_low=True),
        default=4.0,
        help="training time budget (default 4)",
    )
    p.add_argument(
        "--steps",
        type=number(0, 10**9, integer=True),
        default=0,
        help="train this many steps instead of --minutes",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    media = [*(args.a or []), *(args.b or [])]
    output_path(args.output, {f"input {m}": m for m in media}, folder=True)
    for m in media:  # the demo writes fixed names into its folder: no input may live there
        if Path(m).resolve().is_relative_to(Path(args.output).resolve()) or same_file(m, args.output):
            raise FacecraftError(
                f"the input {m} is inside the demo's output folder {args.output}; choose another -o"
            )
    from facecraft.demo import DemoConfig, run_demo

    config = DemoConfig(train_minutes=args.minutes, train_steps=args.steps)
    result = run_demo(args.output, args.a, args.b, config, progress=not args.quiet)
    print(f"demo finished in {sum(result.timings.values()):.0f} s; outputs in {result.out}/:")
    for label, path in result.files.items():
        print(f"  {label}: {path}")
    return 0
