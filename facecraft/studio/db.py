"""The job table: one SQLite file in the project folder, so jobs survive a restart of the studio."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

STATES = ("queued", "running", "done", "failed", "cancelled")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id        INTEGER PRIMARY KEY,
    kind      TEXT NOT NULL,
    state     TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    params    TEXT NOT NULL,
    argv      TEXT NOT NULL DEFAULT '[]',
    title     TEXT NOT NULL DEFAULT '',
    created   REAL NOT NULL,
    started   REAL,
    finished  REAL,
    progress  REAL NOT NULL DEFAULT 0,
    detail    TEXT NOT NULL DEFAULT '',
    error     TEXT NOT NULL DEFAULT '',
    result    TEXT NOT NULL DEFAULT '',
    pid       INTEGER,
    runs      INTEGER NOT NULL DEFAULT 0,
    cancel    INTEGER NOT NULL DEFAULT 0
);
"""


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    state: str
    params: dict[str, Any]
    argv: list[str]
    title: str
    created: float
    started: float | None
    finished: float | None
    progress: float
    """0..1, or -1 when the amount of work is unknown."""
    detail: str
    """The latest progress text (counts, rate, ETA)."""
    error: str
    """The one-line message of a failed job."""
    result: str
    """The verb's closing summary line."""
    pid: int | None
    runs: int
    """How many times a worker has started it (more than 1: resumed)."""
    cancel: bool

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class JobStore:
    """Jobs in ``path`` (SQLite, WAL). Every call opens its own connection, so any thread may use it."""

    def __init__(self, path: Path):
        self.path = path
        with self._conn() as c:
            c.execute("PRAGMA journal_mode=WAL")
            c.executescript(_SCHEMA)

    @contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            with conn:
                yield conn
        finally:
            conn.close()

    def add(self, kind: str, params: dict[str, Any], title: str, argv: list[str]) -> int:
        """Queue a job with its command line in one statement: a worker may claim it the moment it exists
        (adding the command line afterwards let a worker start ``facecraft`` with none, a CI failure)."""
        with self._conn() as c:
            cur = c.execute(
                "INSERT INTO jobs (kind, state, params, argv, title, created) VALUES (?, 'queued', ?, ?, ?, ?)",
                (kind, json.dumps(params), json.dumps(argv), title, time.time()),
            )
            return int(cur.lastrowid or 0)

    def set(self, job_id: int, **fields: Any) -> None:
        for key in ("params", "argv"):
            if key in fields:
                fields[key] = json.dumps(fields[key])
        cols = ", ".join(f"{k}=?" for k in fields)
        with self._conn() as c:
            c.execute(f"UPDATE jobs SET {cols} WHERE id=?", (*fields.values(), job_id))

    def get(self, job_id: int) -> Job | None:
        with self._conn() as c:
            row = c.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
        return _job(row) if row else None

    def all(self, limit: int = 200) -> list[Job]:
        with self._conn() as c:
            rows = c.execute("SELECT * FROM jobs ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [_job(r) for r in rows]

    def in_state(self, state: str) -> list[Job]:
        with self._conn() as c:
            rows = c.execute("SELECT * FROM jobs WHERE state=? ORDER BY id", (state,)).fetchall()
        return [_job(r) for r in rows]

    def claim_next(self) -> Job | None:
        """The oldest queued job, marked running (atomically: one worker gets it)."""
        with self._conn() as c:
            c.execute("BEGIN IMMEDIATE")
            row = c.execute("SELECT id FROM jobs WHERE state='queued' ORDER BY id LIMIT 1").fetchone()
            if row is None:
                return None
            c.execute(
                "UPDATE jobs SET state='running', started=?, runs=runs+1, error='', detail='', progress=0 WHERE id=?",
                (time.time(), row[0]),
            )
        return self.get(int(row[0]))

    def request_cancel(self, job_id: int) -> Job | None:
        """Cancel a queued job at once; flag a running one (the worker stops it). Finished jobs stay."""
        with self._conn() as c:
            c.execute(
                "UPDATE jobs SET state='cancelled', finished=? WHERE id=? AND state='queued'",
                (time.time(), job_id),
            )
            c.execute("UPDATE jobs SET cancel=1 WHERE id=? AND state='running'", (job_id,))
        return self.get(job_id)

    def version(self) -> str:
        """Changes whenever any job row changes (for the event stream)."""
        with self._conn() as c:
            row = c.execute(
                "SELECT COUNT(*), GROUP_CONCAT(id || state || progress || detail || cancel, '|') FROM jobs"
            ).fetchone()
        return f"{row[0]}:{hash(row[1])}"


def _job(row: tuple[Any, ...]) -> Job:
    (jid, kind, state, params, argv, title, created, started, finished, progress, detail, error, result) = (
        row[:13]
    )
    pid, runs, cancel = row[13:16]
    return Job(
        int(jid),
        kind,
        state,
        json.loads(params),
        json.loads(argv),
        title,
        created,
        started,
        finished,
        float(progress),
        detail,
        error,
        result,
        pid,
        int(runs),
        bool(cancel),
    )
