"""`MltrailClient`, the explicit API, and `ActiveRun`, the handle a started run returns.

Reads and management calls (experiments, runs, metric histories) are synchronous and raise
typed errors. Logging (metrics, params, tags, datasets, run end) is queued through the
client's `Batcher` and never raises for server-side problems. Artifacts are files and go
synchronously through `mltrail._artifacts`.
"""

from __future__ import annotations

import atexit
import getpass
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from types import TracebackType
from typing import Any

from mltrail import _documents as doc
from mltrail._entities import Dataset, Experiment, MetricBatch, MetricSeries, Run, RunTable
from mltrail._exceptions import InvalidArgument, MltrailError, NotFound, ServerUnavailable
from mltrail._registry import RegistryMethods
from mltrail._transport import DEFAULT_TRACKING_URI, GraphQLTransport

logger = logging.getLogger("mltrail")

RUN_STATUSES = ("RUNNING", "FINISHED", "FAILED", "KILLED")
DEFAULT_EXPERIMENT_NAME = "Default"
_PAGE_SIZE = 100


def tracking_uri_from_env() -> str:
    return os.environ.get("MLTRAIL_TRACKING_URI") or DEFAULT_TRACKING_URI


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _flush_timeout() -> float:
    try:
        return float(os.environ.get("MLTRAIL_FLUSH_TIMEOUT", "30"))
    except ValueError:
        return 30.0


