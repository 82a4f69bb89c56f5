"""Face-parser label maps of a faceset's aligned faces, computed once and kept next to the faces.

Training uses them to know, per pixel, what is face (the learned mask's target) and what covers or
surrounds it (hair, hats, glasses, jewellery, clothes: left out of the loss, so a decoder never learns
to paint its person's fringe or glasses into the face). Maps are PNGs in ``<faceset>/parsed/`` named
like the faces, written atomically, so an interrupted run resumes and a changed faceset only parses
its new faces.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from facecraft.errors import FacecraftError
from facecraft.faceset.schema import FaceRecord
from facecraft.faceset.store import Faceset
from facecraft.fileio import write_atomic

PARSED_DIR = "parsed"
PARSE_SIZE = 384
"""The parser reads aligned faces at 384 px, as the swap does: eyes, nose and lips stay (256 loses them) at
about half the cost of 512; the face class agrees with 512 px parsing at IoU 0.98 (min 0.96, 13 faces of two
shared clips)."""


def parsed_labels(fs: Faceset, faces: list[FaceRecord], progress: bool = True) -> list[np.ndarray]:
    """(S, S) uint8 label maps (facecraft.face.parse.LABELS) of ``faces`` at the faceset size."""
    folder = Path(fs.root) / PARSED_DIR
    paths = [folder / (Path(f.image).stem + ".png") for f in faces]
    missing = [i for i, p in enumerate(paths) if not p.is_file()]
    if missing:
        from facecraft.face.parse import FaceParser

        parser = FaceParser.load(size=PARSE_SIZE)
        try:
            folder.mkdir(exist_ok=True)
        except OSError as exc:
            raise FacecraftError(f"cannot write the parsed faces into {folder}: {exc.strerror}") from None
        bar = tqdm(total=len(missing), unit="face", desc=f"parse {Path(fs.root).name}", disable=not progress)
        for start in range(0, len(missing), 8):
            chunk = missing[start : start + 8]
            for i, labels in zip(chunk, parser.parse([fs.load_image(faces[i]) for i in chunk]), strict=True):
                ok, png = cv2.imencode(".png", labels)
                if ok:
                    write_atomic(paths[i], png.tobytes())
            bar.update(len(chunk))
        bar.close()
    out = []
    for p in paths:
        read = cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
        if read is None or read.ndim != 2:
            raise FacecraftError(f"the parsed face {p} is unreadable; delete it and train again to redo it")
        out.append(np.asarray(read, np.uint8))
    return out
