"""The renderers, by name. Each renderer module registers itself in :data:`base.RENDERERS`; they are imported
explicitly here, so asking for one by name always finds it."""

from __future__ import annotations

from facecraft.animate.renderers import geometric  # registers "geometric"
from facecraft.animate.renderers.base import RENDERERS, FrameRequest, Renderer, register


def list_renderers() -> list[str]:
    return sorted(RENDERERS.names())


def get_renderer(name: str) -> type[Renderer]:
    return RENDERERS.get(name)


__all__ = ["FrameRequest", "Renderer", "geometric", "get_renderer", "list_renderers", "register"]
