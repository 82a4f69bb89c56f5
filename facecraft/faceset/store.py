"""Open, create, read and write a faceset folder (aligned PNGs + ``faceset.db``).

Writes are crash-safe: a face image is written to a temporary file and renamed into place before
its row is committed, and rows are committed together with the frames they came from, so an
interrupted run leaves only whole faces behind and a rerun picks up after the last commit.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from facecraft.errors import FacecraftError
from facecraft.faceset.schema import (
    BLOB_LAYOUT,
    DB_NAME,
    FACES_DIR,
    SCHEMA_SQL,
    SCHEMA_VERSION,
    FaceRecord,
    from_blob,
    to_blob,
)
from facecraft.fileio import disk_error, write_atomic
from facecraft.version import __version__

# Huffman-only deflate: 30% less CPU than level 1 for ~10% larger files (aligned faces are written per frame).
_PNG_FAST = [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_HUFFMAN_ONLY]

_FACE_COLUMNS = (
    "faces.id, image, source_id, frame_index, timestamp, face_index, bbox_x, bbox_y, bbox_w, bbox_h, det_score, "
    "landmarks, aligned_landmarks, affine, yaw, pitch, roll, blendshapes, sharpness, brightness, embedding, "
    "track_id, cluster_id"
)


class Faceset:
    """A faceset on disk. Use :meth:`open` or :meth:`create`; close it (or use ``with``)."""

    def __init__(self, root: Path, conn: sqlite3.Connection):
        self.root = root
        self.conn = conn

    # ---- opening -------------------------------------------------------------------------------
    @classmethod
    def open(cls, root: str | Path) -> Faceset:
        """Open an existing faceset, checking that this version of facecraft can read it."""
        root = Path(root)
        db = root / DB_NAME
        if not db.is_file():
            raise FacecraftError(
                f"{root} is not a faceset (no {DB_NAME}); create one with 'facecraft extract'"
            )
        try:
            conn = sqlite3.connect(db, check_same_thread=False)
            version = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise FacecraftError(f"{db} is not a readable faceset database ({exc})") from None
        if version is None:
            raise FacecraftError(f"{db} has no schema version; it was not written by facecraft")
        if int(version[0]) > SCHEMA_VERSION:
            raise FacecraftError(
                f"{root} uses faceset schema {version[0]}, newer than this facecraft ({__version__}) reads "
                f"(schema {SCHEMA_VERSION}); upgrade facecraft"
            )
        return cls(root, conn)

    @classmethod
    def create(cls, root: str | Path, settings: dict[str, Any]) -> Faceset:
        """Create a faceset, or reopen it when it exists with the same ``settings``."""
        root = Path(root)
        db = root / DB_NAME
        # A 0-byte database is one whose creation never got further (an older facecraft killed right then,
        # or another program opening the path first): it is created as new.
        if db.is_file() and db.stat().st_size > 0:
            fs = cls.open(root)
            old = fs.settings
            clash = {k: (old[k], v) for k, v in settings.items() if k in old and old[k] != v}
            if clash:
                fs.close()
                desc = ", ".join(f"{k}: {a!r} -> {b!r}" for k, (a, b) in clash.items())
                raise FacecraftError(
                    f"{root} was extracted with other settings ({desc}); use a new output folder or the same settings"
                )
            return fs
        try:
            (root / FACES_DIR).mkdir(parents=True, exist_ok=True)
            # Built under another name and moved into place: killed at any moment, the folder holds either
            # no database or a complete one, never one a resume cannot open.
            fresh = root / f"{DB_NAME}.new"
            fresh.unlink(missing_ok=True)
            init = sqlite3.connect(fresh)
            try:
                init.executescript(SCHEMA_SQL)
                with init:
                    init.executemany(
                        "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                        [
                            ("schema_version", str(SCHEMA_VERSION)),
                            ("software", f"facecraft {__version__}"),
                            ("settings", json.dumps(settings, sort_keys=True)),
                        ],
                    )
            finally:
                init.close()
            os.replace(fresh, db)
            conn = sqlite3.connect(db, check_same_thread=False)
        except OSError as exc:
            raise disk_error(exc, f"the faceset {root}") from None
        except sqlite3.OperationalError as exc:
            raise FacecraftError(f"cannot create the faceset database in {root}: {exc}") from None
        return cls(root, conn)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Faceset:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- metadata -----------------------------------------------------------------------------
    @property
    def settings(self) -> dict[str, Any]:
        row = self.conn.execute("SELECT value FROM meta WHERE key='settings'").fetchone()
        return json.loads(row[0]) if row else {}

    @property
    def size(self) -> int:
        """Side of the aligned face images in pixels."""
        return int(self.settings["size"])

    @property
    def coverage(self) -> str:
        return str(self.settings["coverage"])

    def set_meta(self, key: str, value: str) -> None:
        with self.conn:
            self.conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def get_meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    # ---- sources and resume bookkeeping --------------------------------------------------------
    def source_id(self, path: str, kind: str, width: int, height: int, fps: float, frame_count: int) -> int:
        row = self.conn.execute("SELECT id FROM sources WHERE path=?", (path,)).fetchone()
        if row:
            return int(row[0])
        with self.conn:
            cur = self.conn.execute(
                "INSERT INTO sources(path, kind, width, height, fps, frame_count) VALUES (?,?,?,?,?,?)",
                (path, kind, width, height, fps, frame_count),
            )
        return int(cur.lastrowid or 0)

    def source_complete(self, path: str) -> bool:
        row = self.conn.execute("SELECT complete FROM sources WHERE path=?", (path,)).fetchone()
        return bool(row and row[0])

    def mark_source_complete(self, source_id: int) -> None:
        with self.conn:
            self.conn.execute("UPDATE sources SET complete=1 WHERE id=?", (source_id,))
            self.conn.execute("DELETE FROM resume_state WHERE source_id=?", (source_id,))

    def frames_done(self, source_id: int) -> set[int]:
        rows = self.conn.execute("SELECT frame_index FROM frames_done WHERE source_id=?", (source_id,))
        return {int(r[0]) for r in rows}

    def resume_state(self, source_id: int) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT state FROM resume_state WHERE source_id=?", (source_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def sources(self) -> list[dict[str, Any]]:
        cur = self.conn.execute(
            "SELECT id, path, kind, width, height, fps, frame_count, complete FROM sources"
        )
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur]

    # ---- writing faces -------------------------------------------------------------------------
    def write_image(self, name: str, image: np.ndarray) -> None:
        """Write an aligned face PNG atomically (temp file, fsync, rename)."""
        ok, buf = cv2.imencode(".png", image, _PNG_FAST)
        if not ok:
            raise FacecraftError(f"cannot encode face image {name}")
        write_atomic(self.root / FACES_DIR / name, buf.tobytes())

    def commit_frames(
        self,
        source_id: int,
        frame_indices: Iterable[int],
        faces: Iterable[FaceRecord],
        state: dict[str, Any] | None = None,
    ) -> None:
        """Record face rows, the frames they came from and the resume state in one transaction.

        The face images must already be written (see :meth:`write_image`).
        """
        try:
            with self.conn:
                self.conn.executemany(
                    "INSERT OR IGNORE INTO frames_done(source_id, frame_index) VALUES (?, ?)",
                    [(source_id, int(i)) for i in frame_indices],
                )
                self.conn.executemany(
                    f"INSERT INTO faces({_FACE_COLUMNS.removeprefix('faces.id, ')}) "
                    f"VALUES ({', '.join('?' * 22)})",
                    [_row(source_id, f) for f in faces],
                )
                if state is not None:
                    self.conn.execute(
                        "INSERT OR REPLACE INTO resume_state(source_id, state) VALUES (?, ?)",
                        (source_id, json.dumps(state)),
                    )
        except sqlite3.OperationalError as exc:
            if "full" in str(exc) or "disk" in str(exc):
                raise FacecraftError(
                    f"the disk is full while writing {self.root / DB_NAME}; free some space and run again to resume"
                ) from None
            raise FacecraftError(f"cannot write {self.root / DB_NAME}: {exc}") from None

    def set_cluster_ids(self, mapping: dict[int, int]) -> None:
        """Set ``cluster_id`` for face ids (face id -> cluster id)."""
        with self.conn:
            self.conn.executemany(
                "UPDATE faces SET cluster_id=? WHERE id=?", [(c, i) for i, c in mapping.items()]
            )

    def delete_faces(self, ids: Iterable[int]) -> None:
        """Remove faces (rows and images)."""
        ids = list(ids)
        names = (
            [
                r[0]
                for r in self.conn.execute(
                    f"SELECT image FROM faces WHERE id IN ({','.join('?' * len(ids))})", ids
                )
            ]
            if ids
            else []
        )
        with self.conn:
            self.conn.executemany("DELETE FROM faces WHERE id=?", [(i,) for i in ids])
        for n in names:
            (self.root / FACES_DIR / n).unlink(missing_ok=True)

    # ---- reading -------------------------------------------------------------------------------
    def count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM faces").fetchone()[0])

    def faces(self, where: str = "", params: tuple[Any, ...] = ()) -> list[FaceRecord]:
        """All face records (optionally filtered by an SQL ``where`` clause), ordered by id."""
        sql = (
            f"SELECT {_FACE_COLUMNS}, s.path FROM faces JOIN sources s ON s.id = faces.source_id "
            f"{'WHERE ' + where if where else ''} ORDER BY faces.id"
        )
        return [_record(r) for r in self.conn.execute(sql, params)]

    def image_path(self, face: FaceRecord) -> Path:
        return self.root / FACES_DIR / face.image

    def load_image(self, face: FaceRecord) -> np.ndarray:
        """The aligned face as a BGR uint8 array of shape (size, size, 3)."""
        path = self.image_path(face)
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise FacecraftError(
                f"face image {path} is missing or unreadable; 'facecraft faceset repair {self.root}' drops the "
                "faces whose images are lost"
            )
        return image

    def array(self, column: str, where: str = "", params: tuple[Any, ...] = ()) -> np.ndarray:
        """One column for all faces as an array, e.g. ``array('embedding')`` -> (N, 128)."""
        sql = f"SELECT {column} FROM faces {'WHERE ' + where if where else ''} ORDER BY id"
        rows = [r[0] for r in self.conn.execute(sql, params)]
        if column in BLOB_LAYOUT:
            dtype, shape = BLOB_LAYOUT[column]
            return (
                np.stack([from_blob(b, dtype, shape) for b in rows]) if rows else np.zeros((0, *shape), dtype)
            )
        return np.asarray(rows)


def _row(source_id: int, f: FaceRecord) -> tuple[Any, ...]:
    return (
        f.image,
        source_id,
        f.frame_index,
        f.timestamp,
        f.face_index,
        *map(float, f.bbox),
        f.det_score,
        to_blob(f.landmarks, "float32"),
        to_blob(f.aligned_landmarks, "float32"),
        to_blob(f.affine, "float64"),
        f.yaw,
        f.pitch,
        f.roll,
        to_blob(f.blendshapes, "float32"),
        f.sharpness,
        f.brightness,
        to_blob(f.embedding, "float32"),
        f.track_id,
        f.cluster_id,
    )


def _record(r: tuple[Any, ...]) -> FaceRecord:
    (
        fid,
        image,
        _sid,
        frame,
        ts,
        fidx,
        bx,
        by,
        bw,
        bh,
        score,
        lm,
        alm,
        aff,
        yaw,
        pitch,
        roll,
        bs,
        sharp,
        bright,
        emb,
        track,
        cluster,
        path,
    ) = r
    blob = {
        k: from_blob(v, *BLOB_LAYOUT[k])
        for k, v in (
            ("landmarks", lm),
            ("aligned_landmarks", alm),
            ("affine", aff),
            ("blendshapes", bs),
            ("embedding", emb),
        )
    }
    return FaceRecord(
        source_path=path,
        frame_index=frame,
        timestamp=ts,
        face_index=fidx,
        bbox=(bx, by, bw, bh),
        det_score=score,
        yaw=yaw,
        pitch=pitch,
        roll=roll,
        sharpness=sharp,
        brightness=bright,
        track_id=track,
        cluster_id=cluster,
        image=image,
        id=fid,
        **blob,
    )
