"""The module-level ("fluent") API: one default client, a stack of active runs.

`mltrail.log_metric(...)` logs into the innermost active run, starting one if none is
active (as MLflow does). The run stack is process-wide, not per thread, so a data-loader
thread or a callback can log into the run the main thread started.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from mltrail._client import ActiveRun, MltrailClient, tracking_uri_from_env
from mltrail._entities import Dataset, Experiment, MetricSeries, Run, RunTable
from mltrail._exceptions import MltrailError, ServerUnavailable

_lock = threading.RLock()
_client: MltrailClient | None = None
_tracking_uri: str | None = None
_experiment_name: str | None = None
_experiment_id: str | None = None
_active_runs: list[ActiveRun] = []


def set_tracking_uri(uri: str) -> None:
    """Where the default client sends to (else `MLTRAIL_TRACKING_URI`, else 127.0.0.1:5000)."""
    global _client, _tracking_uri
    with _lock:
        if _active_runs:
            raise MltrailError("cannot change the tracking URI while a run is active; end it first")
        if _client is not None and _client.tracking_uri != uri:
            _client.close()
            _client = None
        _tracking_uri = uri


def get_tracking_uri() -> str:
    return _tracking_uri or tracking_uri_from_env()


def get_client() -> MltrailClient:
    """The client behind the module-level functions."""
    global _client
    client = _client
    if client is None:
        with _lock:
            if _client is None:
                _client = MltrailClient(get_tracking_uri())
            client = _client
    return client


def set_experiment(name: str | None = None, *, experiment_id: str | None = None) -> Experiment:
    """Make runs started from now on go to this experiment, creating it if missing.

    When the server is unreachable the name is remembered and the experiment is created with
    the first run that reaches it.
    """
    global _experiment_name, _experiment_id
    if (name is None) == (experiment_id is None):
        raise MltrailError("give exactly one of name or experiment_id")
    client = get_client()
    with _lock:
        if experiment_id is not None:
            experiment = client.get_experiment(experiment_id)
            _experiment_id, _experiment_name = experiment.id, experiment.name
            return experiment
        try:
            experiment = client.get_or_create_experiment(name)  # type: ignore[arg-type]
        except ServerUnavailable:
            experiment = Experiment(id=None, name=name)  # type: ignore[arg-type]
        _experiment_id, _experiment_name = experiment.id, experiment.name
        return experiment


def start_run(
    name: str | None = None,
    run_id: str | None = None,
    nested: bool = False,
    tags: Mapping[str, Any] | None = None,
    *,
    experiment_name: str | None = None,
    experiment_id: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> ActiveRun:
    """Start (or, with `run_id` / `MLTRAIL_RUN_ID`, resume) a run and make it active.

    Use it as a context manager: the run ends FINISHED, FAILED if the block raises, KILLED on
    KeyboardInterrupt. A second run while one is active needs `nested=True`; it becomes a
    child of the active one. `params` are stored with the run, in the same request.
    """
    client = get_client()
    with _lock:
        parent = _active_runs[-1] if _active_runs else None
        if parent is not None and not nested:
            raise MltrailError(
                f"run {parent.id} is already active; end it first or pass nested=True to start a child run"
            )
        if run_id is None and parent is None:
            run_id = os.environ.get("MLTRAIL_RUN_ID") or None
        if experiment_id is None and experiment_name is None:
            experiment_id, experiment_name = _experiment_id, _experiment_name
        run = client.start_run(
            experiment_id=experiment_id,
            experiment_name=experiment_name,
            run_name=name,
            run_id=run_id,
            parent_run_id=parent.id if parent is not None else None,
            tags=tags,
            params=params,
        )
        run._on_end.append(_forget)
        _active_runs.append(run)
        return run


def _forget(run: ActiveRun) -> None:
    with _lock:
        if run in _active_runs:
            _active_runs.remove(run)


def active_run() -> ActiveRun | None:
    """The innermost active run, or None."""
    return _active_runs[-1] if _active_runs else None


def end_run(status: str = "FINISHED") -> None:
    """End the innermost active run (no-op without one)."""
    run = active_run()
    if run is not None:
        run.end(status)


def _current_run() -> ActiveRun:
    try:
        return _active_runs[-1]
    except IndexError:
        return start_run()


def log_metric(key: str, value: float, step: int | None = None, timestamp: int | None = None) -> None:
    """Queue one metric point for the active run; returns in microseconds."""
    try:
        run = _active_runs[-1]
    except IndexError:
        run = start_run()
    run._add_metric(run.id, key, value, step, timestamp)


def log_metrics(metrics: Mapping[str, float], step: int | None = None, timestamp: int | None = None) -> None:
    _current_run().log_metrics(metrics, step, timestamp)


def log_param(key: str, value: Any) -> None:
    run = _current_run()
    run._add_param(run.id, key, value)


def log_params(params: Mapping[str, Any]) -> None:
    _current_run().log_params(params)


def set_tag(key: str, value: Any) -> None:
    run = _current_run()
    run._add_tag(run.id, key, value)


def set_tags(tags: Mapping[str, Any]) -> None:
    _current_run().set_tags(tags)


def log_input(dataset: Dataset | Mapping[str, Any], context: str | None = None) -> None:
    _current_run().log_input(dataset, context)


def log_inputs(datasets: Iterable[Dataset | Mapping[str, Any]], context: str | None = None) -> None:
    _current_run().log_inputs(datasets, context)


def log_artifact(local_path: str | os.PathLike[str], artifact_path: str | None = None) -> None:
    _current_run().log_artifact(local_path, artifact_path)


def log_artifacts(local_dir: str | os.PathLike[str], artifact_path: str | None = None) -> None:
    _current_run().log_artifacts(local_dir, artifact_path)


def log_text(text: str, artifact_file: str) -> None:
    _current_run().log_text(text, artifact_file)


def log_dict(dictionary: Mapping[str, Any], artifact_file: str) -> None:
    _current_run().log_dict(dictionary, artifact_file)


def log_figure(figure: Any, artifact_file: str) -> None:
    _current_run().log_figure(figure, artifact_file)


def log_model(model: Any, artifact_path: str = "model", **options: Any) -> Any:
    """Log ``model`` into the active run; see `ActiveRun.log_model` and `mltrail.models`."""
    return _current_run().log_model(model, artifact_path, **options)


def flush(timeout: float | None = None) -> bool:
    """Wait until everything logged so far is delivered; False if some of it is spooled."""
    return True if _client is None else _client.flush(timeout)


def get_run(run_id: str) -> Run:
    return get_client().get_run(run_id)


def search_runs(
    experiment_ids: Iterable[str] | None = None,
    filter: str | None = None,
    order_by: Iterable[str] | str | None = None,
    *,
    max_results: int | None = 1000,
    experiment_names: Iterable[str] | None = None,
) -> list[Run]:
    """Runs matching a filter; without experiments, those of the current experiment."""
    experiment_ids, experiment_names = _current_experiment(experiment_ids, experiment_names)
    return get_client().search_runs(
        experiment_ids, filter, order_by, max_results=max_results, experiment_names=experiment_names
    )


def search_runs_table(
    experiment_ids: Iterable[str] | None = None,
    filter: str | None = None,
    order_by: Iterable[str] | str | None = None,
    *,
    max_results: int | None = 1000,
    experiment_names: Iterable[str] | None = None,
    param_keys: Iterable[str] | None = None,
    metric_keys: Iterable[str] | None = None,
    tag_keys: Iterable[str] | None = None,
) -> RunTable:
    """`search_runs` as columns (`.to_pandas()` for a data frame, as `mlflow.search_runs`)."""
    experiment_ids, experiment_names = _current_experiment(experiment_ids, experiment_names)
    return get_client().search_runs_table(
        experiment_ids,
        filter,
        order_by,
        max_results=max_results,
        experiment_names=experiment_names,
        param_keys=param_keys,
        metric_keys=metric_keys,
        tag_keys=tag_keys,
    )


def _current_experiment(
    experiment_ids: Iterable[str] | None, experiment_names: Iterable[str] | None
) -> tuple[Iterable[str] | None, Iterable[str] | None]:
    """The experiments a search covers: those given, else the one `set_experiment` chose."""
    if experiment_ids is None and experiment_names is None:
        if _experiment_id is not None:
            return [_experiment_id], None
        if _experiment_name is not None:
            return None, [_experiment_name]
    return experiment_ids, experiment_names


def get_metric_history(run_id: str, key: str, *, max_points: int | None = None) -> MetricSeries:
    return get_client().get_metric_history(run_id, key, max_points=max_points)


def _end_runs_at_exit() -> None:
    """Runs still active when the interpreter exits end FAILED if it is exiting on an uncaught
    exception (KILLED for KeyboardInterrupt), FINISHED otherwise."""
    error = getattr(sys, "last_value", None) or getattr(sys, "last_exc", None)
    if error is None:
        status = "FINISHED"
    elif isinstance(error, KeyboardInterrupt):
        status = "KILLED"
    else:
        status = "FAILED"
    for run in reversed(list(_active_runs)):
        try:
            run.end(status)
        except Exception:  # pragma: no cover - never fail interpreter shutdown
            pass


atexit.register(_end_runs_at_exit)


def _reset_lock_after_fork() -> None:
    global _lock
    _lock = threading.RLock()  # a parent thread may have held it at fork time


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_lock_after_fork)
