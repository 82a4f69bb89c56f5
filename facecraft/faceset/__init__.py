"""The faceset: aligned face images plus a SQLite index of everything known about each face."""

from facecraft.faceset.schema import FaceRecord
from facecraft.faceset.store import Faceset

__all__ = ["FaceRecord", "Faceset"]
