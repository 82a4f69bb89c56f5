"""Stage 1: find, track and align faces in videos and photos into a faceset."""

from facecraft.extract.config import ExtractConfig
from facecraft.extract.run import ExtractReport, extract

__all__ = ["ExtractConfig", "ExtractReport", "extract"]
