"""facecraft: face extraction, face swapping and portrait animation, labelled as synthetic by default.

The public API is a handful of verbs; the CLI and any UI call only these::

    import facecraft
    facecraft.extract(["talk.mp4"], "faces_a")

Verbs are imported on first use, so ``import facecraft`` loads no model and no heavy library.
"""

from __future__ import annotations

import importlib
import inspect
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


class _VerbPackage(types.ModuleType):
    """A stage's package that is also its verb: ``facecraft.extract(...)`` calls
    ``facecraft.extract.extract(...)``, and every import of the package and its modules works as usual."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return getattr(self, self.__name__.rpartition(".")[2])(*args, **kwargs)


class _Package(types.ModuleType):
    """The ``facecraft`` module. Five verbs share their name with the sub-package that defines them, and
    Python's import system sets that sub-package as an attribute of ``facecraft`` when it is first imported
    (which used to replace the verb with a module that cannot be called). This class makes each of those
    sub-packages callable as its verb at that moment."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and value.__name__ == f"facecraft.{name}" and name in _VERBS:
            value.__class__ = _VerbPackage
            value.__signature__ = inspect.signature(getattr(value, name))  # type: ignore[attr-defined]
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    if name in _VERBS:
        package = importlib.import_module(_VERBS[name])
        return package if package.__name__ == f"facecraft.{name}" else getattr(package, name)
    raise AttributeError(f"module 'facecraft' has no attribute {name!r}")
