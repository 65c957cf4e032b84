"""GraphQL documents and small builders the backend tests share."""

from __future__ import annotations

from typing import Any

CREATE_EXPERIMENT = """
mutation($name: String!, $description: String, $tags: [TagInput!]) {
  createExperiment(name: $name, description: $description, tags: $tags) { id name description artifactLocation }
}"""

CREATE_RUN = """
mutation($experimentId: ID, $experimentName: String, $runId: ID, $name: String, $parentRunId: ID,
         $startTime: Long, $tags: [TagInput!]) {
  createRun(experimentId: $experimentId, experimentName: $experimentName, runId: $runId, name: $name,
            parentRunId: $parentRunId, startTime: $startTime, tags: $tags) {
    id name status startTime experimentId artifactUri parentId
  }
}"""

LOG_BATCH = """
mutation($runId: ID!, $batchId: String, $metrics: MetricBatchInput, $params: [ParamInput!], $tags: [TagInput!]) {
  logBatch(runId: $runId, batchId: $batchId, metrics: $metrics, params: $params, tags: $tags) {
    runId batchId duplicate metricsWritten paramsWritten tagsWritten
  }
}"""

HISTORIES = """
query($runIds: [ID!]!, $keys: [String!], $maxPoints: Int, $minStep: Long, $maxStep: Long) {
  metricHistories(runIds: $runIds, keys: $keys, maxPoints: $maxPoints, minStep: $minStep, maxStep: $maxStep) {
    runId key steps timestamps values downsampled totalPoints
  }
}"""

SEARCH = """
query($experimentIds: [ID!], $filter: String, $orderBy: [String!], $first: Int, $after: String) {
  runs(experimentIds: $experimentIds, filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount
    pageInfo { endCursor hasNextPage }
    nodes { id name }
  }
}"""


def metrics(
    key: str, values: list[Any], *, start_step: int = 0, ts: int = 1_700_000_000_000
) -> dict[str, Any]:
    n = len(values)
    return {
        "keys": [key] * n,
        "values": values,
        "steps": list(range(start_step, start_step + n)),
        "timestamps": [ts + i for i in range(n)],
    }


async def new_experiment(gql: Any, name: str = "exp") -> str:
    return (await gql.ok(CREATE_EXPERIMENT, {"name": name}))["createExperiment"]["id"]


async def new_run(gql: Any, experiment_id: str, **kw: Any) -> str:
    data = await gql.ok(CREATE_RUN, {"experimentId": experiment_id, **kw})
    return data["createRun"]["id"]
