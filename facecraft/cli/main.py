"""``facecraft`` entry point: parses arguments, runs one verb, turns user errors into one line.

Each subcommand lives in its own module with ``register(subparsers)``; it sets ``func`` on its
parser, which receives the parsed arguments and returns the exit code.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from facecraft.errors import FacecraftError
from facecraft.version import __version__

# Subcommand modules, in the order shown by --help. Add new stages here.
COMMANDS = ("extract", "faceset", "train", "swap", "evaluate", "animate", "demo", "verify")


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = argparse.ArgumentParser(
        prog="facecraft",
        description="Face extraction, face swapping and portrait animation. Every output is labelled as synthetic.",
    )
    parser.add_argument("--version", action="version", version=f"facecraft {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"facecraft.cli.{name}_cmd").register(sub)
    return parser


def _quiet_native_logs() -> None:
    # MediaPipe/TFLite log through glog/absl to stderr; keep the terminal for our own messages.
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main(argv: Sequence[str] | None = None) -> int:
    _quiet_native_logs()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except FacecraftError as exc:
        print(f"facecraft {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            f"facecraft {args.command}: interrupted; what was done is saved, run the same command to resume",
            file=sys.stderr,
        )
        return 130
    except MemoryError:
        print(
            f"facecraft {args.command}: error: out of memory; use smaller inputs or settings", file=sys.stderr
        )
        return 2
    except OSError as exc:
        print(
            f"facecraft {args.command}: error: {exc.strerror or exc}"
            f"{' (' + str(exc.filename) + ')' if exc.filename else ''}",
            file=sys.stderr,
        )
        return 2
