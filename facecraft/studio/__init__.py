"""facecraft studio: a local web app over the verbs (extract, train, swap, animate, evaluate, verify).

A project is a folder (media, facesets, models, outputs, consent records and a SQLite job table); jobs run
one at a time in a worker, each as the same command line the CLI takes. See docs/studio.md.
"""

from __future__ import annotations

from facecraft.studio.server import create_app

__all__ = ["create_app"]
