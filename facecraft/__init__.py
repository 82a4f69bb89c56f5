"""facecraft: face extraction, face swapping and portrait animation, labelled as synthetic by default.

The public API is a handful of verbs; the CLI and any UI call only these::

    import facecraft
    facecraft.extract(["talk.mp4"], "faces_a")

Verbs are imported on first use, so ``import facecraft`` loads no model and no heavy library.
"""

from __future__ import annotations

import importlib
from typing import Any

from facecraft.errors import FacecraftError
from facecraft.version import __version__

_VERBS = {
    "extract": "facecraft.extract",
    "train": "facecraft.train",
    "swap": "facecraft.swap",
    "animate": "facecraft.animate",
    "verify": "facecraft.provenance",
    "evaluate": "facecraft.evaluate",
}

__all__ = ["FacecraftError", "__version__", *_VERBS]


def __getattr__(name: str) -> Any:
    if name in _VERBS:
        return getattr(importlib.import_module(_VERBS[name]), name)
    raise AttributeError(f"module 'facecraft' has no attribute {name!r}")
