"""`search_runs_table`: the runs of `search_runs` as aligned columns, page after page."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

import mltrail
from mltrail import MltrailClient, Run, RunTable

from .conftest import ServerProcess

ATTRIBUTES = {
    "run_id": lambda run: run.id,
    "experiment_id": lambda run: run.experiment_id,
    "run_name": lambda run: run.name,
    "status": lambda run: run.status,
    "user": lambda run: run.user,
    "start_time": lambda run: run.start_time,
    "end_time": lambda run: run.end_time,
    "parent_run_id": lambda run: run.parent_id,
    "artifact_uri": lambda run: run.artifact_uri,
}


def log_seven_runs(client: MltrailClient, experiment_name: str) -> str:
    """Runs r0…r6, started in that order. `seed` only on r0 (the first page of two runs),
    `depth` only on r5 and r6 (the last pages); `loss` is NaN, +inf, -inf or absent."""
    losses = {1: 0.5, 3: math.nan, 4: math.inf, 6: -math.inf}
    parent = None
    for i in range(7):
        params = {"model": "rf" if i % 3 else "svm"}
        if i == 0:
            params["seed"] = 42
        if i >= 5:
            params["depth"] = i
        run = client.start_run(
            experiment_name=experiment_name,
            run_name=f"r{i}",
            params=params,
            tags={"fold": i % 2} if i % 2 else None,
            parent_run_id=parent,
            start_time=1_700_000_000_000 + i,
        )
        run.log_metric("acc", i / 10)
        if i in losses:
            run.log_metric("loss", losses[i])
        if i == 2:
            parent = run.id  # r3… are children of r2: parent_run_id is filled for some rows
        if i != 6:
            run.end("FAILED" if i == 4 else "FINISHED")
    assert client.flush(30)
    experiment = client.get_experiment_by_name(experiment_name)
    assert experiment is not None and experiment.id is not None
    return experiment.id


def same(a: object, b: object) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


def assert_matches_search_runs(table: RunTable, runs: list[Run]) -> None:
    """Row i is runs[i]: every attribute, param, latest metric and tag, None where it has none."""
    assert len(table) == len(runs)
    assert all(len(column) == len(runs) for column in table.columns.values())
    assert list(table.columns)[: len(ATTRIBUTES)] == list(ATTRIBUTES)
    for name, attribute in ATTRIBUTES.items():
        assert table.columns[name] == [attribute(run) for run in runs], name
    expected: dict[str, list[object]] = {}
    for prefix, of_run in (("params.", "params"), ("metrics.", "metrics"), ("tags.", "tags")):
        keys = sorted({key for run in runs for key in getattr(run, of_run)})
        for key in keys:
            expected[prefix + key] = [getattr(run, of_run).get(key) for run in runs]
    assert list(table.columns)[len(ATTRIBUTES) :] == list(expected)
    for name, cells in expected.items():
        assert all(same(a, b) for a, b in zip(table.columns[name], cells, strict=True)), (
            name,
            table.columns[name],
        )


def test_columns_stay_aligned_across_pages(client: MltrailClient, experiment_name: str) -> None:
    experiment_id = log_seven_runs(client, experiment_name)
    order = "attributes.start_time"
    runs = client.search_runs([experiment_id], order_by=order)
    table = client.search_runs_table([experiment_id], order_by=order, _page_size=2)  # pages of 2, 2, 2, 1
    assert table.columns["run_name"] == [f"r{i}" for i in range(7)]
    assert_matches_search_runs(table, runs)
    # Keys seen on some pages only are padded for the rows of the others.
    assert table.columns["params.seed"] == ["42", None, None, None, None, None, None]
    assert table.columns["params.depth"] == [None, None, None, None, None, "5", "6"]
    assert table.columns["tags.fold"] == [None, "1", None, "1", None, "1", None]
    assert table.columns["status"] == ["FINISHED"] * 4 + ["FAILED", "FINISHED", "RUNNING"]
    assert table.columns["parent_run_id"][:4] == [None, None, None, table.columns["run_id"][2]]
    assert table.columns["end_time"][6] is None

    loss = table.columns["metrics.loss"]
    assert loss[0] is None and loss[1] == 0.5 and loss[2] is None and loss[5] is None
    assert isinstance(loss[3], float) and math.isnan(loss[3])
    assert loss[4] == math.inf and loss[6] == -math.inf
    assert table.columns["metrics.acc"] == [i / 10 for i in range(7)]


def test_filter_order_and_max_results_as_search_runs(client: MltrailClient, experiment_name: str) -> None:
    experiment_id = log_seven_runs(client, experiment_name)
    for filter, order, max_results in [
        ("params.model = 'rf'", ["metrics.acc DESC"], 1000),
        (None, ["metrics.loss DESC", "attributes.start_time"], 1000),  # NaN and missing values
        (None, ["attributes.start_time DESC"], 5),  # stops mid-page
        (None, ["attributes.start_time"], 4),  # `depth` is on no row read
        ("metrics.acc > 2", None, 1000),  # nothing
    ]:
        runs = client.search_runs([experiment_id], filter, order, max_results=max_results)
        table = client.search_runs_table(
            [experiment_id], filter, order, max_results=max_results, _page_size=2
        )
        assert_matches_search_runs(table, runs)
    assert len(runs) == 0 and list(table.columns) == list(ATTRIBUTES)

    by_name = client.search_runs_table(experiment_names=[experiment_name], max_results=3, _page_size=2)
    assert len(by_name) == 3
    deleted = client.search_runs_table([experiment_id], view_type="deleted")
    assert len(deleted) == 0


def test_chosen_columns(client: MltrailClient, experiment_name: str) -> None:
    experiment_id = log_seven_runs(client, experiment_name)
    table = client.search_runs_table(
        [experiment_id], order_by="attributes.start_time", param_keys=["depth", "absent"], metric_keys=["loss"],
        tag_keys=[], _page_size=3,
    )  # fmt: skip
    assert list(table.columns) == [*ATTRIBUTES, "params.depth", "metrics.loss"]
    assert table.columns["params.depth"] == [None] * 5 + ["5", "6"]


def test_the_fluent_search_covers_the_current_experiment(
    server: ServerProcess, spool_dir: Path, experiment_name: str
) -> None:
    mltrail.set_tracking_uri(server.url)
    mltrail.set_experiment(experiment_name)
    with mltrail.start_run(name="a", params={"lr": 0.1}):
        mltrail.log_metric("acc", 0.9)
    with mltrail.start_run(name="b"):
        pass
    table = mltrail.search_runs_table(order_by="attributes.start_time")
    assert table.columns["run_name"] == ["a", "b"]
    assert table.columns["params.lr"] == ["0.1", None] and table.columns["metrics.acc"] == [0.9, None]
    assert_matches_search_runs(table, mltrail.search_runs(order_by="attributes.start_time"))


def test_to_pandas_without_pandas_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # `import pandas` fails, installed or not
    table = RunTable({"run_id": ["a"], "params.lr": ["0.1"]})
    assert len(table) == 1
    with pytest.raises(ImportError, match="pip install pandas"):
        table.to_pandas()
