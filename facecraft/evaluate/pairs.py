"""Finding the same face in an original frame and its swapped counterpart, measured the same way.

Both frames are searched; faces are paired by box overlap and each pair is meshed with one shared crop
box, so swapping the roles of the two frames gives the same landmarks and the metrics stay symmetric.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facecraft.face.align import five_points
from facecraft.face.detect import FaceDetector
from facecraft.face.identity import IdentityEncoder
from facecraft.face.mesh import FaceMesher, Mesh
from facecraft.face.track import Box, iou


@dataclass(frozen=True)
class FacePair:
    """One face seen in both frames: the shared box, both meshes and both SFace embeddings."""

    box: Box
    original: Mesh
    swapped: Mesh
    original_embedding: np.ndarray
    swapped_embedding: np.ndarray


def _mean_box(a: Box, b: Box) -> Box:
    return tuple((np.asarray(a) + np.asarray(b)) / 2)


def pair_boxes(a: list[Box], b: list[Box], min_iou: float = 0.3) -> list[Box]:
    """Boxes of faces found in either frame: overlapping ones (IoU >= min_iou) merged by averaging, the
    others kept as they are. Largest first. Symmetric in ``a`` and ``b``."""
    pairs = sorted(((iou(x, y), i, j) for i, x in enumerate(a) for j, y in enumerate(b)), reverse=True)
    used_a: set[int] = set()
    used_b: set[int] = set()
    out: list[Box] = []
    for o, i, j in pairs:
        if o < min_iou or i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        out.append(_mean_box(a[i], b[j]))
    out += [x for i, x in enumerate(a) if i not in used_a] + [y for j, y in enumerate(b) if j not in used_b]
    return sorted(out, key=lambda box: -box[2] * box[3])


class PairFinder:
    """Holds the detector, mesher and identity encoder; :meth:`close` it when done."""

    def __init__(self) -> None:
        self.detector = FaceDetector()
        self.mesher = FaceMesher()
        self.encoder = IdentityEncoder()

    def close(self) -> None:
        self.mesher.close()

    def find(self, original: np.ndarray, swapped: np.ndarray) -> list[FacePair]:
        """Faces in both BGR frames (same size), largest first."""
        boxes = pair_boxes(
            [d.bbox for d in self.detector.detect(original)], [d.bbox for d in self.detector.detect(swapped)]
        )
        out = []
        for box in boxes:
            mesh_o, mesh_s = self.mesher.mesh(original, box), self.mesher.mesh(swapped, box)
            if mesh_o is None or mesh_s is None:
                continue
            emb_o = self.encoder.embed(original, five_points(mesh_o.landmarks))
            emb_s = self.encoder.embed(swapped, five_points(mesh_s.landmarks))
            out.append(FacePair(box, mesh_o, mesh_s, emb_o, emb_s))
        return out
