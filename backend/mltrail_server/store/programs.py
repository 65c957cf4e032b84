"""Write programs: the rules of one write transaction, written once for both databases.

A program is a generator that yields statements (``Stmt``) and receives their results; it
returns what the write produced. ``run_sqlite`` drives it on a plain sqlite3 connection (the
writer thread's: one thread hop for the whole transaction), ``run_asyncpg`` on an asyncpg
connection. Both run inside a transaction the caller owns (store/writer.py).

Why generators rather than an interface with two implementations: the statement sequence is
the part that must not differ between the databases (the same checks in the same order,
the same answers under concurrency), and a generator states it once while each driver keeps
its own fast path (no ORM, no SQLAlchemy statement compilation per call).

SQL is written in qmark style (``?``); the asyncpg driver rewrites it as ``$1, $2, …``.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Generator
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Any, TypeVar

R = TypeVar("R")


class Fetch(Enum):
    """What a statement hands back to its program."""

    ONE = "one"  # the first row as a tuple, or None
    ALL = "all"  # every row, as a list of tuples
    NOTHING = "nothing"  # executemany over ``args`` (a list of parameter tuples): None


@dataclass(frozen=True, slots=True)
class Stmt:
    """One statement of a program: its SQL (qmark style), its arguments, what comes back."""

    fetch: Fetch
    sql: str
    args: Any


Program = Generator[Stmt, Any, R]


def one(sql: str, args: tuple[Any, ...]) -> Stmt:
    return Stmt(Fetch.ONE, sql, args)


def rows(sql: str, args: tuple[Any, ...]) -> Stmt:
    return Stmt(Fetch.ALL, sql, args)


def many(sql: str, args: list[tuple[Any, ...]]) -> Stmt:
    return Stmt(Fetch.NOTHING, sql, args)


def to_dollar(sql: str) -> str:
    """Rewrite qmark placeholders as asyncpg's $1, $2, ..."""
    counter = iter(range(1, 1_000_000))
    return re.sub(r"\?", lambda _match: f"${next(counter)}", sql)


@cache
def _dollar(sql: str) -> str:
    # The programs' statements are a small fixed set (multi-row inserts: one per row count).
    return to_dollar(sql)


def run_sqlite(conn: sqlite3.Connection, program: Program[R]) -> R:
    """Drive a program on a plain sqlite3 connection (inside the caller's transaction)."""
    result: Any = None
    try:
        while True:
            stmt = program.send(result)
            if stmt.fetch is Fetch.ONE:
                result = conn.execute(stmt.sql, stmt.args).fetchone()
            elif stmt.fetch is Fetch.ALL:
                result = conn.execute(stmt.sql, stmt.args).fetchall()
            else:
                conn.executemany(stmt.sql, stmt.args)
                result = None
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


async def run_asyncpg(conn: Any, program: Program[R]) -> R:
    """Drive a program on an asyncpg connection (inside the caller's transaction)."""
    result: Any = None
    try:
        while True:
            stmt = program.send(result)
            sql = _dollar(stmt.sql)
            if stmt.fetch is Fetch.ONE:
                row = await conn.fetchrow(sql, *stmt.args)
                result = tuple(row) if row is not None else None
            elif stmt.fetch is Fetch.ALL:
                result = [tuple(r) for r in await conn.fetch(sql, *stmt.args)]
            else:
                await conn.executemany(sql, stmt.args)
                result = None
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
