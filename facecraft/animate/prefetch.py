"""Run a producer (the driving video: decode + face mesh) in a background thread, a few items ahead.

Decoding and meshing the driving face overlap with warping and encoding, which matters on a 2-core CPU:
MediaPipe, OpenCV and the encoder all release the GIL while they work.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


class Prefetch(Iterator[T]):
    """Iterate ``items`` while a thread, started at once, computes up to ``depth`` of them ahead.

    An exception in the producer is re-raised by ``next``; :meth:`close` (also at the end, on an error, or
    leaving a ``with`` block) stops the producer. Start one early to overlap it with other set-up work.
    """

    def __init__(self, items: Iterator[T], depth: int = 4):
        self._q: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._items = items
        self._thread = threading.Thread(target=self._produce, name="facecraft-prefetch", daemon=True)
        self._thread.start()

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        try:
            for item in self._items:
                if not self._put(item):
                    return
            self._put(_DONE)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            self._put(exc)

    def __next__(self) -> T:
        if self._stop.is_set():
            raise StopIteration
        item = self._q.get()
        if item is _DONE:
            self.close()
            raise StopIteration
        if isinstance(item, BaseException):
            self.close()
            raise item
        return item  # type: ignore[return-value]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def __enter__(self) -> Prefetch[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def prefetch(items: Iterator[T], depth: int = 4) -> Iterator[T]:
    """Yield ``items`` in order while a thread computes up to ``depth`` of them ahead.

    An exception in the producer is re-raised here; stopping early (break, error) stops the producer.
    """
    with Prefetch(items, depth) as ahead:
        yield from ahead
