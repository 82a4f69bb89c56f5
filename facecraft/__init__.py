"""facecraft: face extraction, face swapping and portrait animation, labelled as synthetic by default.

The public API is a handful of verbs; the CLI and any UI call only these::

    import facecraft
    facecraft.extract(["talk.mp4"], "faces_a")

Verbs are imported on first use, so ``import facecraft`` loads no model and no heavy library.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

from facecraft.errors import FacecraftError
from facecraft.version import __version__

# verb -> the package that defines a function of that name
_VERBS = {
    "extract": "facecraft.extract",
    "train": "facecraft.train",
    "swap": "facecraft.swap",
    "animate": "facecraft.animate",
    "verify": "facecraft.provenance",
    "evaluate": "facecraft.evaluate",
}

__all__ = ["FacecraftError", "__version__", *_VERBS]


class _Package(types.ModuleType):
    """The ``facecraft`` module, with one rule: a verb name always means the verb function.

    Five verbs share their name with the sub-package that defines them (``facecraft.extract`` the
    function, ``facecraft/extract/`` the package). Python's import system sets the package as an
    attribute of its parent the first time it is imported, which would turn ``facecraft.extract``
    into a module that cannot be called. This class ignores exactly that assignment; the
    sub-packages stay importable as usual (``from facecraft.extract import ExtractConfig``).
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _VERBS and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    if name in _VERBS:
        verb = getattr(importlib.import_module(_VERBS[name]), name)
        globals()[name] = verb  # later look-ups skip this function
        return verb
    raise AttributeError(f"module 'facecraft' has no attribute {name!r}")
