"""The GraphQL documents the client sends, written against `schema.graphql`.

Every value travels as a variable: the server caches parsed and validated documents, and
data inlined into a document would defeat that cache (and need escaping).
"""

from __future__ import annotations

EXPERIMENT_FIELDS = """
fragment ExperimentFields on Experiment {
  id name description createdAt updatedAt lastActivity deleted deletedAt artifactLocation runCount
  tags { key value }
}
"""

# `environment` (it can hold hundreds of package names) is fetched only by `get_run`.
RUN_FIELDS = """
fragment RunFields on Run {
  id name experimentId status startTime endTime user parentId artifactUri deleted deletedAt
  params { key value }
  tags { key value }
  latestMetrics { key value step timestamp min max count }
  inputs { name digest source sourceType schema profile context }
  source { entryPoint gitCommit gitBranch gitDirty gitRemote }
}
"""

GET_EXPERIMENT_BY_ID = (
    "query GetExperiment($id: ID) { experiment(id: $id) { ...ExperimentFields } }" + EXPERIMENT_FIELDS
)
GET_EXPERIMENT_BY_NAME = (
    "query GetExperimentByName($name: String) { experiment(name: $name) { ...ExperimentFields } }"
    + EXPERIMENT_FIELDS
)
SEARCH_EXPERIMENTS = (
    """
query SearchExperiments($filter: String, $first: Int, $after: String, $includeDeleted: Boolean) {
  experiments(filter: $filter, first: $first, after: $after, includeDeleted: $includeDeleted) {
    nodes { ...ExperimentFields }
    pageInfo { endCursor hasNextPage }
    totalCount
  }
}"""
    + EXPERIMENT_FIELDS
)
CREATE_EXPERIMENT = (
    """
mutation CreateExperiment($name: String!, $description: String, $tags: [TagInput!]) {
  createExperiment(name: $name, description: $description, tags: $tags) { ...ExperimentFields }
}"""
    + EXPERIMENT_FIELDS
)
DELETE_EXPERIMENT = "mutation DeleteExperiment($id: ID!) { deleteExperiment(id: $id) { id deleted } }"
RESTORE_EXPERIMENT = "mutation RestoreExperiment($id: ID!) { restoreExperiment(id: $id) { id deleted } }"
SET_EXPERIMENT_TAG = (
    "mutation SetExperimentTag($experimentId: ID!, $key: String!, $value: String!) "
    "{ setTag(experimentId: $experimentId, key: $key, value: $value) { key value } }"
)

GET_RUN = "query GetRun($id: ID!) { run(id: $id) { ...RunFields environment } }" + RUN_FIELDS
SEARCH_RUNS = (
    """
query SearchRuns($experimentIds: [ID!], $filter: String, $orderBy: [String!], $first: Int,
                 $after: String, $viewType: ViewType) {
  runs(experimentIds: $experimentIds, filter: $filter, orderBy: $orderBy, first: $first,
       after: $after, viewType: $viewType) {
    nodes { ...RunFields }
    pageInfo { endCursor hasNextPage }
    totalCount
  }
}"""
    + RUN_FIELDS
)
# Only what `RunTable` keeps: the latest value of each metric (not its step or extremes).
RUN_TABLE = """
query RunTable($experimentIds: [ID!], $filter: String, $orderBy: [String!], $first: Int,
               $after: String, $viewType: ViewType!, $paramKeys: [String!], $metricKeys: [String!],
               $tagKeys: [String!]) {
  runTable(experimentIds: $experimentIds, filter: $filter, orderBy: $orderBy, first: $first,
           after: $after, viewType: $viewType, paramKeys: $paramKeys, metricKeys: $metricKeys,
           tagKeys: $tagKeys) {
    runIds experimentIds names statuses users startTimes endTimes parentIds artifactUris
    params { key values }
    metrics { key values }
    tags { key values }
    pageInfo { endCursor hasNextPage }
  }
}"""
METRIC_HISTORIES = """
query MetricHistories($runIds: [ID!]!, $keys: [String!], $maxPoints: Int) {
  metricHistories(runIds: $runIds, keys: $keys, maxPoints: $maxPoints) {
    runId key steps timestamps values downsampled totalPoints
  }
}"""

# Over WebSocket (graphql-transport-ws): one event per stored logBatch.
METRICS_LOGGED = """
subscription MetricsLogged($runIds: [ID!], $experimentId: ID) {
  metricsLogged(runIds: $runIds, experimentId: $experimentId) {
    runId experimentId batchId keys steps timestamps values missed
  }
}"""

# The operations below can be queued and replayed from the spool, so each is idempotent:
# createRun on the client-chosen runId (its params too: the same values again are a no-op),
# logBatch on (runId, batchId), updateRun and logInputs by their nature.
CREATE_RUN = """
mutation CreateRun($runId: ID, $experimentId: ID, $experimentName: String, $name: String,
                   $tags: [TagInput!], $params: [ParamInput!], $parentRunId: ID, $startTime: Long,
                   $user: String, $source: RunSourceInput, $environment: JSON) {
  createRun(runId: $runId, experimentId: $experimentId, experimentName: $experimentName, name: $name,
            tags: $tags, params: $params, parentRunId: $parentRunId, startTime: $startTime,
            user: $user, source: $source, environment: $environment) {
    id name experimentId status startTime artifactUri
  }
}"""
UPDATE_RUN = """
mutation UpdateRun($id: ID!, $status: RunStatus, $endTime: Long, $name: String) {
  updateRun(id: $id, status: $status, endTime: $endTime, name: $name) { id status endTime }
}"""
LOG_BATCH = """
mutation LogBatch($runId: ID!, $batchId: String, $metrics: MetricBatchInput, $params: [ParamInput!],
                  $tags: [TagInput!]) {
  logBatch(runId: $runId, batchId: $batchId, metrics: $metrics, params: $params, tags: $tags) {
    duplicate metricsWritten
  }
}"""
LOG_INPUTS = """
mutation LogInputs($runId: ID!, $datasets: [DatasetSpec!]!) {
  logInputs(runId: $runId, datasets: $datasets) { id }
}"""

DELETE_RUN = "mutation DeleteRun($id: ID!) { deleteRun(id: $id) { id deleted } }"
RESTORE_RUN = "mutation RestoreRun($id: ID!) { restoreRun(id: $id) { id deleted } }"
DELETE_RUN_TAG = "mutation DeleteRunTag($runId: ID!, $key: String!) { deleteTag(runId: $runId, key: $key) }"

# Operations the spool may hold, by the name stored in each record.
QUEUED_OPERATIONS = {
    "createRun": CREATE_RUN,
    "updateRun": UPDATE_RUN,
    "logBatch": LOG_BATCH,
    "logInputs": LOG_INPUTS,
}
