"""Measuring a swap: identity, expression and pose kept, flicker and seams (see docs/metrics.md)."""

from facecraft.evaluate.run import EvaluateReport, FrameScore, evaluate

__all__ = ["EvaluateReport", "FrameScore", "evaluate"]
