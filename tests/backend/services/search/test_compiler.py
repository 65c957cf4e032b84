"""Compiled searches, run against real databases: SQLite (a file) and PostgreSQL.

Every test runs on both, because the point of the compiler is that one filter means the same
thing on each (LIKE case sensitivity, NaN, +inf, IN lists). The data set is built once per
module and database; each test only reads it.

PostgreSQL: ``MLTRAIL_TEST_POSTGRES_URL`` or ``postgresql+asyncpg://postgres@127.0.0.1:5432/test``;
a fresh database is created for this module and dropped after. When it is unreachable the
PostgreSQL half is skipped, or fails when ``CI=true``.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from fixtures.databases import create_database, drop_database, require_postgres
from mltrail_server.errors import InvalidArgument
from mltrail_server.services.search.compiler import (
    compile_experiment_filter,
    compile_run_filter,
    compile_run_order,
    like_to_glob,
)
from mltrail_server.services.search.parser import parse_filter, parse_order_by
from mltrail_server.store import models

INJECTION = "1' OR 1=1 --"
INF, NAN = math.inf, None  # NaN is stored as NULL (see store/models.py)

# --- the data set ----------------------------------------------------------------------------

EXPERIMENTS = [
    {"id": 1, "name": "churn", "created_at": 100, "updated_at": 900},
    {"id": 2, "name": "Vision", "created_at": 200, "updated_at": 300},
]
EXPERIMENT_TAGS = [(1, "owner", "ml-team"), (2, "owner", "cv-team"), (2, "public", "yes")]
RUNS = [
    # pk, id, experiment, name, status, start, end, user, parent
    (1, "r1", 1, "rf-100", "FINISHED", 1000, 5000, "alice", None),
    (2, "r2", 1, "gbm-1", "FINISHED", 2000, 3000, "bob", None),
    (3, "r3", 1, "rf-200", "RUNNING", 3000, None, "alice", "r1"),
    (4, "r4", 2, None, "FAILED", 4000, 4500, None, None),
    (5, "r5", 2, "RF-300", "KILLED", 5000, 9000, "carol", None),
]
PARAMS = [
    (1, "model", "rf"),
    (1, "lr", "0.1"),
    (2, "model", "gbm"),
    (2, "lr", "0.01"),
    (3, "model", "rf"),
    (4, "model", INJECTION),
]
TAGS = [
    (1, "team", "vision"),
    (1, "note", "it's"),
    (2, "team", "Vision"),
    (3, "team", "nlp"),
    (4, "team", "vis%lit"),
    (4, "path", "a_b"),
    (5, "glob", "a*b[c]?"),
]
# run pk, key, value (latest), min, max
METRICS = [
    (1, "acc", 0.95, 0.5, 0.95),
    (1, "loss", 0.1, 0.05, 2.0),
    (2, "acc", 0.85, 0.3, 0.9),
    (2, "loss", NAN, 0.2, 1.0),
    (3, "loss", INF, 0.5, INF),
    (4, "acc", 0.5, 0.5, 0.5),
    (5, "val.loss", 0.3, 0.2, 0.4),
    (5, "loss.min", 7.0, 7.0, 7.0),
]
DATASETS = [(1, "iris", "abc", "train"), (2, "iris", "def", "eval"), (2, "wine", "ghi", "train")]


async def _populate(engine: AsyncEngine) -> None:
    keys = {key: index for index, key in enumerate(sorted({m[1] for m in METRICS}), start=1)}
    async with engine.begin() as conn:
        await conn.run_sync(models.Base.metadata.create_all)
        await conn.execute(
            insert(models.experiments), [{**e, "artifact_location": "/tmp"} for e in EXPERIMENTS]
        )
        await conn.execute(
            insert(models.experiment_tags),
            [{"experiment_id": e, "key": k, "value": v} for e, k, v in EXPERIMENT_TAGS],
        )
        await conn.execute(
            insert(models.runs),
            [
                {
                    "pk": pk,
                    "id": run_id,
                    "experiment_id": exp,
                    "name": name,
                    "status": status,
                    "start_time": start,
                    "end_time": end,
                    "user": user,
                    "parent_id": parent,
                    "artifact_uri": f"/tmp/{run_id}",
                }
                for pk, run_id, exp, name, status, start, end, user, parent in RUNS
            ],
        )
        await conn.execute(insert(models.params), [{"run_pk": r, "key": k, "value": v} for r, k, v in PARAMS])
        await conn.execute(insert(models.run_tags), [{"run_pk": r, "key": k, "value": v} for r, k, v in TAGS])
        await conn.execute(insert(models.metric_keys), [{"id": i, "key": k} for k, i in keys.items()])
        await conn.execute(
            insert(models.latest_metrics),
            [
                {
                    "run_pk": r,
                    "key_id": keys[k],
                    "value": v,
                    "step": 10,
                    "timestamp": 0,
                    "min_value": lo,
                    "max_value": hi,
                    "count": 11,
                }
                for r, k, v, lo, hi in METRICS
            ],
        )
        await conn.execute(
            insert(models.dataset_inputs),
            [{"run_pk": r, "name": n, "digest": d, "context": c} for r, n, d, c in DATASETS],
        )


async def _build(url: str) -> None:
    engine = create_async_engine(url)
    try:
        await _populate(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A populated database per module and dialect (built with its own short event loop)."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('search')}/search.db"
        asyncio.run(_build(url))
        yield url
        return
    admin = asyncio.run(require_postgres())  # fails under CI, skips with a hint elsewhere
    url = asyncio.run(create_database(admin))
    try:
        asyncio.run(_build(url))
        yield url
    finally:
        asyncio.run(drop_database(admin, url))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url)
    yield engine
    await engine.dispose()


async def run_ids(engine: AsyncEngine, text: str) -> set[str]:
    node = parse_filter(text)
    assert node is not None
    statement = select(models.runs.c.id).where(compile_run_filter(node, engine.dialect.name))
    async with engine.connect() as conn:
        return set((await conn.execute(statement)).scalars())


async def experiment_ids(engine: AsyncEngine, text: str) -> set[int]:
    node = parse_filter(text)
    assert node is not None
    statement = select(models.experiments.c.id).where(compile_experiment_filter(node, engine.dialect.name))
    async with engine.connect() as conn:
        return set((await conn.execute(statement)).scalars())


async def ordered_ids(engine: AsyncEngine, items: list[str]) -> list[str]:
    terms = compile_run_order(parse_order_by(items), engine.dialect.name)
    # What the caller adds on top: NULLS LAST on every term and a unique tiebreak.
    order = [(t.expression.desc() if t.descending else t.expression.asc()).nulls_last() for t in terms]
    statement = select(models.runs.c.id).order_by(*order, models.runs.c.pk)
    async with engine.connect() as conn:
        return list((await conn.execute(statement)).scalars())


# --- filters ---------------------------------------------------------------------------------

METRIC_CASES = [
    ("metrics.acc > 0.9", {"r1"}),
    ("metrics.acc >= 0.85", {"r1", "r2"}),
    ("metrics.acc != 0.85", {"r1", "r4"}),
    ("metrics.acc = 0.5", {"r4"}),
    ("metrics.acc < 1", {"r1", "r2", "r4"}),
    ("metrics.acc <= 0.5", {"r4"}),
    ("metrics.acc > -1e3", {"r1", "r2", "r4"}),
    ("metric.acc > 0.9", {"r1"}),
    # +inf compares as a number; NaN (stored as NULL) never matches, not even !=.
    ("metrics.loss > 100", {"r3"}),
    ("metrics.loss < 100", {"r1"}),
    ("metrics.loss != 0.1", {"r3"}),
    ("metrics.loss IS NULL", {"r4", "r5"}),
    ("metrics.loss is not null", {"r1", "r2", "r3"}),
    # Extremes, and keys containing dots.
    ("metrics.loss.min < 0.1", {"r1"}),
    ("metrics.loss.min >= 0.2", {"r2", "r3"}),
    ("metrics.loss.max >= 2", {"r1", "r3"}),
    ("metrics.loss.MAX > 1e308", {"r3"}),
    ("metrics.acc.max IS NULL", {"r3", "r5"}),
    ("metrics.`val.loss` = 0.3", {"r5"}),
    ("metrics.val.loss = 0.3", {"r5"}),
    ('metrics."val.loss".max > 0.35', {"r5"}),
    ("metrics.val.loss.min = 0.2", {"r5"}),
    ("metrics.`loss.min` = 7", {"r5"}),
    ("metrics.loss.min = 7", set()),
]

PARAM_TAG_CASES = [
    ("params.model = 'rf'", {"r1", "r3"}),
    ('param.model = "rf"', {"r1", "r3"}),
    # != and NOT IN need the key to be there (MLflow semantics).
    ("params.model != 'rf'", {"r2", "r4"}),
    ("params.model IN ('rf', 'gbm')", {"r1", "r2", "r3"}),
    ("params.model NOT IN ('rf')", {"r2", "r4"}),
    ("params.lr IS NULL", {"r3", "r4", "r5"}),
    ("params.lr IS NOT NULL", {"r1", "r2"}),
    ("params.lr LIKE '0.0%'", {"r2"}),
    ("tags.team = 'vision'", {"r1"}),
    ("tag.team IN ('nlp', 'Vision')", {"r2", "r3"}),
    ("tags.team NOT IN ('nlp', 'Vision')", {"r1", "r4"}),
    ("tags.note = 'it''s'", {"r1"}),
    ("tags.team IS NULL", {"r5"}),
]

LIKE_CASES = [
    # LIKE is case-sensitive and ILIKE is not, on both databases.
    ("tags.team LIKE 'vis%'", {"r1", "r4"}),
    ("tags.team LIKE 'Vis%'", {"r2"}),
    ("tags.team ILIKE 'vis%'", {"r1", "r2", "r4"}),
    ("tags.team ilike 'VISION'", {"r1", "r2"}),
    ("tags.team LIKE 'VISION'", set()),
    ("tags.team LIKE 'v_sion'", {"r1"}),
    ("tags.team ILIKE 'V_SION'", {"r1", "r2"}),
    # Backslash escapes the wildcards everywhere.
    ("tags.team LIKE 'vis\\%%'", {"r4"}),
    ("tags.team ILIKE 'VIS\\%LIT'", {"r4"}),
    ("tags.path LIKE 'a_b'", {"r4"}),
    ("tags.path LIKE 'a\\_b'", {"r4"}),
    ("tags.path LIKE 'a\\_'", set()),
    # GLOB's own wildcards are plain characters in a LIKE pattern.
    ("tags.glob LIKE 'a*b[c]?'", {"r5"}),
    ("tags.glob LIKE 'a*%'", {"r5"}),
    ("tags.glob LIKE 'a?%'", set()),
    ("tags.glob LIKE '%[c]_'", {"r5"}),
    ("tags.glob ILIKE 'A*B[C]?'", {"r5"}),
    ("attributes.run_name LIKE 'rf%'", {"r1", "r3"}),
    ("attributes.run_name ILIKE 'rf%'", {"r1", "r3", "r5"}),
]

ATTRIBUTE_CASES = [
    ("attributes.status = 'FINISHED'", {"r1", "r2"}),
    ("attributes.status = 'finished'", {"r1", "r2"}),
    ("status = 'FAILED'", {"r4"}),
    ("attribute.status IN ('RUNNING', 'KILLED')", {"r3", "r5"}),
    ("attributes.status NOT IN ('FINISHED')", {"r3", "r4", "r5"}),
    ("attributes.status != 'FINISHED'", {"r3", "r4", "r5"}),
    ("attributes.status LIKE 'F%'", {"r1", "r2", "r4"}),
    ("attributes.run_name = 'rf-100'", {"r1"}),
    ("attributes.name IS NULL", {"r4"}),
    ("attributes.run_name IS NOT NULL", {"r1", "r2", "r3", "r5"}),
    ("attributes.run_name IN ('rf-100', 'gbm-1')", {"r1", "r2"}),
    ("attributes.user = 'alice'", {"r1", "r3"}),
    ("attributes.user_id != 'alice'", {"r2", "r5"}),
    ("attr.user NOT IN ('alice', 'bob')", {"r5"}),
    ("attributes.run_id IN ('r1', 'r2', 'nope')", {"r1", "r2"}),
    ("attributes.id = 'r3'", {"r3"}),
    ("run.run_id = 'r4'", {"r4"}),
    ("attributes.start_time >= 3000", {"r3", "r4", "r5"}),
    ("attributes.start_time > 2.5e3", {"r3", "r4", "r5"}),
    ("attributes.start_time IN (1000, 2000)", {"r1", "r2"}),
    ("attributes.start_time NOT IN (1000, 2000)", {"r3", "r4", "r5"}),
    ("attributes.end_time IS NULL", {"r3"}),
    ("attributes.end_time < 4600", {"r2", "r4"}),
    ("attributes.duration >= 4000", {"r1", "r5"}),
    ("attributes.duration < 1000", {"r4"}),
    ("attributes.experiment_id = 2", {"r4", "r5"}),
    ("attributes.experiment_id = '1'", {"r1", "r2", "r3"}),
    ("attributes.experiment_id IN ('1', 2)", {"r1", "r2", "r3", "r4", "r5"}),
    ("attributes.parent_run_id = 'r1'", {"r3"}),
    ("attributes.parent_id IS NULL", {"r1", "r2", "r4", "r5"}),
]

DATASET_CASES = [
    ("datasets.name = 'iris'", {"r1", "r2"}),
    ("datasets.context = 'eval'", {"r2"}),
    ("dataset.digest IN ('abc', 'ghi')", {"r1", "r2"}),
    ("datasets.name LIKE 'w%'", {"r2"}),
    ("datasets.name != 'iris'", {"r2"}),
    ("datasets.name IS NULL", {"r3", "r4", "r5"}),
    ("datasets.name IS NOT NULL", {"r1", "r2"}),
    # Two conditions on datasets may be met by different inputs of the same run.
    ("datasets.name = 'wine' and datasets.context = 'eval'", {"r2"}),
]

COMBINED_CASES = [
    ("metrics.acc > 0.9 or params.model = 'gbm'", {"r1", "r2"}),
    ("metrics.acc > 0.8 and params.model = 'rf'", {"r1"}),
    ("(params.model = 'rf' or tags.team = 'Vision') and attributes.status = 'FINISHED'", {"r1", "r2"}),
    # AND binds tighter than OR.
    ("params.model = 'rf' or tags.team = 'Vision' and attributes.status = 'RUNNING'", {"r1", "r3"}),
    ("params.model = 'rf' OR tags.team = 'Vision' AND attributes.status = 'FINISHED'", {"r1", "r2", "r3"}),
    ("((metrics.loss IS NULL) and (tags.team IS NOT NULL or datasets.name IS NOT NULL))", {"r4"}),
    ("metrics.acc > 0.9 and\n  (tags.team ILIKE 'VIS%'\n   or metrics.loss.max > 1e300)", {"r1"}),
    (
        "metrics.acc > 0.8 and params.model = 'rf' and tags.team LIKE 'vis%' "
        "and attributes.status = 'FINISHED'",
        {"r1"},
    ),
]

INJECTION_CASES = [
    # The injection attempt is just a string: it matches the run that stores it, nothing else.
    ("params.model = '1'' OR 1=1 --'", {"r4"}),
    ("params.x = '1'' OR 1=1 --'", set()),
    ("tags.team = 'x'' OR ''1''=''1'", set()),
    ("attributes.run_name = ''' OR 1=1; DROP TABLE runs; --'", set()),
    ("params.`model'' OR 1=1 --` = 'rf'", set()),
    ("params.model IN ('1'' OR 1=1 --')", {"r4"}),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    METRIC_CASES
    + PARAM_TAG_CASES
    + LIKE_CASES
    + ATTRIBUTE_CASES
    + DATASET_CASES
    + COMBINED_CASES
    + INJECTION_CASES,
)
async def test_run_filter(engine: AsyncEngine, text: str, expected: set[str]) -> None:
    assert await run_ids(engine, text) == expected


async def test_runs_table_survives_injection(engine: AsyncEngine) -> None:
    await run_ids(engine, "attributes.run_name = ''' OR 1=1; DROP TABLE runs; --'")
    assert len(await run_ids(engine, "attributes.start_time > 0")) == len(RUNS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name = 'churn'", {1}),
        ("attributes.name != 'churn'", {2}),
        ("name LIKE 'Vis%'", {2}),
        ("name LIKE 'vis%'", set()),
        ("name ILIKE 'VIS%'", {2}),
        ("attributes.experiment_id = 2", {2}),
        ("id IN ('1', '2')", {1, 2}),
        ("creation_time > 150", {2}),
        ("created_at <= 150", {1}),
        ("last_update_time > 500 or updated_at < 250", {1}),
        ("tags.owner = 'ml-team'", {1}),
        ("tags.owner LIKE '%-team'", {1, 2}),
        ("tags.public IS NULL", {1}),
        ("tags.owner = 'cv-team' and tags.public = 'yes'", {2}),
        ("tags.owner = '1'' OR 1=1 --'", set()),
    ],
)
async def test_experiment_filter(engine: AsyncEngine, text: str, expected: set[int]) -> None:
    assert await experiment_ids(engine, text) == expected


# --- ordering --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        (["metrics.acc DESC"], ["r1", "r2", "r4", "r3", "r5"]),
        (["metrics.acc"], ["r4", "r2", "r1", "r3", "r5"]),
        # NaN is NULL, so it sorts with the missing values; +inf after every number.
        (["metrics.loss ASC"], ["r1", "r3", "r2", "r4", "r5"]),
        (["metrics.loss.min"], ["r1", "r2", "r3", "r4", "r5"]),
        (["metrics.loss.max desc"], ["r3", "r1", "r2", "r4", "r5"]),
        (["metrics.`val.loss`.max"], ["r5", "r1", "r2", "r3", "r4"]),
        (["params.lr"], ["r2", "r1", "r3", "r4", "r5"]),
        (["params.model", "metrics.acc DESC"], ["r4", "r2", "r1", "r3", "r5"]),
        (["tags.path DESC"], ["r4", "r1", "r2", "r3", "r5"]),
        (["attributes.start_time DESC"], ["r5", "r4", "r3", "r2", "r1"]),
        (["start_time"], ["r1", "r2", "r3", "r4", "r5"]),
        (["attributes.end_time DESC"], ["r5", "r1", "r4", "r2", "r3"]),
        (["duration"], ["r4", "r2", "r1", "r5", "r3"]),
        (["attributes.user", "start_time DESC"], ["r3", "r1", "r2", "r5", "r4"]),
        (["experiment_id DESC", "run_id"], ["r4", "r5", "r1", "r2", "r3"]),
    ],
)
async def test_run_order(engine: AsyncEngine, items: list[str], expected: list[str]) -> None:
    assert await ordered_ids(engine, items) == expected


async def test_order_terms_carry_direction_and_label() -> None:
    items = [
        "metrics.acc DESC",
        "metrics.loss.min",
        "metrics.`val.loss`.max",
        "params.lr ASC",
        "tags.team",
        "name",
        "attributes.start_time desc",
    ]
    terms = compile_run_order(parse_order_by(items), "sqlite")
    assert [(t.label, t.descending) for t in terms] == [
        ("metrics.acc", True),
        ("metrics.loss.min", False),
        ("metrics.`val.loss`.max", False),
        ("params.lr", False),
        ("tags.team", False),
        ("attributes.run_name", False),
        ("attributes.start_time", True),
    ]


# --- compile-time errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "attributes.foo = 'x'",
            "line 1, column 1: unknown attribute 'foo' (expected one of: status, run_name, run_id, "
            "user, start_time, end_time, duration, experiment_id, parent_run_id)",
        ),
        ("acc > 1", "line 1, column 1: unknown attribute 'acc' (expected one of: status,"),
        (
            "attributes.start_time LIKE '1%'",
            "line 1, column 23: LIKE does not apply to attributes.start_time, which is a number",
        ),
        (
            "attributes.status > 'A'",
            "line 1, column 19: '>' does not apply to attributes.status, which is a string",
        ),
        (
            "attributes.run_name = 5",
            "line 1, column 23: attributes.run_name is a string; got number 5 (quote it: '5')",
        ),
        (
            "attributes.start_time > '2024'",
            "line 1, column 25: attributes.start_time is a number of milliseconds; got string '2024'",
        ),
        (
            "attributes.start_time > 1.5",
            "line 1, column 25: attributes.start_time takes whole numbers; got 1.5",
        ),
        (
            "attributes.end_time < 1e30",
            "line 1, column 23: number 1e30 is out of range for attributes.end_time",
        ),
        (
            "attributes.experiment_id = 'abc'",
            "line 1, column 28: attributes.experiment_id is an integer id; got 'abc'",
        ),
        (
            "metrics.a > 1 and\n attributes.status IN ('FINISHED', 'DONE')",
            "line 2, column 36: unknown run status 'DONE' (expected RUNNING, FINISHED, FAILED or KILLED)",
        ),
    ],
)
def test_run_filter_errors(text: str, message: str) -> None:
    node = parse_filter(text)
    assert node is not None
    with pytest.raises(InvalidArgument) as caught:
        compile_run_filter(node, "sqlite")
    assert caught.value.message.startswith(message), caught.value.message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "metrics.acc > 1",
            "line 1, column 1: experiments can be filtered by tags and attributes only; got 'metrics.acc'",
        ),
        ("name = 'x' or params.a = 'b'", "line 1, column 15: experiments can be filtered by"),
        ("datasets.name = 'x'", "line 1, column 1: experiments can be filtered by"),
        (
            "status = 'FINISHED'",
            "line 1, column 1: unknown attribute 'status' (expected one of: name, "
            "experiment_id, creation_time, last_update_time)",
        ),
        ("name > 1", "line 1, column 6: '>' does not apply to name, which is a string"),
    ],
)
def test_experiment_filter_errors(text: str, message: str) -> None:
    node = parse_filter(text)
    assert node is not None
    with pytest.raises(InvalidArgument) as caught:
        compile_experiment_filter(node, "postgresql")
    assert caught.value.message.startswith(message), caught.value.message


def test_unknown_dialect_is_a_programming_error() -> None:
    node = parse_filter("metrics.a > 1")
    assert node is not None
    with pytest.raises(ValueError, match="unsupported dialect 'mysql'"):
        compile_run_filter(node, "mysql")


@pytest.mark.parametrize(
    ("pattern", "glob"),
    [
        ("vis%", "vis*"),
        ("v_s", "v?s"),
        ("a*b[c]?", "a[*]b[[]c][?]"),
        ("100\\%", "100%"),
        ("a\\_b", "a_b"),
        ("a\\\\b", "a\\b"),
        ("\\*", "[*]"),
    ],
)
def test_like_to_glob(pattern: str, glob: str) -> None:
    assert like_to_glob(pattern) == glob


def test_values_are_bound_parameters() -> None:
    node = parse_filter("params.model = '1'' OR 1=1 --' and metrics.acc > 0.5 and tags.t LIKE 'x%'")
    assert node is not None
    for dialect in ("sqlite", "postgresql"):
        compiled = select(models.runs.c.id).where(compile_run_filter(node, dialect)).compile()
        assert "OR 1=1" not in str(compiled)
        assert "1' OR 1=1 --" in compiled.params.values()
