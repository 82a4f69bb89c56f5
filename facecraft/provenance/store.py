"""A manifest store: every signed manifest facecraft writes is also kept by its watermark's content id, so that
``verify`` can bring back the credentials of a copy that lost them (a re-encode, an upload, a remux).

The local store is ``<config folder>/manifests``; an organisation can share one by setting
``FACECRAFT_MANIFEST_STORE`` to a folder every labelling machine writes to and every verifier reads.
Each output leaves ``<content id>.c2pa`` (the signed manifest store, as C2PA tools read it) and
``<content id>.json`` (what it says, readable without C2PA tools).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from facecraft.fileio import write_atomic
from facecraft.provenance.keys import config_dir

STORE_ENV = "FACECRAFT_MANIFEST_STORE"


def store_dirs() -> tuple[Path, ...]:
    """The stores to write to and read from: the local one, then the organisation's (if set)."""
    local = config_dir() / "manifests"
    shared = os.environ.get(STORE_ENV)
    return (local, Path(shared)) if shared else (local,)


@dataclass(frozen=True)
class StoredManifest:
    path: Path  # the .c2pa file
    summary: dict[str, Any]  # the .json next to it

    def to_json(self) -> dict[str, Any]:
        return {"path": str(self.path), **self.summary}


def keep_manifest(content_id_hex: str, manifest_bytes: bytes, summary: dict[str, Any]) -> list[Path]:
    """Write one output's signed manifest and its summary into every store; the paths written.

    A store that cannot be written is skipped (labelling has already succeeded; the file carries its
    credentials), and the caller is told by the shorter list.
    """
    written: list[Path] = []
    for folder in store_dirs():
        try:
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"{content_id_hex}.c2pa"
            write_atomic(target, manifest_bytes)
            write_atomic(folder / f"{content_id_hex}.json", json.dumps(summary, indent=2).encode())
            written.append(target)
        except OSError:
            continue
    return written


def find_manifest(content_id_hex: str, stores: tuple[Path, ...] | None = None) -> StoredManifest | None:
    """The stored manifest of ``content_id_hex`` (six hex digits), from the first store that has it."""
    for folder in stores if stores is not None else store_dirs():
        path = Path(folder) / f"{content_id_hex}.c2pa"
        if path.is_file():
            try:
                summary = json.loads(path.with_suffix(".json").read_text())
            except (OSError, ValueError):
                summary = {}
            return StoredManifest(path, summary if isinstance(summary, dict) else {})
    return None
