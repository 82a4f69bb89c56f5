"""One registry type for every named family of plugins: colour, blend and mask methods, renderers, model
architectures. ``REG = Registry("colour method")``; ``@REG.register("rct")`` on a class or function, or
``REG.add(name, thing)``; ``REG.get(name)`` fails with one clear line naming the choices."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from facecraft.errors import FacecraftError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to things of type ``T``, in registration order; ``what`` names the family in messages
    ("unknown colour method 'x'; choose one of ...")."""

    def __init__(self, what: str):
        self.what = what
        self._items: dict[str, T] = {}

    def add(self, name: str, item: T) -> T:
        """Register ``item`` as ``name`` (a programming error, ValueError, when the name is taken)."""
        if name in self._items:
            raise ValueError(f"{self.what} {name!r} registered twice")
        self._items[name] = item
        return item

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: register the decorated class or function itself as ``name``."""
        return lambda item: self.add(name, item)

    def names(self) -> list[str]:
        return list(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def get(self, name: str) -> T:
        """The thing registered as ``name``; FacecraftError (one line, with the choices) for an unknown name."""
        if name not in self._items:
            raise FacecraftError(f"unknown {self.what} {name!r}; choose one of {', '.join(self._items)}")
        return self._items[name]
