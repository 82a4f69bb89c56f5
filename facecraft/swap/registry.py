"""A tiny named registry, one per plugin family (colour, blend, mask): ``@reg.register("rct")``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from facecraft.errors import FacecraftError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps method names to plugin classes; ``what`` names the family in error messages."""

    def __init__(self, what: str):
        self.what = what
        self._items: dict[str, type[T]] = {}

    def register(self, name: str) -> Callable[[type[T]], type[T]]:
        def add(cls: type[T]) -> type[T]:
            if name in self._items:
                raise ValueError(f"{self.what} method {name!r} registered twice")
            self._items[name] = cls
            return cls

        return add

    def names(self) -> list[str]:
        return list(self._items)

    def get(self, name: str) -> type[T]:
        if name not in self._items:
            raise FacecraftError(
                f"unknown {self.what} method {name!r}; choose one of {', '.join(self._items)}"
            )
        return self._items[name]
