"""Bounds on a JSON request body, checked with byte scans before it is parsed.

Parsing is the one step no later limit can protect: a 15 MB body of five million empty arrays
took orjson (and the garbage collector chasing the new lists) seconds, during which the event
loop served nobody. Counting is cheap — ``bytes.count`` and ``bytes.translate`` run at memory
speed — so every body is measured first:

- containers (``[`` and ``{``) and elements (about the commas) against
  ``max_request_containers`` / ``max_request_elements``;
- nesting depth against ``max_request_depth``, computed only when there are more containers
  than the depth limit (a columnar ``logBatch`` has about seven);
- whether a NUL escape (``\\u0000``) occurs at all, so that the GraphQL layer only walks the
  variables looking for one when it may find one (``graphql/input_limits.py``).

Brackets and commas inside strings count too in the first, fastest pass; only a body that
seems over a limit is measured again with its strings removed, so text never causes a refusal.
Parsing itself then stays on the event loop: orjson holds the GIL, so a worker thread would
not let other requests run meanwhile, and a bounded body parses in milliseconds.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from mltrail_server.config import Settings


class BodyRefused(Exception):
    """A request body refused before parsing; becomes a GraphQL-shaped JSON error."""

    def __init__(self, message: str, *, code: str = "RESOURCE_EXHAUSTED", status: int = 413) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


@dataclass(frozen=True)
class BodyShape:
    containers: int
    elements: int
    may_contain_nul: bool


_STRUCTURE = b'[]{}",'
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in _STRUCTURE)
_STRING = re.compile(rb'"[^"]*"')  # escapes are removed before this runs
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def _outside_strings(body: bytes) -> bytes:
    """The structural bytes of ``body`` (brackets, commas) that are not inside a string."""
    # Escaped backslashes first, then escaped quotes: what is left has one quote per string
    # boundary. Keeping only structure and quotes shrinks the body to a small fraction; two
    # adjacent quotes then hold no structure and can go in one C-speed pass before the regex.
    if b"\\" in body:  # most bodies have no escape at all: two passes saved
        body = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    skeleton = body.translate(None, _NOT_STRUCTURE)
    skeleton = skeleton.replace(b'""', b"")
    return _STRING.sub(b"", skeleton) if b'"' in skeleton else skeleton


def _depth(skeleton: bytes) -> int:
    brackets = skeleton.replace(b",", b"")
    return max(itertools.accumulate(map(_STEP.__getitem__, brackets)), default=0)


def measure_body(body: bytes, settings: Settings) -> BodyShape:
    """Refuse (``BodyRefused``) a body over the container, element or depth limit."""
    containers = body.count(b"[") + body.count(b"{")
    elements = body.count(b",") + containers
    skeleton: bytes | None = None
    if containers > settings.max_request_containers or elements > settings.max_request_elements:
        skeleton = _outside_strings(body)
        containers = skeleton.count(b"[") + skeleton.count(b"{")
        elements = skeleton.count(b",") + containers
    if containers > settings.max_request_containers:
        raise BodyRefused(
            f"request body has {containers:,} JSON arrays and objects; the limit is "
            f"{settings.max_request_containers:,} (MLTRAIL_MAX_REQUEST_CONTAINERS)"
        )
    if elements > settings.max_request_elements:
        raise BodyRefused(
            f"request body has about {elements:,} JSON values; the limit is "
            f"{settings.max_request_elements:,} (MLTRAIL_MAX_REQUEST_ELEMENTS); split the batch"
        )
    if containers > settings.max_request_depth:
        depth = _depth(skeleton if skeleton is not None else _outside_strings(body))
        if depth > settings.max_request_depth:
            raise BodyRefused(
                f"request body nests {depth:,} levels deep; the limit is {settings.max_request_depth} "
                "(MLTRAIL_MAX_REQUEST_DEPTH)"
            )
    # JSON must escape NUL inside strings; a raw NUL byte is invalid JSON and fails parsing.
    return BodyShape(containers, elements, b"\\u0000" in body)
