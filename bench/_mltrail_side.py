"""mltrail's half of the tracking workload: the GraphQL documents, the payloads, and ``Side``,
what the workload's steps share (one connection, one random stream, the experiments and the
runs one step creates and a later one reads). The steps themselves are in the workload
modules (``_ingest``, ``_search``, ``_histories``); ``bench/_mlflow_side.py`` is the other half.
"""

from __future__ import annotations

import random
from typing import Any

from _harness import Gql
from _workload import N_PARAMS, param_values

INGEST_KEYS = 10
# A fixed origin for the points' timestamps: payloads are the same from one run to the next.
TIMESTAMP_ORIGIN_MS = 1_700_000_000_000
SEARCH_FILTER = "metrics.acc > 0.5 and params.lr = '0.01'"
SEARCH_ORDER = "metrics.acc DESC"

CREATE_EXPERIMENT = "mutation($name: String!) { createExperiment(name: $name) { id } }"
CREATE_RUN = """
mutation($experimentId: ID, $name: String, $params: [ParamInput!]) {
  createRun(experimentId: $experimentId, name: $name, params: $params) {
    id name experimentId status startTime artifactUri
  }
}"""
LOG_BATCH = """
mutation($runId: ID!, $batchId: String, $metrics: MetricBatchInput, $params: [ParamInput!], $tags: [TagInput!]) {
  logBatch(runId: $runId, batchId: $batchId, metrics: $metrics, params: $params, tags: $tags) {
    duplicate metricsWritten
  }
}"""
# What MLflow's search_runs returns too: run info, params, tags, latest metrics.
RUN_FIELDS = """
  id name experimentId status startTime endTime user artifactUri
  params { key value } tags { key value } latestMetrics { key value step timestamp }
"""
SEARCH = (
    "query($experimentIds: [ID!], $filter: String, $orderBy: [String!], $first: Int) {"
    " runs(experimentIds: $experimentIds, filter: $filter, orderBy: $orderBy, first: $first) {"
    " totalCount nodes {" + RUN_FIELDS + "} } }"
)
# The same search as columns (runTable): what a table or a data frame reads. No totalCount:
# MLflow's search_runs does not count the matches either (its page has a next-page token).
TABLE_SEARCH = (
    "query($experimentIds: [ID!], $filter: String, $orderBy: [String!], $first: Int) {"
    " runTable(experimentIds: $experimentIds, filter: $filter, orderBy: $orderBy, first: $first) {"
    " pageInfo { endCursor hasNextPage }"
    " runIds experimentIds names statuses users startTimes endTimes artifactUris"
    " params { key values } tags { key values } metrics { key values steps timestamps } } }"
)
HISTORIES = """
query($runIds: [ID!]!, $keys: [String!], $maxPoints: Int) {
  metricHistories(runIds: $runIds, keys: $keys, maxPoints: $maxPoints) {
    runId key steps timestamps values downsampled totalPoints
  }
}"""
SMALL_QUERY = "{ experiments(first: 1) { totalCount } }"


def metric_batches(
    total: int, size: int, rng: random.Random, keys: int = INGEST_KEYS
) -> list[dict[str, Any]]:
    """Columnar batches: `keys` metrics side by side, consecutive steps."""
    batches = []
    per_key = size // keys
    for b in range(total // size):
        step0 = b * per_key
        batch_keys, values, steps, stamps = [], [], [], []
        for step in range(step0, step0 + per_key):
            for k in range(keys):
                batch_keys.append(f"m{k}")
                values.append(rng.random())
                steps.append(step)
                stamps.append(TIMESTAMP_ORIGIN_MS + step)
        batches.append({"keys": batch_keys, "values": values, "steps": steps, "timestamps": stamps})
    return batches


def run_params(i: int) -> list[dict[str, str]]:
    params = param_values(i)
    assert len(params) == N_PARAMS
    return [{"key": k, "value": v} for k, v in params.items()]


class Side:
    """What mltrail's steps share; the same step names as ``_mlflow_side.Side``."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.gql = Gql(url)
        self.rng = random.Random(42)
        self.run_ids: list[str] = []  # the search's runs, created by _search.create
        self.hist_ids: list[str] = []  # the histories' runs, created by _histories.setup
        self.search_vars: dict[str, Any] = {}
        self.all_vars: dict[str, Any] = {}
        self.hist_vars: dict[str, Any] = {}
        self.search_total = 0

    def experiment(self, name: str) -> str:
        return self.gql(CREATE_EXPERIMENT, {"name": name})["createExperiment"]["id"]

    def new_run(self, experiment_id: str, name: str) -> str:
        return self.gql(CREATE_RUN, {"experimentId": experiment_id, "name": name})["createRun"]["id"]

    def setup(self) -> None:
        self.exp_ingest = self.experiment("ingest")
        self.exp_search = self.experiment("search")
        self.exp_hist = self.experiment("histories")
        self.exp_warm = self.experiment("warmup")
        # Warm-up: one batch of each size on a throwaway run (first-request costs are not ingest).
        warm = self.new_run(self.exp_ingest, "warmup")
        batches = metric_batches(11_000, 1_000, self.rng)[:1] + metric_batches(10_000, 10_000, self.rng)
        for n, batch in enumerate(batches):
            self.gql(LOG_BATCH, {"runId": warm, "batchId": f"warm-{n}", "metrics": batch})
        for i in range(20):  # and run creation with params, in an experiment of its own
            self.gql(CREATE_RUN, {"experimentId": self.exp_warm, "name": f"w{i}", "params": run_params(i)})

    def close(self) -> None:
        self.gql.close()
