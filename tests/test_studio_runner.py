"""A studio job process stops on SIGINT (the worker's cancel) even when it inherited SIGINT as ignored, as
every process started from a background shell job does (``facecraft studio &``, nohup, CI scripts)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time


def test_a_job_started_with_sigint_ignored_still_stops_on_it() -> None:
    script = (
        "import os, signal, sys, time\n"
        "assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN  # inherited, as from 'studio &'\n"
        "from facecraft.studio import runner\n"
        "runner._take_sigint()\n"
        "try:\n"
        "    print('ready', flush=True)  # inside the try: SIGINT may land right after the flush\n"
        "    time.sleep(30)\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', flush=True)\n"
        "    sys.exit(130)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    start = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 130 and "interrupted" in out
    assert time.monotonic() - start < 10
