"""Run search: the filter compiler's caller, keyset pagination, and the runs table.

``search_runs`` answers ``runs`` (a page of Run models), ``run_table`` the same search as
columns (``runTable``). A search is parsed and compiled once and cached: dashboards and
scripts repeat the same searches (paging, polling), and building the statement costs more
Python than running it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from mltrail_server.services import validation
from mltrail_server.services.pagination import (
    Cursors,
    CursorScope,
    Page,
    TotalCount,
    counting,
    decode_cursor,
    encode_cursor,
)
from mltrail_server.services.search.compiler import compile_run_filter, compile_run_order
from mltrail_server.services.search.parser import parse_filter, parse_order_by
from mltrail_server.store import driver_reads, models

# Distinct searches kept compiled (filter, order and experiments differ per dashboard view).
COMPILED_SEARCHES = 256
# First-page statements kept per compiled search, one per (columns, page size): a handful in
# practice (the runs list, the table, a chart's page); the bound only stops a client that
# cycles through page sizes from growing it without limit.
FIRST_PAGES_PER_SEARCH = 16


@dataclass(frozen=True)
class _Search:
    """A compiled search: the WHERE conditions, and the sort expressions with directions.

    Immutable and shared: compiled searches are cached (see ``_compile_search``), and so are
    their first-page statements, since SQLAlchemy Core constructs can be executed by many
    requests at once.
    """

    conditions: tuple[Any, ...]
    exprs: tuple[Any, ...]
    descending: tuple[bool, ...]
    order_by: tuple[str, ...]
    # The filter text, the experiments and the view: what selects the rows.
    filter_key: tuple[Any, ...]
    _first_pages: dict[tuple[Any, ...], Any] = field(default_factory=dict, compare=False, repr=False)

    def scope(self, field: str) -> CursorScope:
        """The cursors of ``field`` over this search: bound to its order and its filter."""
        return CursorScope.of(field, orderBy=self.order_by, filter=self.filter_key)

    def page(self, *columns: Any, first: int, after: str | None, scope: CursorScope) -> Any:
        """SELECT ``columns`` plus the sort values, after the cursor, one row beyond the page."""
        if after is None:
            key = (*columns, first)
            query = self._first_pages.get(key)
            if query is None:
                if len(self._first_pages) >= FIRST_PAGES_PER_SEARCH:
                    self._first_pages.clear()
                query = self._first_pages[key] = self._page(columns, first, None, scope)
            return query
        return self._page(columns, first, after, scope)

    def _page(self, columns: tuple[Any, ...], first: int, after: str | None, scope: CursorScope) -> Any:
        labelled = [e.label(f"sort_{i}") for i, e in enumerate(self.exprs)]
        query = select(*columns, *labelled).where(*self.conditions)
        if after is not None:
            values = decode_cursor(after, len(self.exprs) + 1, scope)
            query = query.where(_after_cursor(self.exprs, self.descending, values[:-1], values[-1]))
        order = [
            (e.desc() if d else e.asc()).nulls_last()
            for e, d in zip(self.exprs, self.descending, strict=True)
        ]
        return query.order_by(*order, models.runs.c.pk.desc()).limit(first + 1)

    def total_count(self) -> TotalCount:
        """Counts every run the search matches, on the session it is given."""
        return counting(select(func.count()).select_from(models.runs).where(*self.conditions))


def _compile_search(
    *,
    dialect: str,
    experiment_ids: Sequence[str] | None,
    filter_text: str | None,
    order_by: Sequence[str] | None,
    view: str,
) -> _Search:
    return _compiled_search(
        dialect,
        tuple(experiment_ids) if experiment_ids else None,
        filter_text or "",
        tuple(order_by or ()),
        view,
    )


@lru_cache(maxsize=COMPILED_SEARCHES)
def _compiled_search(
    dialect: str,
    experiment_ids: tuple[str, ...] | None,
    filter_text: str,
    order_by: tuple[str, ...],
    view: str,
) -> _Search:
    """Parse and compile a search once: dashboards and scripts repeat the same searches (paging,
    polling), and building the statement costs more Python than running it. Failures are not
    cached (lru_cache keeps return values only)."""
    runs = models.runs
    conditions: list[Any] = []
    if experiment_ids:
        ids = [validation.parse_experiment_id("experimentIds", e) for e in experiment_ids]
        conditions.append(runs.c.experiment_id.in_(ids))
    if view == "ACTIVE":
        conditions.append(runs.c.deleted_at.is_(None))
    elif view == "DELETED":
        conditions.append(runs.c.deleted_at.is_not(None))
    node = parse_filter(filter_text or "")
    if node is not None:
        conditions.append(compile_run_filter(node, dialect))
    terms = compile_run_order(parse_order_by(list(order_by or [])), dialect)
    exprs = [t.expression for t in terms] or [runs.c.start_time]
    descending = [t.descending for t in terms] or [True]
    return _Search(
        tuple(conditions), tuple(exprs), tuple(descending), order_by, (filter_text, experiment_ids, view)
    )


async def search_runs(
    session: AsyncSession,
    *,
    dialect: str,
    experiment_ids: Sequence[str] | None,
    filter_text: str | None,
    order_by: Sequence[str] | None,
    first: int,
    after: str | None,
    view: str = "ACTIVE",
) -> Page[models.Run]:
    """Runs matching the filter, in one SQL statement, keyset-paginated over the order terms.

    Keyset (not offset) pagination keeps pages stable while runs are being created: the
    cursor holds the sort values of the last row, and the next page starts strictly after.
    """
    search = _compile_search(
        dialect=dialect, experiment_ids=experiment_ids, filter_text=filter_text, order_by=order_by, view=view
    )
    scope = search.scope("runs")
    rows = (await session.execute(search.page(models.Run, first=first, after=after, scope=scope))).all()
    has_next = len(rows) > first
    rows = rows[:first]
    items = [row[0] for row in rows]
    cursors = Cursors(scope, [[*row[1:], row[0].pk] for row in rows])
    return Page(items, cursors, has_next, search.total_count())


@dataclass(frozen=True)
class TextColumn:
    key: str
    values: list[str | None]  # None: the run has no such param or tag


@dataclass(frozen=True)
class MetricColumn:
    """Latest value, its step and timestamp, and the run's extremes; None where the run has
    not logged the metric (a NaN value stays a float NaN, so it is not confused with absence).
    An extreme is None also where the run logged nothing but NaN (as ``LatestMetric.min``)."""

    key: str
    values: list[float | None]
    steps: list[int | None]
    timestamps: list[int | None]
    mins: list[float | None]
    maxs: list[float | None]


@dataclass(frozen=True)
class RunTableData:
    run_ids: list[str]
    experiment_ids: list[str]
    names: list[str | None]
    statuses: list[str]
    users: list[str | None]
    start_times: list[int]
    end_times: list[int | None]
    parent_ids: list[str | None]
    artifact_uris: list[str]
    params: list[TextColumn]
    tags: list[TextColumn]
    metrics: list[MetricColumn]
    end_cursor: str | None
    has_next: bool
    total_count: TotalCount


_TABLE_COLUMNS = (
    "pk",
    "id",
    "experiment_id",
    "name",
    "status",
    "user",
    "start_time",
    "end_time",
    "parent_id",
    "artifact_uri",
)


async def run_table(
    session: AsyncSession,
    *,
    dialect: str,
    experiment_ids: Sequence[str] | None,
    filter_text: str | None,
    order_by: Sequence[str] | None,
    first: int,
    after: str | None,
    view: str = "ACTIVE",
    param_keys: Sequence[str] | None = None,
    metric_keys: Sequence[str] | None = None,
    tag_keys: Sequence[str] | None = None,
) -> RunTableData:
    """The same search as ``search_runs``, returned as columns: row i of every column is the
    i-th run of the page. Four statements whatever the page size (page, params, tags, latest
    metrics), plain rows, no ORM objects; a key list of ``[]`` skips that kind, ``None`` takes
    every key the page's runs have."""
    search = _compile_search(
        dialect=dialect, experiment_ids=experiment_ids, filter_text=filter_text, order_by=order_by, view=view
    )
    runs = models.runs
    n_cols = len(_TABLE_COLUMNS)
    scope = search.scope("runs")  # runTable is `runs` as columns: one list, one cursor space
    rows = (
        await session.execute(
            search.page(*(runs.c[c] for c in _TABLE_COLUMNS), first=first, after=after, scope=scope)
        )
    ).all()
    has_next = len(rows) > first
    rows = rows[:first]
    end_cursor = encode_cursor([*rows[-1][n_cols:], rows[-1][0]], scope) if rows else None
    columns: list[Any] = [list(c) for c in zip(*(row[:n_cols] for row in rows), strict=True)] or [
        [] for _ in range(n_cols)
    ]
    pks, ids, experiment_pks, names, statuses, users, starts, ends, parents, uris = columns
    row_of = {pk: i for i, pk in enumerate(pks)}

    cells = await driver_reads.read_page_cells(session, pks, param_keys, tag_keys, metric_keys)
    n = len(pks)

    def text_columns(rows: Sequence[Any]) -> list[TextColumn]:
        cells: dict[str, list[str | None]] = {}
        for run_pk, key, value in rows:
            column = cells.get(key)
            if column is None:
                column = cells[key] = [None] * n
            column[row_of[run_pk]] = value
        return [TextColumn(key, cells[key]) for key in sorted(cells)]

    found: dict[str, MetricColumn] = {}
    nan = float("nan")
    for run_pk, key, value, step, stamp, low, high, _count in cells.metrics:
        metric = found.get(key)
        if metric is None:
            metric = found[key] = MetricColumn(
                key, [None] * n, [None] * n, [None] * n, [None] * n, [None] * n
            )
        i = row_of[run_pk]
        # In the store NULL means NaN (models.py); in a column None means "not logged".
        metric.values[i] = nan if value is None else value
        metric.steps[i] = step
        metric.timestamps[i] = stamp
        metric.mins[i] = low  # None: nothing but NaN logged, as LatestMetric.min says
        metric.maxs[i] = high
    params, tags = text_columns(cells.params), text_columns(cells.tags)
    metrics = [found[key] for key in sorted(found)]
    return RunTableData(
        run_ids=ids,
        experiment_ids=[str(e) for e in experiment_pks],
        names=names,
        statuses=statuses,
        users=users,
        start_times=starts,
        end_times=ends,
        parent_ids=parents,
        artifact_uris=uris,
        params=params,
        tags=tags,
        metrics=metrics,
        end_cursor=end_cursor,
        has_next=has_next,
        total_count=search.total_count(),
    )


def _after_cursor(
    exprs: Sequence[Any], descending: Sequence[bool], values: Sequence[Any], last_pk: int
) -> Any:
    def eq(expr: Any, value: Any) -> Any:
        return expr.is_(None) if value is None else expr == value

    def beyond(expr: Any, value: Any, desc: bool) -> Any:
        # NULLS LAST: a NULL sorts after every value, and nothing sorts after a NULL.
        if value is None:
            return None
        return or_(expr < value if desc else expr > value, expr.is_(None))

    alternatives = []
    for i, (expr, value, desc) in enumerate(zip(exprs, values, descending, strict=True)):
        step = beyond(expr, value, desc)
        if step is not None:
            alternatives.append(
                and_(*(eq(e, val) for e, val in zip(exprs[:i], values[:i], strict=True)), step)
            )
    alternatives.append(
        and_(*(eq(e, val) for e, val in zip(exprs, values, strict=True)), models.runs.c.pk < last_pk)
    )
    return or_(*alternatives)
