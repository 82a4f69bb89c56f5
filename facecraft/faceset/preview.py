"""A contact sheet of a faceset: a grid of aligned faces labelled with pose and sharpness."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from facecraft.errors import FacecraftError
from facecraft.faceset.store import Faceset
from facecraft.fileio import disk_error


def contact_sheet(fs: Faceset, max_faces: int = 64, tile: int = 128, columns: int = 8) -> np.ndarray:
    """A BGR image with up to ``max_faces`` faces spread evenly over the faceset."""
    faces = fs.faces()
    if not faces:
        raise FacecraftError(f"the faceset {fs.root} has no faces to preview")
    pick = np.unique(np.linspace(0, len(faces) - 1, min(max_faces, len(faces))).round().astype(int))
    columns = min(columns, len(pick))
    rows = -(-len(pick) // columns)
    label_h = 16
    sheet = np.full((rows * (tile + label_h), columns * tile, 3), 32, np.uint8)
    for k, i in enumerate(pick):
        f = faces[i]
        img = cv2.resize(fs.load_image(f), (tile, tile), interpolation=cv2.INTER_AREA)
        r, c = divmod(k, columns)
        y, x = r * (tile + label_h), c * tile
        sheet[y : y + tile, x : x + tile] = img
        text = f"y{f.yaw:+.0f} p{f.pitch:+.0f} s{f.sharpness:.0f} #{f.cluster_id}"
        cv2.putText(
            sheet,
            text,
            (x + 2, y + tile + 12),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.33,
            (220, 220, 220),
            1,
            cv2.LINE_AA,
        )
    return sheet


def write_preview(fs: Faceset, output: str | Path, max_faces: int = 64) -> Path:
    """Write the contact sheet to ``output`` (PNG or JPEG)."""
    output = Path(output)
    sheet = contact_sheet(fs, max_faces)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        ok = cv2.imwrite(str(output), sheet)
    except OSError as exc:
        raise disk_error(exc, str(output)) from None
    if not ok:
        raise FacecraftError(f"cannot write {output}; use a .png or .jpg name in a folder you can write to")
    return output
