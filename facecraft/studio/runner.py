"""The process a studio job runs in: ``python -m facecraft.studio.runner JOB.json``.

It runs the job's ``facecraft`` command line (so errors are the CLI's one-line messages and Ctrl-C/SIGINT saves
and stops, as on the command line). If the studio dies, the job notices that its parent is gone and stops the
same way; the next studio start resumes it.
"""

from __future__ import annotations

import _thread
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path


def _watch_parent(poll_s: float = 1.0) -> None:
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_s)
        _thread.interrupt_main()  # as Ctrl-C: the verbs save what they have and stop

    threading.Thread(target=watch, name="studio-parent-watch", daemon=True).start()


def _verify(path: str, report_path: str) -> int:
    from facecraft.errors import FacecraftError
    from facecraft.fileio import write_atomic
    from facecraft.provenance import verify
    from facecraft.provenance.explain import report_json, summary

    try:
        report = verify(path)
    except FacecraftError as exc:
        print(f"facecraft verify: error: {exc}", file=sys.stderr)
        return 2
    write_atomic(Path(report_path), (json.dumps(report_json(report), indent=2) + "\n").encode())
    print(
        summary(report)
    )  # as `facecraft verify` prints it; its last line, the exit code's meaning, is the result
    return 0


def _take_sigint() -> None:
    """Make SIGINT raise KeyboardInterrupt here, whatever was inherited: a studio started in the background
    by a shell (``facecraft studio &``, nohup, CI) passes SIGINT on as *ignored*, and the worker's cancel
    (SIGINT: save and stop) then did nothing until the job was killed 60 s later, its work since the last
    checkpoint lost."""
    signal.signal(signal.SIGINT, signal.default_int_handler)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m facecraft.studio.runner JOB.json", file=sys.stderr)
        return 2
    job = json.loads(Path(args[0]).read_text())
    _take_sigint()
    _watch_parent()
    if job["kind"] == "verify":
        return _verify(job["argv"][1], job["output"])
    from facecraft.cli.main import main as cli_main

    return cli_main(["-q", *job["argv"]] if job.get("quiet") else job["argv"])


if __name__ == "__main__":
    sys.exit(main())
