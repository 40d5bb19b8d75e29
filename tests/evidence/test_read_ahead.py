"""read_ahead: the items in order, the producer's errors at their place, a prompt early stop."""

from __future__ import annotations

import threading
import time
from collections.abc import Generator, Iterator

import pytest

from meritline.evidence.read_ahead import read_ahead

THREAD_NAME = "read-ahead"


def producers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD_NAME and t.is_alive()]


def wait_until_no_producer(timeout: float = 1.0) -> None:
    deadline = time.monotonic() + timeout
    while producers() and time.monotonic() < deadline:
        time.sleep(0.005)
    assert producers() == []


@pytest.fixture(autouse=True)
def no_producer_left_behind() -> Iterator[None]:
    yield
    wait_until_no_producer()


def test_yields_every_item_in_order() -> None:
    assert list(read_ahead(iter(range(100)))) == list(range(100))


def test_an_empty_iterator_yields_nothing() -> None:
    assert list(read_ahead(iter([]))) == []


def test_items_are_produced_in_a_background_thread_while_the_consumer_holds_one() -> None:
    asked_for_second = threading.Event()
    threads: list[str] = []

    def source() -> Iterator[int]:
        threads.append(threading.current_thread().name)
        yield 0
        asked_for_second.set()
        threads.append(threading.current_thread().name)
        yield 1

    consumer = read_ahead(source())
    assert next(consumer) == 0
    # the consumer has not asked for item 1 yet: only the read-ahead can be producing it
    assert asked_for_second.wait(timeout=1.0)
    assert list(consumer) == [1]
    assert threads == [THREAD_NAME, THREAD_NAME]


def test_reads_ahead_a_bounded_number_of_items() -> None:
    produced: list[int] = []
    second_produced, third_produced = threading.Event(), threading.Event()

    def source() -> Iterator[int]:
        for i in range(1000):
            produced.append(i)
            (second_produced if i == 1 else third_produced if i == 2 else threading.Event()).set()
            yield i

    consumer = read_ahead(source())
    assert isinstance(consumer, Generator)  # closable
    try:
        assert next(consumer) == 0
        assert second_produced.wait(timeout=1.0)
        time.sleep(0.05)  # room for an unbounded producer to run on
        # item 0 in hand, item 1 read ahead, nothing more until item 1 is taken
        assert produced == [0, 1]
        assert next(consumer) == 1
        assert third_produced.wait(timeout=1.0)
        time.sleep(0.05)
        assert produced == [0, 1, 2]
    finally:
        consumer.close()


def test_an_error_while_producing_is_raised_at_the_item_it_replaced() -> None:
    def source() -> Iterator[int]:
        yield from range(3)
        raise ValueError("bad row 3")

    received: list[int] = []
    with pytest.raises(ValueError, match=r"^bad row 3$"):
        for item in read_ahead(source()):
            received.append(item)
    assert received == [0, 1, 2]


def test_an_error_before_the_first_item_is_raised_at_once() -> None:
    def source() -> Iterator[int]:
        raise KeyError("missing column")
        yield 0  # unreachable: makes this a generator

    with pytest.raises(KeyError, match="missing column"):
        next(read_ahead(source()))


def test_stopping_early_stops_the_producer_and_closes_the_source() -> None:
    produced: list[int] = []
    closed_in: list[str] = []

    def source() -> Iterator[int]:
        try:
            for i in range(1000):
                produced.append(i)
                yield i
        finally:
            closed_in.append(threading.current_thread().name)

    started = time.monotonic()
    received: list[int] = []
    running: list[threading.Thread] = []
    for item in read_ahead(source()):  # the loop drops the generator on break: CPython closes it
        received.append(item)
        running = producers()
        if len(received) == 2:
            break
    elapsed = time.monotonic() - started

    assert received == [0, 1]
    assert [t.name for t in running] == [THREAD_NAME]
    # closing joined the producer: its thread is gone, and the source was closed (in that thread)
    assert not running[0].is_alive()
    assert closed_in == [THREAD_NAME]
    assert len(produced) <= 6, produced  # stopped after the item in hand, not at the end
    assert elapsed < 0.5


def test_closing_the_consumer_explicitly_closes_the_source() -> None:
    closed = threading.Event()

    def source() -> Iterator[int]:
        try:
            yield from range(1000)
        finally:
            closed.set()

    consumer = read_ahead(source())
    assert isinstance(consumer, Generator)  # closable
    assert next(consumer) == 0
    consumer.close()
    assert closed.is_set()
    assert producers() == []
