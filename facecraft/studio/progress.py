"""Read progress out of a job's log: the verbs draw tqdm bars, which the studio parses (pure functions)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_BAR = re.compile(
    r"(?P<desc>[\w-]+): +(?:(?P<pct>\d+)%\|[^|]*\| *)?(?P<n>\d+)(?:/(?P<total>\d+))?(?P<unit>[a-z]*)"
    r" \[(?P<elapsed>[\d:]+)(?:<(?P<eta>[\d:?]+))?, *(?P<rate>[^,\]]*)(?P<post>[^\]]*)\]"
)
_LOSS = re.compile(r"loss=([0-9.]+(?:e-?\d+)?)")


@dataclass(frozen=True)
class Progress:
    stage: str
    done: int
    total: int | None
    elapsed: str
    eta: str | None
    rate: str
    postfix: str

    @property
    def fraction(self) -> float:
        """0..1, or -1 when the total is unknown."""
        return min(1.0, self.done / self.total) if self.total else -1.0

    def text(self) -> str:
        count = f"{self.done}/{self.total}" if self.total else f"{self.done}"
        eta = f", ETA {self.eta}" if self.eta and self.eta != "?" else ""
        post = f", {self.postfix}" if self.postfix else ""
        return f"{self.stage}: {count} ({self.rate.strip()}{eta}{post})"


def segments(log: str) -> list[str]:
    """The log split at carriage returns and newlines: each tqdm refresh is one segment."""
    return [s for s in re.split(r"[\r\n]+", log) if s.strip()]


def last_progress(log: str) -> Progress | None:
    """The newest tqdm state in ``log`` (its tail is enough), or None."""
    for seg in reversed(segments(log)):
        m = _BAR.search(seg)
        if m:
            return Progress(
                stage=m["desc"],
                done=int(m["n"]),
                total=int(m["total"]) if m["total"] else None,
                elapsed=m["elapsed"],
                eta=m["eta"],
                rate=m["rate"],
                postfix=m["post"].strip(" ,"),
            )
    return None


def loss_curve(log: str) -> list[tuple[int, float]]:
    """(step, loss) pairs from the train bar's postfix, one per distinct step, in order."""
    points: dict[int, float] = {}
    for seg in segments(log):
        m = _BAR.search(seg)
        if m and m["desc"] == "train":
            loss = _LOSS.search(m["post"])
            if loss:
                points[int(m["n"])] = float(loss.group(1))
    return sorted(points.items())


def readable_log(log: str, max_lines: int = 40) -> str:
    """The log as a person reads it: each line as its last tqdm refresh left it, the last ``max_lines``."""
    lines = [next((s for s in reversed(ln.split("\r")) if s.strip()), "") for ln in log.split("\n")]
    return "\n".join([ln.rstrip() for ln in lines if ln.strip()][-max_lines:])


def error_line(log: str) -> str:
    """The CLI's one-line error (``facecraft VERB: error: ...``), or the last line of the log."""
    lines = segments(log)
    for ln in reversed(lines):
        if ": error: " in ln and ln.startswith("facecraft"):
            return ln.strip()
    return lines[-1].strip() if lines else ""


def summary_line(log: str) -> str:
    """The verb's closing line: the last line that is not a progress bar or a warning."""
    for seg in reversed(segments(log)):
        if not _BAR.search(seg) and not seg.startswith("warning:"):
            return seg.strip()
    return ""
