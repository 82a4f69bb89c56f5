"""Stage: bring a single portrait to life, driven by a video of a face or a built-in performance.

Verbs: :func:`animate` (write a video) and :func:`reenact_eval` (self-reenactment quality numbers).
"""

from facecraft.animate.config import AnimateConfig
from facecraft.animate.evaluate import reenact_eval
from facecraft.animate.performance import list_performances
from facecraft.animate.renderers import list_renderers
from facecraft.animate.run import AnimateReport, Animation, animate

__all__ = [
    "AnimateConfig",
    "AnimateReport",
    "Animation",
    "animate",
    "list_performances",
    "list_renderers",
    "reenact_eval",
]
