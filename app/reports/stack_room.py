"""Room on the interpreter's frame stack for a deep call that is made over and over.

CPython (3.11, 3.12, and 3.13/3.14 before gh-142183 was fixed) keeps Python frames in
chunks of 16 KiB and frees a chunk as soon as the frame at its base returns. A report render
recurses some 40–70 frames deep through WeasyPrint's cascade and layout; wherever those calls
straddle a chunk boundary, every call maps a new chunk (`mmap`, then page faults on first use)
and every return unmaps it. Where the boundary falls depends on how deep the caller already
is: measured 1,700–6,000 map/unmap pairs per candidate report, 4 % of its time at the
benchmark's depth and up to a quarter at others.

`call` runs a function from a frame so large that CPython gives it a chunk of its own, with
far more room above it than a render uses: one map and unmap per call instead.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

# Frame slots of 8 bytes. CPython sizes a new chunk as the smallest 16 KiB × 2ⁿ that holds the
# frame plus 1,000 slots: 15,500 slots (121 KiB) get a 256 KiB chunk with ~130 KiB free above
# the frame, against the ~25 KiB the deepest report render was measured to use.
ROOM_SLOTS = 15_500


def _call(function: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return function(*args, **kwargs)


# The same code with a larger evaluation stack declared: the interpreter reserves it in the
# frame and never touches what the code does not use.
_call_with_room = types.FunctionType(
    _call.__code__.replace(co_stacksize=_call.__code__.co_stacksize + ROOM_SLOTS),
    _call.__globals__,
    "_call_with_room",
)


def call(function: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """`function(*args, **kwargs)`, with the frame-stack room described above."""
    result: R = _call_with_room(function, args, kwargs)
    return result
