"""Read the next batch of a file while the current one is being stored.

Parsing (polars, mostly outside the GIL) and storing (the database, or SQLite's C code) then
overlap on two cores. One batch ahead at most, so memory stays bounded by two batches.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


def read_ahead(items: Iterator[T]) -> Iterator[T]:
    """Yield ``items``, producing the next one in a background thread meanwhile.

    An exception raised while producing is raised here, at the item it replaced. Closing the
    generator early (an error while storing) stops the producer after the item in hand.
    """
    handoff: queue.Queue[tuple[object, BaseException | None]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                handoff.put((item, None))
            handoff.put((_DONE, None))
        except BaseException as exc:  # handed to the consumer, which raises it
            handoff.put((_DONE, exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # a generator: release its file in the thread that runs it

    producer = threading.Thread(target=produce, name="read-ahead", daemon=True)
    producer.start()
    try:
        while True:
            item, error = handoff.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        while producer.is_alive():  # unblock a producer waiting to hand over
            with contextlib.suppress(queue.Empty):
                handoff.get(timeout=0.05)
        producer.join()
