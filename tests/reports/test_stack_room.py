"""Frame-stack room: a deep call repeated many times maps no new stack memory, at any depth."""

from __future__ import annotations

import resource
import sys
from collections.abc import Callable

import pytest

from app.reports import stack_room

CALLS = 3_000
DEPTH = 60  # frames, about as deep as a report render goes
STARTING_DEPTHS = range(0, 320, 8)


def descend(depth: int) -> int:
    return depth if depth == 0 else descend(depth - 1)


def repeated_deep_calls() -> None:
    for _ in range(CALLS):
        descend(DEPTH)


def from_depth(depth: int, function: Callable[[], None]) -> None:
    if depth == 0:
        function()
    else:
        from_depth(depth - 1, function)


def page_faults(function: Callable[[], None]) -> int:
    """Minor page faults of this thread while `function` runs: each new stack chunk the
    interpreter maps costs at least one, on first use."""
    before = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
    function()
    return resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - before


def test_repeated_deep_calls_map_no_stack_memory_from_any_starting_depth() -> None:
    faults = {
        depth: page_faults(
            lambda depth=depth: from_depth(depth, lambda: stack_room.call(repeated_deep_calls))
        )
        for depth in STARTING_DEPTHS
    }
    assert max(faults.values()) < CALLS // 10, faults


@pytest.mark.skipif(
    sys.version_info >= (3, 13), reason="CPython 3.13+ keeps a freed chunk (gh-142183)"
)
def test_without_the_room_some_starting_depth_maps_a_chunk_on_every_call() -> None:
    # What the room prevents, shown with the same calls and the same measure.
    faults = [
        page_faults(lambda depth=depth: from_depth(depth, repeated_deep_calls))
        for depth in STARTING_DEPTHS
    ]
    assert max(faults) >= CALLS


def test_the_call_passes_arguments_and_returns_the_result() -> None:
    assert stack_room.call(divmod, 17, 5) == (3, 2)
    assert stack_room.call(sorted, [3, 1, 2], reverse=True) == [3, 2, 1]
    with pytest.raises(ZeroDivisionError):
        stack_room.call(divmod, 1, 0)
