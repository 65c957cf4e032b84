"""Plain, immutable Python objects returned by the client's reads.

They are built from GraphQL results and hold no connection: safe to pickle, compare, keep.
Metric values come back as floats, with NaN and ±Infinity restored from their wire strings.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def decode_value(value: Any) -> float | None:
    """A MetricValue from the wire as a float."""
    if value is None:
        return None
    if isinstance(value, str):
        return _NON_FINITE[value] if value in _NON_FINITE else float(value)
    return float(value)


def decode_long(value: Any) -> int | None:
    """A Long from the wire: a JSON number, or a decimal string beyond ±(2^53 - 1)."""
    return None if value is None else int(value)


def decode_longs(values: list[Any] | None) -> list[Any]:
    """A LongList (or OptionalLongList) from the wire as ints (None stays None)."""
    items = values or []
    if any(type(x) is str for x in items):
        return [None if x is None else int(x) for x in items]
    return list(items)


def _pairs(items: list[dict[str, str]] | None) -> dict[str, str]:
    return {item["key"]: item["value"] for item in items or ()}


@dataclass(frozen=True)
class Experiment:
    id: str | None
    name: str
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    created_at: int | None = None
    updated_at: int | None = None
    last_activity: int | None = None
    deleted: bool = False
    deleted_at: int | None = None
    artifact_location: str | None = None
    run_count: int | None = None

    @classmethod
    def from_graphql(cls, data: dict[str, Any]) -> Experiment:
        return cls(
            id=data["id"],
            name=data["name"],
            description=data.get("description"),
            tags=_pairs(data.get("tags")),
            created_at=decode_long(data.get("createdAt")),
            updated_at=decode_long(data.get("updatedAt")),
            last_activity=decode_long(data.get("lastActivity")),
            deleted=bool(data.get("deleted")),
            deleted_at=decode_long(data.get("deletedAt")),
            artifact_location=data.get("artifactLocation"),
            run_count=data.get("runCount"),
        )


@dataclass(frozen=True)
class LatestMetric:
    """The latest value of a metric (highest step, then latest timestamp) and its extremes."""

    key: str
    value: float
    step: int
    timestamp: int
    min: float | None = None
    max: float | None = None
    count: int = 0


@dataclass(frozen=True)
class RunSource:
    entry_point: str | None = None
    git_commit: str | None = None
    git_branch: str | None = None
    git_dirty: bool | None = None
    git_remote: str | None = None


@dataclass(frozen=True)
class Dataset:
    """A dataset a run used; `digest` identifies its content (e.g. a hash)."""

    name: str
    digest: str
    source: str | None = None
    source_type: str | None = None
    schema: Any = None
    profile: Any = None
    context: str | None = None

    def to_graphql(self) -> dict[str, Any]:
        spec = {
            "name": self.name,
            "digest": self.digest,
            "source": self.source,
            "sourceType": self.source_type,
            "schema": self.schema,
            "profile": self.profile,
            "context": self.context,
        }
        return {k: v for k, v in spec.items() if v is not None}


@dataclass(frozen=True)
class Run:
    """A run as stored on the server. `metrics` maps each key to its latest value."""

    id: str
    name: str | None
    experiment_id: str
    status: str
    start_time: int | None
    end_time: int | None = None
    user: str | None = None
    parent_id: str | None = None
    artifact_uri: str | None = None
    deleted: bool = False
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    latest_metrics: dict[str, LatestMetric] = field(default_factory=dict)
    inputs: list[Dataset] = field(default_factory=list)
    source: RunSource | None = None
    environment: dict[str, Any] | None = None  # filled by get_run; search results leave it None

    @classmethod
    def from_graphql(cls, data: dict[str, Any]) -> Run:
        latest = {
            m["key"]: LatestMetric(
                key=m["key"],
                value=decode_value(m["value"]),  # type: ignore[arg-type]
                step=decode_long(m["step"]),  # type: ignore[arg-type]
                timestamp=decode_long(m["timestamp"]),  # type: ignore[arg-type]
                min=decode_value(m.get("min")),
                max=decode_value(m.get("max")),
                count=m.get("count") or 0,
            )
            for m in data.get("latestMetrics") or ()
        }
        source = data.get("source")
        return cls(
            id=data["id"],
            name=data.get("name"),
            experiment_id=data.get("experimentId"),  # type: ignore[arg-type]
            status=data.get("status"),  # type: ignore[arg-type]
            start_time=decode_long(data.get("startTime")),
            end_time=decode_long(data.get("endTime")),
            user=data.get("user"),
            parent_id=data.get("parentId"),
            artifact_uri=data.get("artifactUri"),
            deleted=bool(data.get("deleted")),
            params=_pairs(data.get("params")),
            tags=_pairs(data.get("tags")),
            metrics={key: metric.value for key, metric in latest.items()},
            latest_metrics=latest,
            inputs=[
                Dataset(
                    name=d["name"],
                    digest=d["digest"],
                    source=d.get("source"),
                    source_type=d.get("sourceType"),
                    schema=d.get("schema"),
                    profile=d.get("profile"),
                    context=d.get("context"),
                )
                for d in data.get("inputs") or ()
            ],
            source=RunSource(
                entry_point=source.get("entryPoint"),
                git_commit=source.get("gitCommit"),
                git_branch=source.get("gitBranch"),
                git_dirty=source.get("gitDirty"),
                git_remote=source.get("gitRemote"),
            )
            if source
            else None,
            environment=data.get("environment"),
        )


@dataclass(frozen=True)
class MetricSeries:
    """One metric's history, columnar: `steps[i]`, `timestamps[i]`, `values[i]` belong together."""

    run_id: str
    key: str
    steps: list[int]
    timestamps: list[int]
    values: list[float]
    downsampled: bool = False
    total_points: int = 0

    def __len__(self) -> int:
        return len(self.steps)

    @classmethod
    def from_graphql(cls, data: dict[str, Any]) -> MetricSeries:
        values = data.get("values") or []
        if any(isinstance(v, str) for v in values):
            values = [decode_value(v) for v in values]
        return cls(
            run_id=data["runId"],
            key=data["key"],
            steps=decode_longs(data.get("steps")),
            timestamps=decode_longs(data.get("timestamps")),
            values=[float(v) for v in values],
            downsampled=bool(data.get("downsampled")),
            total_points=data.get("totalPoints") or len(values),
        )


