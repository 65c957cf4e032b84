"""Cursor pagination shared by every list: pages, opaque cursors, and the total count.

A page carries ``total_count``, a function of a read session that counts every match: the
GraphQL layer runs it (``context.read(page.total_count)``) only when a client asks for
``totalCount``, and never sees the query inside it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Generic, TypeVar

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from mltrail_server.errors import InvalidArgument

T = TypeVar("T")

TotalCount = Callable[[AsyncSession], Awaitable[int]]


def counting(query: Select[Any]) -> TotalCount:
    """A ``TotalCount`` that runs ``query`` (a ``SELECT count(*) …``) on the session it is given."""

    async def total_count(session: AsyncSession) -> int:
        return int((await session.execute(query)).scalar_one())

    return total_count


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a connection: its items, their cursors, and the count of all pages."""

    items: list[T]
    cursors: Sequence[str]  # usually Cursors: sealed only when read
    has_next: bool
    total_count: TotalCount


@dataclass(frozen=True)
class CursorScope:
    """What a cursor belongs to: the field that issued it and the arguments that shape its order.

    A cursor holds the sort values of a row; applied to another ordering or filter it would
    silently skip or repeat rows, so the scope travels inside the cursor (as short digests) and
    a cursor is refused by any query whose scope differs, naming the argument that changed.
    """

    field: str
    arguments: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, field: str, **arguments: Any) -> CursorScope:
        return cls(field, tuple(arguments.items()))

    @cached_property
    def digests(self) -> dict[str, str]:
        return {
            name: hashlib.blake2b(json.dumps(value, sort_keys=True, default=str).encode(), digest_size=6).hexdigest()
            for name, value in self.arguments
        }

    @cached_property
    def header(self) -> bytes:
        """The cursor's plaintext up to its values: the same for every row of a page."""
        return json.dumps({"f": self.field, "a": self.digests}).encode()[:-1] + b', "v": '


# -- the cursor key ---------------------------------------------------------------------------
# Cursors are sealed (encrypted, then authenticated) so they expose no row ids and cannot be
# forged. The key is process-wide rather than passed down: cursors are made deep inside the
# services (runs, experiments, registry), which take a session, not the settings. The app's
# lifespan installs the configured secret (MLTRAIL_CURSOR_SECRET, else a file generated in the
# data directory, see Settings.cursor_secret_bytes); until then a random key serves (tests
# calling the services directly). The construction is the standard one from stdlib
# primitives, with keyed BLAKE2b (a PRF) throughout: the key stream is BLAKE2b of nonce and
# block counter, the tag BLAKE2b over nonce and ciphertext (encrypt-then-MAC). BLAKE2b rather
# than HMAC-SHA256: one call per 64 bytes, and a page of 1,000 runs seals 1,000 cursors.
_NONCE = 12
_TAG = 16
_keys: tuple[bytes, bytes, bytes] | None = None


def use_cursor_secret(secret: bytes) -> None:
    """Seal and open cursors with keys derived from ``secret`` (called by the app's lifespan)."""
    global _keys
    _keys = tuple(  # type: ignore[assignment]
        hashlib.blake2b(secret, key=purpose, digest_size=32).digest()
        for purpose in (b"mltrail cursor nonce", b"mltrail cursor encryption", b"mltrail cursor tag")
    )


def _cursor_keys() -> tuple[bytes, bytes, bytes]:
    if _keys is None:
        use_cursor_secret(secrets.token_bytes(32))
    assert _keys is not None
    return _keys


def _xor_key_stream(key: bytes, nonce: bytes, data: bytes) -> bytes:
    n = len(data)
    stream = b"".join(
        hashlib.blake2b(nonce + i.to_bytes(4, "big"), key=key).digest() for i in range(-(-n // 64))
    )
    return (int.from_bytes(data, "big") ^ int.from_bytes(stream[:n], "big")).to_bytes(n, "big")


def _seal(plain: bytes) -> str:
    nonce_key, encryption, authentication = _cursor_keys()
    # The nonce is derived from the content (synthetic-IV style): the same row of the same
    # query always gets the same cursor (runs and runTable agree, responses stay cacheable);
    # all it reveals is that two cursors are equal.
    nonce = hashlib.blake2b(plain, key=nonce_key, digest_size=_NONCE).digest()
    cipher = _xor_key_stream(encryption, nonce, plain)
    tag = hashlib.blake2b(nonce + cipher, key=authentication, digest_size=_TAG).digest()
    return base64.urlsafe_b64encode(nonce + cipher + tag).decode().rstrip("=")


def _open(cursor: str) -> bytes | None:
    _, encryption, authentication = _cursor_keys()
    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode())
    except ValueError:
        return None
    if len(raw) < _NONCE + _TAG:
        return None
    nonce, cipher, tag = raw[:_NONCE], raw[_NONCE:-_TAG], raw[-_TAG:]
    expected = hashlib.blake2b(nonce + cipher, key=authentication, digest_size=_TAG).digest()
    if not hmac.compare_digest(tag, expected):
        return None
    return _xor_key_stream(encryption, nonce, cipher)


def encode_cursor(values: Sequence[Any], scope: CursorScope) -> str:
    """An opaque cursor holding ``values`` (the sort values of a row), bound to ``scope``."""
    return _seal(scope.header + json.dumps(list(values)).encode() + b"}")


class Cursors(Sequence[str]):
    """The cursors of a page, sealed when read: a page of 1,000 runs asked for ``nodes`` and
    ``pageInfo`` seals one cursor (the end), not 1,000."""

    def __init__(self, scope: CursorScope, rows: list[Sequence[Any]]) -> None:
        self._scope = scope
        self._rows = rows
        self._sealed: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, index: int) -> str:  # type: ignore[override]
        index = index + len(self._rows) if index < 0 else index
        sealed = self._sealed.get(index)
        if sealed is None:
            sealed = self._sealed[index] = encode_cursor(self._rows[index], self._scope)
        return sealed


def decode_cursor(cursor: str, n: int, scope: CursorScope) -> list[Any]:
    """The ``n`` values of a cursor this server issued for ``scope``; INVALID_ARGUMENT for
    anything else, naming the field or argument that differs."""
    plain = _open(cursor)
    if plain is None:
        raise InvalidArgument(f"after: {cursor!r} is not a cursor this server issued")
    content = json.loads(plain)
    if content["f"] != scope.field:
        raise InvalidArgument(
            f"after: the cursor was issued by {content['f']}, not {scope.field}; a cursor belongs to its query"
        )
    issued = content["a"]
    for name, digest in scope.digests.items():
        if issued.get(name) != digest:
            raise InvalidArgument(
                f"after: the cursor was issued for another {name}; a cursor belongs to its query "
                "(start again without `after` when the query changes)"
            )
    values = content["v"]
    if not isinstance(values, list) or len(values) != n:
        raise InvalidArgument(f"after: {cursor!r} does not belong to this query")
    return values
