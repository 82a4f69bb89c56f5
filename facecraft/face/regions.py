"""Named regions of the 478-point MediaPipe mesh, as ordered polygons of point indices.

The index lists come from MediaPipe's own connection tables (not copied here), chained into
closed polygons, so masks and region statistics follow the mesh the landmarker actually uses.
"""

from __future__ import annotations

import importlib
import sys
import threading
from functools import cache
from types import ModuleType

import numpy as np

# Points the aligner uses: eye corners, nose tip and mouth corners (image-left first).
LEFT_EYE_CORNERS = (33, 133)  # subject's right eye, on the image's left
RIGHT_EYE_CORNERS = (362, 263)
NOSE_TIP = 1
MOUTH_LEFT, MOUTH_RIGHT = 61, 291
UPPER_LIP_INNER, LOWER_LIP_INNER = 13, 14
LEFT_EYE_LIDS = (159, 145)  # upper, lower lid of the image-left eye
RIGHT_EYE_LIDS = (386, 374)
CHIN, FOREHEAD = 152, 10


def _chain(connections: list[tuple[int, int]]) -> tuple[int, ...]:
    """Order an unordered set of edges forming one loop (or path) into a point sequence."""
    nxt: dict[int, list[int]] = {}
    for a, b in connections:
        nxt.setdefault(a, []).append(b)
        nxt.setdefault(b, []).append(a)
    start = connections[0][0]
    order, prev, cur = [start], -1, start
    while True:
        options = [p for p in nxt[cur] if p != prev and p not in order[1:]]
        if not options or options[0] == start:
            break
        prev, cur = cur, options[0]
        order.append(cur)
    return tuple(order)


MEDIAPIPE_IMPORT = threading.Lock()
"""Held while mediapipe is first imported. Its packages import each other in a circle, and two threads
entering them at once (the mesh loading in the background while the swap reads these tables) failed with
"partially initialized module ... face_landmarker"."""


def import_mediapipe_vision() -> ModuleType:
    """``mediapipe.tasks.python.vision``, imported under :data:`MEDIAPIPE_IMPORT`.

    The package imports its drawing helpers, and they import ``matplotlib.pyplot`` (its figure and backend
    machinery) for plots facecraft never draws. While mediapipe imports, pyplot is a stand-in that imports
    the real one the moment anything is asked of it (from any thread); afterwards it leaves ``sys.modules``,
    so any later import gets the real pyplot. matplotlib itself is imported as usual (a stand-in for the
    package would break another thread importing one of its submodules meanwhile)."""
    with MEDIAPIPE_IMPORT:
        if "mediapipe.tasks.python.vision" in sys.modules or "matplotlib.pyplot" in sys.modules:
            from mediapipe.tasks.python import vision
        else:
            stand_in = _OnDemand("matplotlib.pyplot")
            sys.modules["matplotlib.pyplot"] = stand_in
            try:
                from mediapipe.tasks.python import vision
            finally:
                if sys.modules.get("matplotlib.pyplot") is stand_in:
                    del sys.modules["matplotlib.pyplot"]
    return vision


class _OnDemand(ModuleType):
    """A module that imports the real one of its name on first use of any attribute."""

    def __getattr__(self, attr: str) -> object:
        if attr.startswith("__"):
            raise AttributeError(attr)
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), attr)


@cache
def region(name: str) -> tuple[int, ...]:
    """Ordered polygon for ``face_oval``, ``left_eye``, ``right_eye``, ``left_eyebrow``,
    ``right_eyebrow``, ``lips_outer``, ``lips_inner``, ``left_iris``, ``right_iris`` or ``nose``.

    "left"/"right" are as seen in the image (MediaPipe's names are the subject's, i.e. swapped).
    """
    C = import_mediapipe_vision().FaceLandmarksConnections

    subject = {
        "face_oval": C.FACE_LANDMARKS_FACE_OVAL,
        "left_eye": C.FACE_LANDMARKS_RIGHT_EYE,
        "right_eye": C.FACE_LANDMARKS_LEFT_EYE,
        "left_eyebrow": C.FACE_LANDMARKS_RIGHT_EYEBROW,
        "right_eyebrow": C.FACE_LANDMARKS_LEFT_EYEBROW,
        "left_iris": C.FACE_LANDMARKS_RIGHT_IRIS,
        "right_iris": C.FACE_LANDMARKS_LEFT_IRIS,
        "nose": C.FACE_LANDMARKS_NOSE,
    }
    if name in ("lips_outer", "lips_inner"):
        edges = [(c.start, c.end) for c in C.FACE_LANDMARKS_LIPS]
        loops = _split_loops(edges)
        outer, inner = sorted(loops, key=len, reverse=True)[:2]
        return outer if name == "lips_outer" else inner
    if name not in subject:
        raise KeyError(f"unknown face region {name!r}")
    return _chain([(c.start, c.end) for c in subject[name]])


def _split_loops(edges: list[tuple[int, int]]) -> list[tuple[int, ...]]:
    remaining = list(edges)
    loops = []
    while remaining:
        loop = _chain(remaining)
        members = set(loop)
        loops.append(loop)
        remaining = [e for e in remaining if e[0] not in members and e[1] not in members]
    return loops


def polygon(points: np.ndarray, name: str) -> np.ndarray:
    """The (K, 2) float32 polygon of region ``name`` from (478, >=2) landmarks."""
    return np.asarray(points[list(region(name)), :2], dtype=np.float32)


def oval_width(points: np.ndarray) -> float:
    """The face oval's horizontal extent in the landmarks' pixels (the face's width in an aligned crop)."""
    return float(np.ptp(polygon(points, "face_oval")[:, 0]))
