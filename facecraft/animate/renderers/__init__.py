"""Registry of renderers. Each renderer module registers itself here; import them explicitly below."""

from __future__ import annotations

from collections.abc import Callable

from facecraft.animate.renderers.base import FrameRequest, Renderer
from facecraft.errors import FacecraftError

_RENDERERS: dict[str, type[Renderer]] = {}


def register(name: str) -> Callable[[type[Renderer]], type[Renderer]]:
    """Class decorator: make a renderer available as ``name``."""

    def add(cls: type[Renderer]) -> type[Renderer]:
        if name in _RENDERERS:
            raise ValueError(f"renderer {name!r} registered twice")
        cls.name = name
        _RENDERERS[name] = cls
        return cls

    return add


def list_renderers() -> list[str]:
    return sorted(_RENDERERS)


def get_renderer(name: str) -> type[Renderer]:
    if name not in _RENDERERS:
        raise FacecraftError(f"unknown renderer {name!r}; choose one of {', '.join(list_renderers())}")
    return _RENDERERS[name]


from facecraft.animate.renderers import geometric  # noqa: E402  (registers "geometric")

__all__ = ["FrameRequest", "Renderer", "geometric", "get_renderer", "list_renderers", "register"]
