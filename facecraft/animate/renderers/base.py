"""What a renderer is: it turns the portrait and one frame of motion into an output frame.

The geometric renderer warps the portrait along its retargeted mesh. A learned renderer (a motion
network or a few-shot fine-tuned generator, trained where a GPU and footage exist) implements the same
two methods and registers under its own name; the rest of the pipeline does not change.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from facecraft.animate.config import AnimateConfig
from facecraft.animate.motion import Motion
from facecraft.animate.portrait import Portrait
from facecraft.registry import Registry


@dataclass(frozen=True)
class FrameRequest:
    """One output frame to render: the motion, and where the portrait's mesh points should land
    (``target`` (478, 3), portrait pixels, already retargeted and clamped)."""

    motion: Motion
    target: np.ndarray


class Renderer(ABC):
    """Create once per portrait (precompute there), then call :meth:`render` per frame."""

    name: str = ""

    def __init__(
        self, portrait: Portrait, config: AnimateConfig, reference: tuple[np.ndarray, np.ndarray] | None
    ):
        """``reference``: (driving reference frame BGR, its mesh (478, 3)) when motion comes from a video."""
        self.portrait = portrait
        self.config = config
        self.reference = reference

    @abstractmethod
    def render(self, request: FrameRequest) -> np.ndarray:
        """The output frame, BGR uint8 with the portrait's framed size."""


RENDERERS: Registry[type[Renderer]] = Registry("renderer")


def register(name: str) -> Callable[[type[Renderer]], type[Renderer]]:
    """Class decorator: make a renderer available as ``name`` (and set its ``name``)."""

    def add(cls: type[Renderer]) -> type[Renderer]:
        cls.name = name
        return RENDERERS.add(name, cls)

    return add
