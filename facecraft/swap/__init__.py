"""Stage 3: put the trained face into videos and photos — masks, colour, blending, stability, audio."""

from facecraft.swap.config import SwapConfig
from facecraft.swap.run import SwapReport, swap

__all__ = ["SwapConfig", "SwapReport", "swap"]
