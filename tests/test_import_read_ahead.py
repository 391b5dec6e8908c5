"""An import reads and cleans the next chunk of its file while the current one is written
(portal.imports.jobs.ReadAhead): same chunks in the same order, errors raised where they happened,
and no thread left behind however the caller's loop ends."""

import threading

import pytest

from portal.imports.jobs import ReadAhead
from portal.imports.reading import FileProblem


def counted(chunks, taken):
    for chunk in chunks:
        taken.append(chunk)
        yield chunk


def test_every_chunk_comes_in_order_with_its_prepared_value_worked_out_in_another_thread():
    callers = set()

    def prepare(chunk):
        callers.add(threading.get_ident())
        return sum(chunk)

    got = list(ReadAhead(iter([[1, 2], [3], [4, 5, 6]]), prepare))

    assert got == [([1, 2], 3), ([3], 3), ([4, 5, 6], 15)]
    assert callers and threading.get_ident() not in callers


def test_without_prepare_the_chunks_come_with_none_and_no_thread_is_started():
    before = threading.active_count()
    reader = ReadAhead(iter([[1], [2]]), None)

    assert list(reader) == [([1], None), ([2], None)]
    assert reader.thread is None
    assert threading.active_count() == before


def test_a_file_problem_met_while_reading_ahead_is_raised_in_the_caller_after_the_chunks_before_it():
    def chunks():
        yield [1]
        yield [2]
        raise FileProblem("too_many_rows", limit=2)

    seen = []
    reader = ReadAhead(chunks(), len)
    with pytest.raises(FileProblem) as raised:
        for chunk, _prepared in reader:
            seen.append(chunk)

    assert seen == [[1], [2]]
    assert raised.value.code == "too_many_rows"
    assert not reader.thread.is_alive()


def test_an_error_in_prepare_is_raised_in_the_caller():
    def prepare(chunk):
        if chunk == [2]:
            raise ValueError("bad chunk")
        return chunk

    reader = ReadAhead(iter([[1], [2], [3]]), prepare)
    with pytest.raises(ValueError, match="bad chunk"):
        list(reader)
    assert not reader.thread.is_alive()


def test_leaving_the_loop_early_stops_the_reading_a_chunk_or_two_ahead():
    taken = []
    reader = ReadAhead(counted(([n] for n in range(1000)), taken), len)
    for chunk, _prepared in reader:
        if chunk == [3]:
            break
    reader_iterator_closed = not reader.thread.is_alive()

    assert reader_iterator_closed
    assert len(taken) <= 4 + 2  # the chunk in the caller's hands, one queued and one being prepared
