"""``facecraft`` entry point: parses arguments, runs one verb, turns user errors into one line.

Each subcommand lives in its own module with ``register(subparsers)``; it sets ``func`` on its
parser, which receives the parsed arguments and returns the exit code.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sqlite3
import sys
from collections.abc import Sequence
from types import FrameType
from typing import NoReturn

from facecraft.errors import FacecraftError
from facecraft.version import __version__

# Subcommand modules, in the order shown by --help. Add new stages here.
COMMANDS = ("extract", "faceset", "train", "swap", "evaluate", "animate", "demo", "verify", "keys", "studio")


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (``facecraft swap: error: argument --start: ...``), exit 2.

    Subcommand parsers are made from the same class, so every command behaves alike.
    """

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser. When ``argv`` names a command, only that command's module is imported,
    so ``facecraft extract`` does not pay for importing torch or the animation stack."""
    import importlib

    parser = _Parser(
        prog="facecraft",
        description="Face extraction, face swapping and portrait animation. Every output is labelled as synthetic.",
    )
    parser.add_argument("--version", action="version", version=f"facecraft {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = _command_in(argv)
    for name in (chosen,) if chosen else COMMANDS:
        importlib.import_module(f"facecraft.cli.{name}_cmd").register(sub)
    return parser


def _command_in(argv: Sequence[str] | None) -> str | None:
    """The command named in ``argv`` (the first argument that is not a global option), if any."""
    for arg in argv or ():
        if arg.startswith("-"):
            continue
        return arg if arg in COMMANDS else None
    return None


def _quiet_native_logs() -> None:
    # MediaPipe/TFLite log through glog/absl to stderr; keep the terminal for our own messages.
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, a scheduler, torchrun stopping its workers), handled exactly like Ctrl-C:
    every verb saves what it has done and stops."""


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise Terminated()


def main(argv: Sequence[str] | None = None) -> int:
    _quiet_native_logs()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv).parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _terminate) if _main_thread() else None
    try:
        return int(args.func(args) or 0)
    except FacecraftError as exc:
        print(f"facecraft {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        how = "stopped by SIGTERM" if isinstance(exc, Terminated) else "interrupted"
        after = (
            "no output was written (it appears only once complete); run the same command again"
            if args.command == "animate"
            else "what was done is saved, run the same command to resume"
        )
        print(f"facecraft {args.command}: {how}; {after}", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130
    except sqlite3.Error as exc:  # a faceset database the OS or SQLite refuses (read-only, locked, damaged)
        print(f"facecraft {args.command}: error: faceset database: {exc}", file=sys.stderr)
        return 2
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
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def console() -> int:
    """The ``facecraft`` command (and ``python -m facecraft``): :func:`main`, then a quick exit.

    After a command has loaded torch and MediaPipe, the interpreter's last garbage collection walks millions
    of their objects: measured 1.1 s of a 3.3 s run that only imports them. Everything of ours is closed and
    written by then, so the objects are frozen out of that collection (the OS frees the memory).
    """
    import gc

    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    gc.freeze()
    return code


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()