class MltrailClient(RegistryMethods):
    """A connection to one tracking server.

    ``batch_options`` tune the background sender (see `mltrail._batcher.Batcher`):
    ``flush_points``, ``flush_interval``, ``max_batch_points``, ``max_queue_points``,
    ``block_seconds``, ``retry_max_delay``.
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        *,
        user: str | None = None,
        spool_dir: str | os.PathLike[str] | None = None,
        timeout: float = 30.0,
        capture_environment: bool | None = None,
        **batch_options: Any,
    ) -> None:
        self.tracking_uri = tracking_uri or tracking_uri_from_env()
        self.user = user or os.environ.get("MLTRAIL_USER") or _login_name()
        self._timeout = timeout
        self._spool_dir = spool_dir
        self._capture_environment = capture_environment
        self._batch_options = batch_options
        self._transport = GraphQLTransport(self.tracking_uri, timeout=timeout, user=self.user)
        self._batcher_lock = threading.Lock()
        self._batcher: Any = None
        self._samplers: set[Any] = set()  # system metrics samplers of this client's open runs
        _live_clients.add(self)

    def __repr__(self) -> str:
        return f"MltrailClient({self.tracking_uri!r})"

    # -- plumbing ---------------------------------------------------------------------------

    def _execute(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._transport.execute(document, variables)

    @property
    def batcher(self) -> Any:
        """The background sender, started on first use."""
        batcher = self._batcher
        if batcher is None:
            with self._batcher_lock:
                if self._batcher is None:
                    from mltrail._batcher import Batcher

                    self._batcher = Batcher(
                        self.tracking_uri,
                        spool_root=self._spool_dir,
                        timeout=self._timeout,
                        user=self.user,
                        **self._batch_options,
                    )
                batcher = self._batcher
        return batcher

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything logged so far is delivered. False if it is (still) spooled."""
        return True if self._batcher is None else self._batcher.flush(timeout)

    def close(self, timeout: float | None = None) -> bool:
        """Flush and stop the background sender; undelivered data stays in the spool."""
        delivered = True
        for sampler in list(self._samplers):  # runs left open: their samplers must not outlive us
            sampler.stop()
        self._samplers.clear()
        if self._batcher is not None:
            delivered = self._batcher.close(_flush_timeout() if timeout is None else timeout)
            self._batcher = None
        self._transport.close()
        _live_clients.discard(self)
        return delivered

    def __enter__(self) -> MltrailClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def rejections(self) -> list[Any]:
        """Queued operations the server refused for good (each also reported as a warning)."""
        return [] if self._batcher is None else list(self._batcher.delivery.rejections)

    # -- experiments ------------------------------------------------------------------------

    def create_experiment(
        self, name: str, *, description: str | None = None, tags: Mapping[str, Any] | None = None
    ) -> Experiment:
        data = self._execute(
            doc.CREATE_EXPERIMENT,
            {"name": name, "description": description, "tags": _tag_list(tags)},
        )
        return Experiment.from_graphql(data["createExperiment"])

    def get_experiment(self, experiment_id: str) -> Experiment:
        data = self._execute(doc.GET_EXPERIMENT_BY_ID, {"id": experiment_id})
        if data.get("experiment") is None:
            raise NotFound(f"experiment {experiment_id!r} does not exist")
        return Experiment.from_graphql(data["experiment"])

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """The experiment with this name, or None."""
        try:
            data = self._execute(doc.GET_EXPERIMENT_BY_NAME, {"name": name})
        except NotFound:
            return None
        found = data.get("experiment")
        return Experiment.from_graphql(found) if found else None

    def get_or_create_experiment(self, name: str) -> Experiment:
        found = self.get_experiment_by_name(name)
        if found is not None:
            return found
        try:
            return self.create_experiment(name)
        except MltrailError as error:
            if getattr(error, "code", None) != "CONFLICT":
                raise
            # Another process created it between our two calls.
            found = self.get_experiment_by_name(name)
            if found is None:
                raise
            return found

    def search_experiments(
        self, filter: str | None = None, *, include_deleted: bool = False, max_results: int | None = None
    ) -> list[Experiment]:
        nodes = self._paginate(
            doc.SEARCH_EXPERIMENTS,
            "experiments",
            {"filter": filter, "includeDeleted": include_deleted},
            max_results,
        )
        return [Experiment.from_graphql(node) for node in nodes]

    def delete_experiment(self, experiment_id: str) -> None:
        self._execute(doc.DELETE_EXPERIMENT, {"id": experiment_id})

    def restore_experiment(self, experiment_id: str) -> None:
        self._execute(doc.RESTORE_EXPERIMENT, {"id": experiment_id})

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        self._execute(
            doc.SET_EXPERIMENT_TAG, {"experimentId": experiment_id, "key": key, "value": str(value)}
        )

    # -- runs -------------------------------------------------------------------------------

    def start_run(
        self,
        *,
        experiment_id: str | None = None,
        experiment_name: str | None = None,
        run_name: str | None = None,
        run_id: str | None = None,
        parent_run_id: str | None = None,
        tags: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        start_time: int | None = None,
        log_system_metrics: bool | None = None,
    ) -> ActiveRun:
        """Create a RUNNING run (or attach to `run_id`) and return its handle.

        The run is created synchronously when the server answers, so mistakes (an unknown
        experiment id, say) raise here. When the server is unreachable the run gets its id
        from the client and its creation is queued with everything logged to it.

        `params` are stored with the run, in the same transaction (stringified as `log_params`
        does); attaching to an existing run queues them as `log_params` would.

        `log_system_metrics` samples CPU, memory, disk, network and GPUs beside the run until
        it ends (see `mltrail._system_metrics`); None means `MLTRAIL_LOG_SYSTEM_METRICS`, which
        applies to top-level runs only, so nested runs do not sample the same machine twice.
        """
        if log_system_metrics is None and parent_run_id is None:
            log_system_metrics = _system_metrics_from_env()
        if run_id is not None:
            handle = self._attach(run_id, tags, params)
            if log_system_metrics:
                handle._start_system_metrics()
            return handle
        param_list, later_params = _param_lists(params)
        run_id = uuid.uuid4().hex
        variables: dict[str, Any] = {
            "runId": run_id,
            "name": run_name,
            "tags": _tag_list(tags),
            "params": param_list,
            "parentRunId": parent_run_id,
            "startTime": start_time if start_time is not None else _now_ms(),
            "user": self.user,
        }
        if experiment_id is not None:
            variables["experimentId"] = experiment_id
        else:
            variables["experimentName"] = (
                experiment_name or os.environ.get("MLTRAIL_EXPERIMENT_NAME") or DEFAULT_EXPERIMENT_NAME
            )
        if self._should_capture():
            from mltrail._env import environment, run_source

            variables["source"] = run_source()
            variables["environment"] = environment()
        variables = {k: v for k, v in variables.items() if v is not None}

        batcher = self.batcher
        created: dict[str, Any] | None = None
        if batcher.pending == 0:
            try:
                created = self._execute(doc.CREATE_RUN, variables)["createRun"]
            except ServerUnavailable as error:
                logger.warning(
                    "mltrail: cannot reach %s (%s); run %s is tracked offline in the spool",
                    self.tracking_uri,
                    error,
                    run_id,
                )
        if created is None:
            # Queued behind what is already pending, so a nested run is created after its parent.
            batcher.submit("createRun", variables)
        handle = ActiveRun(
            self,
            run_id,
            name=(created or {}).get("name") or run_name,
            experiment_id=(created or {}).get("experimentId") or experiment_id,
            parent_id=parent_run_id,
        )
        for item in later_params:
            handle.log_param(item["key"], item["value"])
        if log_system_metrics:
            handle._start_system_metrics()
        return handle

    def _attach(
        self, run_id: str, tags: Mapping[str, Any] | None, params: Mapping[str, Any] | None
    ) -> ActiveRun:
        try:
            run: Run | None = self.get_run(run_id)
        except ServerUnavailable:
            run = None
        if run is None or run.status != "RUNNING":
            self.batcher.submit("updateRun", {"id": run_id, "status": "RUNNING"})
        handle = ActiveRun(
            self,
            run_id,
            name=run.name if run else None,
            experiment_id=run.experiment_id if run else None,
            parent_id=run.parent_id if run else None,
        )
        if run is not None:
            system_steps = [m.step for key, m in run.latest_metrics.items() if key.startswith("system/")]
            handle._system_metrics_first_step = max(system_steps, default=-1) + 1
        if tags:
            handle.set_tags(tags)
        if params:
            handle.log_params(params)
        return handle

    def _see_own_writes(self) -> None:
        """Deliver what this client queued before a read, so the read shows it.

        The whole queue rather than one run's share: the sender delivers in order anyway (a
        run's writes may sit behind another run's), and with nothing queued this returns at
        once. When the server is unreachable the queue stays spooled and the read goes ahead
        (it will most likely fail with ServerUnavailable itself).
        """
        if self._batcher is not None:
            self._batcher.flush(_flush_timeout())

    def get_run(self, run_id: str) -> Run:
        self._see_own_writes()
        data = self._execute(doc.GET_RUN, {"id": run_id})
        if data.get("run") is None:
            raise NotFound(f"run {run_id!r} does not exist")
        return Run.from_graphql(data["run"])

    def search_runs(
        self,
        experiment_ids: Iterable[str] | None = None,
        filter: str | None = None,
        order_by: Iterable[str] | str | None = None,
        *,
        max_results: int | None = 1000,
        view_type: str = "ACTIVE",
        experiment_names: Iterable[str] | None = None,
    ) -> list[Run]:
        """Runs matching the search language (`metrics.acc > 0.9 and params.model = 'rf'`)."""
        self._see_own_writes()
        variables = self._search_variables(experiment_ids, experiment_names, filter, order_by, view_type)
        nodes = self._paginate(doc.SEARCH_RUNS, "runs", variables, max_results)
        return [Run.from_graphql(node) for node in nodes]

    def search_runs_table(
        self,
        experiment_ids: Iterable[str] | None = None,
        filter: str | None = None,
        order_by: Iterable[str] | str | None = None,
        *,
        max_results: int | None = 1000,
        view_type: str = "ACTIVE",
        experiment_names: Iterable[str] | None = None,
        param_keys: Iterable[str] | None = None,
        metric_keys: Iterable[str] | None = None,
        tag_keys: Iterable[str] | None = None,
        _page_size: int = _PAGE_SIZE,
    ) -> RunTable:
        """The runs of `search_runs` (same arguments, same order) as columns, for a data frame:
        `search_runs_table(...).to_pandas()` is MLflow's `search_runs`. `param_keys`,
        `metric_keys` and `tag_keys` choose the columns (`[]`: none of that kind); by default
        every key the runs have becomes a column.
        """
        self._see_own_writes()
        variables = self._search_variables(experiment_ids, experiment_names, filter, order_by, view_type)
        variables["paramKeys"] = list(param_keys) if param_keys is not None else None
        variables["metricKeys"] = list(metric_keys) if metric_keys is not None else None
        variables["tagKeys"] = list(tag_keys) if tag_keys is not None else None
        pages = self._pages(doc.RUN_TABLE, "runTable", variables, max_results, "runIds", _page_size)
        return RunTable.from_graphql_pages(pages)

    def get_metric_history(self, run_id: str, key: str, *, max_points: int | None = None) -> MetricSeries:
        """Every point of one metric (or a downsampled view when `max_points` is given)."""
        for series in self.get_metric_histories([run_id], [key], max_points=max_points):
            if series.key == key:
                return series
        return MetricSeries(run_id=run_id, key=key, steps=[], timestamps=[], values=[])

    def get_metric_histories(
        self, run_ids: Iterable[str], keys: Iterable[str] | None = None, *, max_points: int | None = None
    ) -> list[MetricSeries]:
        self._see_own_writes()
        data = self._execute(
            doc.METRIC_HISTORIES,
            {
                "runIds": list(run_ids),
                "keys": list(keys) if keys is not None else None,
                "maxPoints": max_points,
            },
        )
        return [MetricSeries.from_graphql(series) for series in data["metricHistories"]]

    def watch_metrics(
        self, run_ids: Iterable[str] | None = None, *, experiment_id: str | None = None
    ) -> Iterator[MetricBatch]:
        """Metric points as they are stored, live, over WebSocket; stop by leaving the loop.

        Each item is one stored batch (columnar). Only points stored after the subscription
        started arrive; read `get_metric_history` for what came before.
        """
        from mltrail._transport import subscribe

        variables = {"runIds": list(run_ids) if run_ids is not None else None, "experimentId": experiment_id}
        for result in subscribe(self.tracking_uri, doc.METRICS_LOGGED, variables):
            yield MetricBatch.from_graphql(result["metricsLogged"])

    def update_run(self, run_id: str, *, name: str | None = None) -> None:
        self._execute(doc.UPDATE_RUN, {"id": run_id, "name": name})

    def set_terminated(self, run_id: str, status: str = "FINISHED", end_time: int | None = None) -> None:
        """Mark a run ended; queued behind everything logged to it, so it lands last."""
        status = _check_status(status)
        variables = {
            "id": run_id,
            "status": status,
            "endTime": end_time if end_time is not None else _now_ms(),
        }
        self.batcher.submit("updateRun", variables)

    def delete_run(self, run_id: str) -> None:
        self._execute(doc.DELETE_RUN, {"id": run_id})

    def restore_run(self, run_id: str) -> None:
        self._execute(doc.RESTORE_RUN, {"id": run_id})

    def delete_tag(self, run_id: str, key: str) -> None:
        self.flush()  # a queued set_tag of the same key must not land after the delete
        self._execute(doc.DELETE_RUN_TAG, {"runId": run_id, "key": key})

    # -- queued logging -----------------------------------------------------------------------

    def log_metric(
        self, run_id: str, key: str, value: float, step: int | None = None, timestamp: int | None = None
    ) -> None:
        self.batcher.add_metric(run_id, key, value, step, timestamp)

    def log_metrics(
        self,
        run_id: str,
        metrics: Mapping[str, float],
        step: int | None = None,
        timestamp: int | None = None,
    ) -> None:
        add = self.batcher.add_metric
        if timestamp is None:
            timestamp = _now_ms()
        for key, value in metrics.items():
            add(run_id, key, value, step, timestamp)

    def log_param(self, run_id: str, key: str, value: Any) -> None:
        self.batcher.add_param(run_id, key, value)

    def log_params(self, run_id: str, params: Mapping[str, Any]) -> None:
        add = self.batcher.add_param
        for key, value in params.items():
            add(run_id, key, value)

    def set_tag(self, run_id: str, key: str, value: Any) -> None:
        self.batcher.add_tag(run_id, key, value)

    def set_tags(self, run_id: str, tags: Mapping[str, Any]) -> None:
        add = self.batcher.add_tag
        for key, value in tags.items():
            add(run_id, key, value)

    def log_input(
        self, run_id: str, dataset: Dataset | Mapping[str, Any], context: str | None = None
    ) -> None:
        self.log_inputs(run_id, [dataset], context=context)

    def log_inputs(
        self, run_id: str, datasets: Iterable[Dataset | Mapping[str, Any]], context: str | None = None
    ) -> None:
        specs = []
        for dataset in datasets:
            spec = _dataset_spec(dataset)
            if context is not None:
                spec["context"] = context
            specs.append(spec)
        if specs:
            self.batcher.submit("logInputs", {"runId": run_id, "datasets": specs})

    # -- artifacts (files, synchronous; implemented in mltrail._artifacts) --------------------

    def log_artifact(
        self, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        from mltrail._artifacts import upload_file

        upload_file(self.tracking_uri, run_id, local_path, artifact_path)

    def log_artifacts(
        self, run_id: str, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        from mltrail._artifacts import upload_dir

        upload_dir(self.tracking_uri, run_id, local_dir, artifact_path)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        from mltrail._artifacts import upload_bytes

        upload_bytes(self.tracking_uri, run_id, text.encode("utf-8"), artifact_file)

    def log_dict(self, run_id: str, dictionary: Mapping[str, Any], artifact_file: str) -> None:
        import json

        from mltrail._artifacts import upload_bytes

        if artifact_file.endswith((".yaml", ".yml")):
            try:
                import yaml  # optional: only when the caller asks for YAML and has PyYAML

                data = yaml.safe_dump(dict(dictionary), sort_keys=False).encode("utf-8")
            except ImportError:
                data = json.dumps(dictionary, indent=2, default=str).encode("utf-8")
        else:
            data = json.dumps(dictionary, indent=2, default=str).encode("utf-8")
        upload_bytes(self.tracking_uri, run_id, data, artifact_file)

    def log_figure(self, run_id: str, figure: Any, artifact_file: str) -> None:
        """A matplotlib figure (savefig) or a plotly figure (HTML, or an image with kaleido)."""
        from mltrail._artifacts import upload_figure

        upload_figure(self.tracking_uri, run_id, figure, artifact_file)

    def log_model(self, run_id: str, model: Any, artifact_path: str = "model", **options: Any) -> Any:
        """Package ``model`` into ``artifact_path`` of the run (see `mltrail.models`); returns a
        `mltrail.models.ModelInfo`. Needs the ``models`` extra."""
        from mltrail.models._log import log_model

        return log_model(self, run_id, model, artifact_path, **options)

    # -- helpers ------------------------------------------------------------------------------

    def _should_capture(self) -> bool:
        if self._capture_environment is not None:
            return self._capture_environment
        from mltrail._env import capture_enabled

        return capture_enabled()

    def _search_variables(
        self,
        experiment_ids: Iterable[str] | None,
        experiment_names: Iterable[str] | None,
        filter: str | None,
        order_by: Iterable[str] | str | None,
        view_type: str,
    ) -> dict[str, Any]:
        """The variables of a run search (`runs`, `runTable`), experiment names resolved to ids."""
        ids = list(experiment_ids) if experiment_ids is not None else None
        if experiment_names is not None:
            ids = ids or []
            for name in experiment_names:
                experiment = self.get_experiment_by_name(name)
                if experiment is None:
                    raise NotFound(f"experiment {name!r} does not exist")
                ids.append(experiment.id)  # type: ignore[arg-type]
        if isinstance(order_by, str):
            order_by = [order_by]
        return {
            "experimentIds": ids,
            "filter": filter,
            "orderBy": list(order_by) if order_by else None,
            "viewType": view_type.upper(),
        }

    def _paginate(
        self, document: str, field: str, variables: dict[str, Any], max_results: int | None
    ) -> list[dict[str, Any]]:
        pages = self._pages(document, field, variables, max_results)
        return [node for page in pages for node in page["nodes"]]

    def _pages(
        self,
        document: str,
        field: str,
        variables: dict[str, Any],
        max_results: int | None,
        rows: str = "nodes",
        page_size: int = _PAGE_SIZE,
    ) -> Iterator[dict[str, Any]]:
        """Pages of a paginated query, following `endCursor` until `max_results` rows (counted
        in the page's `rows` list) or the last page."""
        fetched = 0
        after = None
        while max_results is None or fetched < max_results:
            first = page_size if max_results is None else min(page_size, max_results - fetched)
            page = self._execute(document, {**variables, "first": first, "after": after})[field]
            yield page
            fetched += len(page[rows])
            info = page["pageInfo"]
            if not info["hasNextPage"] or not page[rows]:
                break
            after = info["endCursor"]


class ActiveRun:
    """A run this process logs into; a context manager that ends it.

    Leaving the `with` block marks the run FINISHED, FAILED when the block raised, KILLED on
    KeyboardInterrupt, and waits (up to `MLTRAIL_FLUSH_TIMEOUT`, 30 s) for delivery.
    """

    def __init__(
        self,
        client: MltrailClient,
        run_id: str,
        *,
        name: str | None = None,
        experiment_id: str | None = None,
        parent_id: str | None = None,
    ) -> None:
        self.client = client
        self.id = run_id
        self.name = name
        self.experiment_id = experiment_id
        self.parent_id = parent_id
        self.status = "RUNNING"
        batcher = client.batcher
        # Bound once: the fluent `log_metric` reaches the queue in two calls.
        self._add_metric = batcher.add_metric
        self._add_param = batcher.add_param
        self._add_tag = batcher.add_tag
        self._on_end: list[Any] = []
        self._system_metrics: Any = None
        self._system_metrics_first_step = 0  # after the stored ones, when resuming a run

    def __repr__(self) -> str:
        return f"<ActiveRun {self.id} name={self.name!r} status={self.status}>"

    @property
    def info(self) -> ActiveRun:  # MLflow users reach for run.info.run_id
        return self

    @property
    def run_id(self) -> str:
        return self.id

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.end("FINISHED")
        elif issubclass(exc_type, KeyboardInterrupt):
            self.end("KILLED")
        else:
            self.end("FAILED")

    def end(self, status: str = "FINISHED", *, timeout: float | None = None) -> bool:
        """End the run and wait for its data to be delivered; False if some is still spooled."""
        if self.status != "RUNNING":
            return True
        self.status = _check_status(status)
        self._stop_system_metrics()  # joined before the end time is taken: no point after the end
        for callback in self._on_end:
            callback(self)
        self.client.set_terminated(self.id, self.status)
        delivered = self.client.flush(_flush_timeout() if timeout is None else timeout)
        if not delivered:
            logger.warning(
                "mltrail: run %s ended but not all of it reached %s yet; it stays in the spool",
                self.id,
                self.client.tracking_uri,
            )
        return delivered

    def _start_system_metrics(self) -> None:
        if self._system_metrics is not None:
            return
        from mltrail._system_metrics import start_sampler

        sampler = start_sampler(self._add_metric, self.id, first_step=self._system_metrics_first_step)
        if sampler is not None:
            self._system_metrics = sampler
            self.client._samplers.add(sampler)

    def _stop_system_metrics(self) -> None:
        sampler, self._system_metrics = self._system_metrics, None
        if sampler is not None:
            sampler.stop()
            self.client._samplers.discard(sampler)

    def get(self) -> Run:
        """The run as the server has it now (after a flush)."""
        self.client.flush()
        return self.client.get_run(self.id)

    def flush(self, timeout: float | None = None) -> bool:
        return self.client.flush(timeout)

    def log_metric(
        self, key: str, value: float, step: int | None = None, timestamp: int | None = None
    ) -> None:
        self._add_metric(self.id, key, value, step, timestamp)

    def log_metrics(
        self, metrics: Mapping[str, float], step: int | None = None, timestamp: int | None = None
    ) -> None:
        self.client.log_metrics(self.id, metrics, step, timestamp)

    def log_param(self, key: str, value: Any) -> None:
        self._add_param(self.id, key, value)

    def log_params(self, params: Mapping[str, Any]) -> None:
        self.client.log_params(self.id, params)

    def set_tag(self, key: str, value: Any) -> None:
        self._add_tag(self.id, key, value)

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        self.client.set_tags(self.id, tags)

    def log_input(self, dataset: Dataset | Mapping[str, Any], context: str | None = None) -> None:
        self.client.log_input(self.id, dataset, context)

    def log_inputs(self, datasets: Iterable[Dataset | Mapping[str, Any]], context: str | None = None) -> None:
        self.client.log_inputs(self.id, datasets, context)

    def log_artifact(self, local_path: str | os.PathLike[str], artifact_path: str | None = None) -> None:
        self.client.log_artifact(self.id, local_path, artifact_path)

    def log_artifacts(self, local_dir: str | os.PathLike[str], artifact_path: str | None = None) -> None:
        self.client.log_artifacts(self.id, local_dir, artifact_path)

    def log_text(self, text: str, artifact_file: str) -> None:
        self.client.log_text(self.id, text, artifact_file)

    def log_dict(self, dictionary: Mapping[str, Any], artifact_file: str) -> None:
        self.client.log_dict(self.id, dictionary, artifact_file)

    def log_figure(self, figure: Any, artifact_file: str) -> None:
        self.client.log_figure(self.id, figure, artifact_file)

    def log_model(
        self,
        model: Any,
        artifact_path: str = "model",
        *,
        input_example: Any = None,
        signature: Any = None,
        registered_model_name: str | None = None,
        **options: Any,
    ) -> Any:
        """Package ``model`` (scikit-learn, a `mltrail.pyfunc.PythonModel`, anything with
        ``predict``) into this run's artifacts; see `mltrail.models`. Returns a `ModelInfo`."""
        return self.client.log_model(
            self.id,
            model,
            artifact_path,
            input_example=input_example,
            signature=signature,
            registered_model_name=registered_model_name,
            **options,
        )


def _system_metrics_from_env() -> bool:
    return os.environ.get("MLTRAIL_LOG_SYSTEM_METRICS", "").strip().lower() in ("1", "true", "yes", "on")


def _check_status(status: str) -> str:
    upper = str(status).upper()
    if upper not in RUN_STATUSES:
        raise InvalidArgument(f"status must be one of {', '.join(RUN_STATUSES)}, got {status!r}")
    return upper


def _tag_list(tags: Mapping[str, Any] | None) -> list[dict[str, str]] | None:
    if not tags:
        return None
    return [{"key": str(key), "value": str(value)} for key, value in tags.items()]


def _param_lists(
    params: Mapping[str, Any] | None,
) -> tuple[list[dict[str, str]] | None, list[dict[str, str]]]:
    """Params for createRun, validated and stringified as `log_params` does them, and those
    beyond the server's per-request limit, to be queued as `log_params` once the run exists."""
    if not params:
        return None, []
    from mltrail._batcher import MAX_ITEMS_PER_RECORD, item_value

    items = [{"key": key, "value": item_value("param", key, value)} for key, value in params.items()]
    return items[:MAX_ITEMS_PER_RECORD], items[MAX_ITEMS_PER_RECORD:]


def _dataset_spec(dataset: Dataset | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(dataset, Dataset):
        return dataset.to_graphql()
    if isinstance(dataset, Mapping):
        names = {"source_type": "sourceType"}
        spec = {names.get(k, k): v for k, v in dataset.items() if v is not None}
        if "name" not in spec or "digest" not in spec:
            raise InvalidArgument("a dataset needs at least a name and a digest")
        return spec
    raise InvalidArgument(f"expected a mltrail.Dataset or a mapping, got {type(dataset).__name__}")


def _login_name() -> str | None:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry (some containers)
        return None


# Every client flushes at interpreter exit. The fluent API registers its own hook later
# (ending active runs), and atexit runs hooks last-registered first, so runs end before
# their clients close.
_live_clients: set[MltrailClient] = set()


def _close_all_clients() -> None:
    for client in list(_live_clients):
        try:
            client.close()
        except Exception:  # pragma: no cover - never fail interpreter shutdown
            logger.exception("mltrail: error while closing a client at exit")


atexit.register(_close_all_clients)


def _reset_locks_after_fork() -> None:
    for client in list(_live_clients):
        client._batcher_lock = threading.Lock()  # a parent thread may have held it at fork time


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_locks_after_fork)