@dataclass(frozen=True)
class MetricBatch:
    """Points of one stored batch, as a live subscription delivers them (columnar).

    `missed` counts events the server dropped before this one because the subscriber fell
    behind; when it is non-zero, re-read the histories to fill the gap.
    """

    run_id: str
    experiment_id: str
    keys: list[str]
    steps: list[int]
    timestamps: list[int]
    values: list[float]
    missed: int = 0
    batch_id: str | None = None  # the writer's logBatch batchId, to match one's own batches

    def __len__(self) -> int:
        return len(self.keys)

    @classmethod
    def from_graphql(cls, data: dict[str, Any]) -> MetricBatch:
        return cls(
            run_id=data["runId"],
            experiment_id=data["experimentId"],
            keys=list(data.get("keys") or []),
            steps=decode_longs(data.get("steps")),
            timestamps=decode_longs(data.get("timestamps")),
            values=[decode_value(v) for v in data.get("values") or []],  # type: ignore[misc]
            missed=data.get("missed") or 0,
            batch_id=data.get("batchId"),
        )


# Run attributes as MLflow's `search_runs` data frame names them, and the runTable field of each.
_TABLE_ATTRIBUTES = (
    ("run_id", "runIds"),
    ("experiment_id", "experimentIds"),
    ("run_name", "names"),
    ("status", "statuses"),
    ("user", "users"),
    ("start_time", "startTimes"),
    ("end_time", "endTimes"),
    ("parent_run_id", "parentIds"),
    ("artifact_uri", "artifactUris"),
)


_LONG_ATTRIBUTES = frozenset({"start_time", "end_time"})


@dataclass(frozen=True)
class RunTable:
    """Runs as columns named as in MLflow's `search_runs` data frame: `run_id`, `experiment_id`,
    `run_name`, `status`, `user`, `start_time`, `end_time` (ms), `parent_run_id`,
    `artifact_uri`, then `params.<key>`, `metrics.<key>` (latest value, a float) and
    `tags.<key>`. Row i of every column is the i-th run; None where a run has no such value.
    """

    columns: dict[str, list[Any]]

    def __len__(self) -> int:
        return len(self.columns["run_id"])

    def to_pandas(self) -> Any:
        """The table as a `pandas.DataFrame` (pandas is not a dependency of mltrail)."""
        try:
            import pandas
        except ImportError:
            raise ImportError("RunTable.to_pandas() needs pandas: pip install pandas") from None
        return pandas.DataFrame(self.columns)

    @classmethod
    def from_graphql_pages(cls, pages: Iterable[dict[str, Any]]) -> RunTable:
        """One table from consecutive runTable pages; a key first seen on a later page (or
        missing from one) gets None for the rows of the pages that lack it."""
        attributes: dict[str, list[Any]] = {name: [] for name, _ in _TABLE_ATTRIBUTES}
        keyed: dict[str, list[Any]] = {}
        rows = 0
        for page in pages:
            for name, wire_name in _TABLE_ATTRIBUTES:
                column = page[wire_name]
                attributes[name].extend(decode_longs(column) if name in _LONG_ATTRIBUTES else column)
            for prefix, wire_name in (("params.", "params"), ("metrics.", "metrics"), ("tags.", "tags")):
                for column in page[wire_name]:
                    name = prefix + column["key"]
                    cells = keyed.get(name)
                    if cells is None:
                        cells = keyed[name] = [None] * rows
                    values = column["values"]
                    cells.extend([decode_value(v) for v in values] if prefix == "metrics." else values)
            rows += len(page["runIds"])
            for cells in keyed.values():
                cells.extend([None] * (rows - len(cells)))
        ordered = sorted(keyed, key=lambda name: (_KIND_ORDER[name.split(".", 1)[0]], name))
        return cls({**attributes, **{name: keyed[name] for name in ordered}})


_KIND_ORDER = {"params": 0, "metrics": 1, "tags": 2}
