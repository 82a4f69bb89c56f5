"""The job worker: one thread that runs queued jobs one at a time, each in its own process.

One job at a time because one machine has one GPU (or a few busy cores); the rest wait in the queue.
A job's output (progress bars, warnings, the closing line, errors) goes to ``jobs/<id>/log.txt``; the
worker reads its progress from there. Cancel sends SIGINT (the verbs save and stop); a studio that stops
while a job runs leaves it queued, and the next start resumes it from its checkpoint.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from facecraft.errors import FacecraftError
from facecraft.studio import progress
from facecraft.studio.db import Job, JobStore
from facecraft.studio.project import Project

log = logging.getLogger("facecraft.studio")

STOP_GRACE_S = 60.0
"""How long a job may take to save and stop after SIGINT before it is killed."""


def job_dir(project: Project, job_id: int) -> Path:
    return project.folder("jobs") / f"{job_id:06d}"


def log_path(project: Project, job_id: int) -> Path:
    return job_dir(project, job_id) / "log.txt"


def read_log(project: Project, job_id: int, tail: int = 65536, start: int = 0) -> str:
    """The last ``tail`` bytes of the job's log (not before byte ``start``)."""
    path = log_path(project, job_id)
    try:
        with path.open("rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(start, size - tail))
            return f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


def _alive_runner(pid: int | None, job_id: int) -> bool:
    """Whether ``pid`` is still this job's runner process (not a recycled pid)."""
    if not pid:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"facecraft.studio.runner" in cmdline and any(f"{job_id:06d}".encode() in c for c in cmdline)


def _wait_gone(pid: int, job_id: int, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not _alive_runner(pid, job_id):
            return True
        time.sleep(0.2)
    return not _alive_runner(pid, job_id)


class Worker:
    """Runs the project's queued jobs, oldest first, one at a time."""

    def __init__(self, project: Project, store: JobStore, poll_s: float = 0.5):
        self.project, self.store, self.poll_s = project, store, poll_s
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_start = 0
        self._lock_fd: int | None = None

    # ---- life cycle --------------------------------------------------------------------------
    def lock(self) -> None:
        """Take the project's worker lock: two studios on one project would run its jobs twice."""
        if self._lock_fd is not None:
            return
        fd = os.open(self.project.root / ".studio.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise FacecraftError(
                f"the project {self.project.root} is open in another studio; use that one"
            ) from None
        self._lock_fd = fd

    def start(self) -> None:
        self.lock()
        self.recover()
        self._thread = threading.Thread(target=self._loop, name="studio-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the worker; a running job is interrupted (it saves) and stays queued for the next start."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(STOP_GRACE_S + 10)
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None

    def wake(self) -> None:
        self._wake.set()

    def recover(self) -> None:
        """Jobs left 'running' by a studio that died go back to the queue (their runner is stopped first)."""
        for job in self.store.in_state("running"):
            if job.pid and _alive_runner(job.pid, job.id):
                os.kill(job.pid, signal.SIGINT)
                if not _wait_gone(job.pid, job.id, STOP_GRACE_S):
                    os.kill(job.pid, signal.SIGKILL)
                    _wait_gone(job.pid, job.id, 10)
            state = "cancelled" if job.cancel else "queued"
            self.store.set(job.id, state=state, pid=None, detail="interrupted by a studio restart; resuming")
            self._append_log(job.id, "\n[studio] interrupted by a restart of the studio\n")

    # ---- the loop ----------------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stop.is_set():
            job = self.store.claim_next()
            if job is None:
                self._wake.wait(self.poll_s)
                self._wake.clear()
                continue
            try:
                self._run(job)
            except Exception as exc:  # a worker bug must not kill the worker: the job fails visibly
                log.exception("job %d", job.id)
                self.store.set(job.id, state="failed", error=f"studio error: {exc}", finished=time.time())

    def _append_log(self, job_id: int, text: str) -> None:
        path = log_path(self.project, job_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as f:
            f.write(text)

    def _spawn(self, job: Job) -> subprocess.Popen[bytes]:
        folder = job_dir(self.project, job.id)
        folder.mkdir(parents=True, exist_ok=True)
        spec = {"kind": job.kind, "argv": job.argv}
        if job.kind == "verify":
            spec["output"] = str(self.project.resolve(job.params["output"], must_exist=False))
        (folder / "job.json").write_text(json.dumps(spec))
        env = dict(os.environ, PYTHONUNBUFFERED="1", TQDM_MININTERVAL="1", GLOG_minloglevel="2")
        run_note = f"[studio] run {job.runs}: facecraft {' '.join(job.argv)}\n"
        self._append_log(job.id, ("\n" if job.runs > 1 else "") + run_note)
        self._log_start = log_path(self.project, job.id).stat().st_size  # progress of this run only
        logfile = log_path(self.project, job.id).open("ab")
        try:
            return subprocess.Popen(
                [sys.executable, "-m", "facecraft.studio.runner", str(folder / "job.json")],
                stdin=subprocess.DEVNULL,
                stdout=logfile,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.project.root,
                start_new_session=True,  # Ctrl-C in the studio's terminal must not reach it: the worker stops it
            )
        finally:
            logfile.close()

    def _run(self, job: Job) -> None:
        proc = self._proc = self._spawn(job)
        self.store.set(job.id, pid=proc.pid, detail="starting")
        interrupted_at: float | None = None
        stopping = False
        while proc.poll() is None:
            time.sleep(self.poll_s)
            self._update_progress(job.id)
            current = self.store.get(job.id)
            if interrupted_at is None and ((current and current.cancel) or self._stop.is_set()):
                stopping = self._stop.is_set() and not (current and current.cancel)
                proc.send_signal(signal.SIGINT)
                interrupted_at = time.monotonic()
            elif interrupted_at is not None and time.monotonic() - interrupted_at > STOP_GRACE_S:
                proc.kill()
        self._proc = None
        self._finish(job.id, proc.returncode, interrupted_at is not None, stopping)

    def _update_progress(self, job_id: int) -> None:
        p = progress.last_progress(read_log(self.project, job_id, tail=8192, start=self._log_start))
        if p is not None:
            self.store.set(job_id, progress=p.fraction, detail=p.text())

    def _finish(self, job_id: int, rc: int, interrupted: bool, studio_stopping: bool) -> None:
        # paths in the closing lines are shown relative to the project
        text = read_log(self.project, job_id).replace(f"{self.project.root}/", "")
        now = time.time()
        if studio_stopping:
            self.store.set(
                job_id, state="queued", pid=None, detail="interrupted by a studio stop; resumes on start"
            )
            self._append_log(
                job_id, "\n[studio] stopped with the studio; it resumes when the studio starts\n"
            )
        elif interrupted:
            self.store.set(
                job_id, state="cancelled", pid=None, finished=now, detail="cancelled (what was done is saved)"
            )
        elif rc == 0:
            self.store.set(
                job_id, state="done", pid=None, finished=now, progress=1.0, result=progress.summary_line(text)
            )
        else:
            self.store.set(
                job_id,
                state="failed",
                pid=None,
                finished=now,
                error=progress.error_line(text) or f"exit {rc}",
            )
