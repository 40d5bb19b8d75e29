"""Read the next batch of a file while the current one is being stored.

Parsing (polars, mostly outside the GIL) and storing (the database, or SQLite's C code) then
overlap on two cores. One batch ahead at most: memory holds two batches, never more.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


def read_ahead(items: Iterator[T]) -> Generator[T]:
    """Yield ``items``, producing the next one in a background thread meanwhile.

    An exception raised while producing is raised here, at the item it replaced. Closing the
    generator early (an error while storing) stops the producer after the item in hand and
    closes ``items`` in the thread that ran it.
    """
    handoff: queue.Queue[tuple[object, BaseException | None]] = queue.Queue()
    # the producer starts an item only when the previous one has been taken
    may_produce = threading.Semaphore(1)
    stop = threading.Event()

    def produce() -> None:
        try:
            while True:
                may_produce.acquire()
                if stop.is_set():
                    return
                item = next(items, _DONE)
                handoff.put((item, None))
                if item is _DONE:
                    return
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
            may_produce.release()
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        may_produce.release()  # wake a producer waiting for its turn, so it sees the stop
        producer.join()
