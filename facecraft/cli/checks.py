"""Checks at the command line's edge, before any model loads or any work starts.

- :func:`number`: argparse types for numeric options: NaN, infinity and values out of range are usage
  errors (one line, exit 2) instead of tracebacks or hours of work on a nonsense setting.
- :func:`output_path`: an output must not be any of the inputs (compared as resolved paths and inodes),
  must not sit inside a faceset or model folder it reads, and must have an extension the verb writes.
- :func:`writable_file`: an output file that can be written, checked before a long computation.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from facecraft.errors import FacecraftError
from facecraft.fileio import refuse_overwriting_inputs


def number(
    low: float | None = None,
    high: float | None = None,
    *,
    integer: bool = False,
    open_low: bool = False,
    also: Iterable[float] = (),
) -> Callable[[str], float]:
    """An argparse ``type`` that accepts a finite number in [low, high] (``open_low``: (low, high]).

    ``integer``: whole numbers only. ``also``: extra accepted values (e.g. -1 for "automatic").
    """
    extra = tuple(also)

    def parse(text: str) -> float:
        try:
            value: float = int(text) if integer else float(text)
        except ValueError:
            kind = "a whole number" if integer else "a number"
            raise argparse.ArgumentTypeError(f"expected {kind}, got {text!r}") from None
        if value in extra:
            return value
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
        too_low = low is not None and (value <= low if open_low else value < low)
        too_high = high is not None and value > high
        if too_low or too_high:
            raise argparse.ArgumentTypeError(f"must be {_range(low, high, open_low)}, got {text}")
        return value

    parse.__name__ = "integer" if integer else "number"  # argparse names the type in its messages
    return parse


def _range(low: float | None, high: float | None, open_low: bool) -> str:
    lo = None if low is None else _fmt(low)
    hi = None if high is None else _fmt(high)
    if lo is not None and hi is not None:
        return f"more than {lo} and at most {hi}" if open_low else f"between {lo} and {hi}"
    if lo is not None:
        return f"more than {lo}" if open_low else f"at least {lo}"
    return f"at most {hi}"


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else f"{x:g}"


def output_path(
    output: str | Path,
    inputs: dict[str, str | Path | None],
    extensions: Iterable[str] = (),
    *,
    folder: bool = False,
) -> Path:
    """Check an output before any work: not an input, not inside a faceset/model folder that is an input,
    one of ``extensions`` (lower case, with the dot) for a file, a folder (or nothing yet) when ``folder``.
    Returns it as a Path."""
    out = Path(output)
    refuse_overwriting_inputs(out, inputs)
    exts = tuple(extensions)
    if folder:
        if out.exists() and not out.is_dir():
            raise FacecraftError(f"the output {out} is a file, not a folder; choose a folder")
        return out
    if out.is_dir() or str(output).endswith(os.sep):
        raise FacecraftError(f"the output {out} is a folder; give a file name ({', '.join(exts) or 'any'})")
    if exts and out.suffix.lower() not in exts:
        raise FacecraftError(
            f"the output {out.name} must end in {', '.join(exts)} (this command cannot write {out.suffix or 'a file without extension'!r})"
        )
    return out


def writable_file(output: str | Path) -> Path:
    """The output file can be created or replaced: its folder exists (or can be made) and is writable.
    Checked before a long computation so that its result is not thrown away at the end."""
    out = Path(output)
    if out.is_dir():
        raise FacecraftError(f"the output {out} is a folder; give a file name")
    parent = out.parent
    existing = parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise FacecraftError(f"cannot write {out}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise FacecraftError(f"no permission to write {out}; choose a folder you can write to")
    return out
