"""GraphQL documents of the registry client (`mltrail._registry`), checked against schema.graphql
by tests/client/test_registry_client.py."""

from __future__ import annotations

_VERSION_FIELDS = """name version stage aliases source runId gitCommit description createdAt updatedAt
  createdBy tags { key value } datasets { name digest source sourceType context }"""
_CHANGE_FIELDS = (
    "id kind version fromStage toStage alias fromVersion toVersion requestId user comment timestamp"
)
_MODEL_FIELDS = f"""name description createdAt updatedAt createdBy protectedStages protectedAliases
  tags {{ key value }} aliases {{ alias version }} latestVersions {{ {_VERSION_FIELDS} }}"""
_REQUEST_FIELDS = """id name version stage alias archiveExisting status requestedBy requestedAt comment
  decidedBy decidedAt decisionComment"""

CREATE_REGISTERED_MODEL = f"""mutation MltrailCreateRegisteredModel($name: String!, $description: String,
  $tags: [TagInput!], $protectedStages: [Stage!], $protectedAliases: [String!]) {{
  createRegisteredModel(name: $name, description: $description, tags: $tags,
    protectedStages: $protectedStages, protectedAliases: $protectedAliases) {{ {_MODEL_FIELDS} }} }}"""
GET_REGISTERED_MODEL = f"""query MltrailRegisteredModel($name: String!) {{
  registeredModel(name: $name) {{ {_MODEL_FIELDS} }} }}"""
SEARCH_REGISTERED_MODELS = f"""query MltrailRegisteredModels($filter: String, $first: Int, $after: String) {{
  registeredModels(filter: $filter, first: $first, after: $after) {{
    pageInfo {{ endCursor hasNextPage }} nodes {{ {_MODEL_FIELDS} }} }} }}"""
UPDATE_REGISTERED_MODEL = f"""mutation MltrailUpdateRegisteredModel($name: String!, $description: String,
  $protectedStages: [Stage!], $protectedAliases: [String!], $comment: String) {{
  updateRegisteredModel(name: $name, description: $description, protectedStages: $protectedStages,
    protectedAliases: $protectedAliases, comment: $comment) {{ {_MODEL_FIELDS} }} }}"""
DELETE_REGISTERED_MODEL = """mutation MltrailDeleteRegisteredModel($name: String!, $comment: String) {
  deleteRegisteredModel(name: $name, comment: $comment) }"""
SET_REGISTERED_MODEL_TAG = """mutation MltrailSetRegisteredModelTag($name: String!, $key: String!, $value: String!) {
  setRegisteredModelTag(name: $name, key: $key, value: $value) { key } }"""
DELETE_REGISTERED_MODEL_TAG = """mutation MltrailDeleteRegisteredModelTag($name: String!, $key: String!) {
  deleteRegisteredModelTag(name: $name, key: $key) }"""
CREATE_MODEL_VERSION = f"""mutation MltrailCreateModelVersion($name: String!, $source: String!, $runId: ID,
  $description: String, $tags: [TagInput!]) {{
  createModelVersion(name: $name, source: $source, runId: $runId, description: $description, tags: $tags) {{
    {_VERSION_FIELDS} }} }}"""
GET_MODEL_VERSION = f"""query MltrailGetModelVersion($name: String!, $version: Int, $stage: Stage, $alias: String) {{
  modelVersion(name: $name, version: $version, stage: $stage, alias: $alias) {{ {_VERSION_FIELDS} }} }}"""
SEARCH_MODEL_VERSIONS = f"""query MltrailModelVersions($name: String, $runId: ID, $stage: Stage, $alias: String,
  $tags: [TagInput!], $first: Int, $after: String) {{
  modelVersions(name: $name, runId: $runId, stage: $stage, alias: $alias, tags: $tags, first: $first,
    after: $after) {{ pageInfo {{ endCursor hasNextPage }} nodes {{ {_VERSION_FIELDS} }} }} }}"""
UPDATE_MODEL_VERSION = f"""mutation MltrailUpdateModelVersion($name: String!, $version: Int!, $description: String!,
  $comment: String) {{
  updateModelVersion(name: $name, version: $version, description: $description, comment: $comment) {{
    {_VERSION_FIELDS} }} }}"""
DELETE_MODEL_VERSION = """mutation MltrailDeleteModelVersion($name: String!, $version: Int!, $comment: String) {
  deleteModelVersion(name: $name, version: $version, comment: $comment) }"""
SET_MODEL_VERSION_TAG = """mutation MltrailSetModelVersionTag($name: String!, $version: Int!, $key: String!,
  $value: String!) { setModelVersionTag(name: $name, version: $version, key: $key, value: $value) { key } }"""
DELETE_MODEL_VERSION_TAG = """mutation MltrailDeleteModelVersionTag($name: String!, $version: Int!, $key: String!) {
  deleteModelVersionTag(name: $name, version: $version, key: $key) }"""
TRANSITION_STAGE = f"""mutation MltrailTransitionStage($name: String!, $version: Int!, $stage: Stage!,
  $comment: String, $archiveExisting: Boolean!) {{
  transitionModelVersionStage(name: $name, version: $version, stage: $stage, comment: $comment,
    archiveExisting: $archiveExisting) {{ {_VERSION_FIELDS} }} }}"""
SET_ALIAS = f"""mutation MltrailSetAlias($name: String!, $alias: String!, $version: Int!, $comment: String) {{
  setModelVersionAlias(name: $name, alias: $alias, version: $version, comment: $comment) {{
    {_VERSION_FIELDS} }} }}"""
DELETE_ALIAS = """mutation MltrailDeleteAlias($name: String!, $alias: String!, $comment: String) {
  deleteModelVersionAlias(name: $name, alias: $alias, comment: $comment) }"""
REQUEST_TRANSITION = f"""mutation MltrailRequestTransition($name: String!, $version: Int!, $stage: Stage,
  $alias: String, $comment: String, $archiveExisting: Boolean!) {{
  requestTransition(name: $name, version: $version, stage: $stage, alias: $alias, comment: $comment,
    archiveExisting: $archiveExisting) {{ {_REQUEST_FIELDS} }} }}"""
APPROVE_TRANSITION = f"""mutation MltrailApproveTransition($id: ID!, $comment: String) {{
  approveTransition(id: $id, comment: $comment) {{ {_REQUEST_FIELDS} }} }}"""
REJECT_TRANSITION = f"""mutation MltrailRejectTransition($id: ID!, $comment: String) {{
  rejectTransition(id: $id, comment: $comment) {{ {_REQUEST_FIELDS} }} }}"""
TRANSITION_REQUESTS = f"""query MltrailTransitionRequests($name: String, $requestedBy: String,
  $status: RequestStatus) {{
  transitionRequests(name: $name, requestedBy: $requestedBy, status: $status) {{ {_REQUEST_FIELDS} }} }}"""
MODEL_HISTORY = f"""query MltrailModelHistory($name: String!) {{
  registeredModel(name: $name) {{ history {{ {_CHANGE_FIELDS} }} }} }}"""
VERSION_HISTORY = f"""query MltrailVersionHistory($name: String!, $version: Int!) {{
  modelVersion(name: $name, version: $version) {{ history {{ {_CHANGE_FIELDS} }} }} }}"""
VERSION_AT = f"""query MltrailVersionAt($name: String!, $time: Long!, $stage: Stage, $alias: String) {{
  registeredModel(name: $name) {{ versionAt(time: $time, stage: $stage, alias: $alias) {{ {_VERSION_FIELDS} }} }} }}"""
REGISTRY_EVENTS = f"""subscription MltrailRegistryEvents($name: String) {{
  registryEvents(name: $name) {{ name missed change {{ {_CHANGE_FIELDS} }} }} }}"""

DOCUMENTS = (
    CREATE_REGISTERED_MODEL, GET_REGISTERED_MODEL, SEARCH_REGISTERED_MODELS, UPDATE_REGISTERED_MODEL,
    DELETE_REGISTERED_MODEL, SET_REGISTERED_MODEL_TAG, DELETE_REGISTERED_MODEL_TAG, CREATE_MODEL_VERSION,
    GET_MODEL_VERSION, SEARCH_MODEL_VERSIONS, UPDATE_MODEL_VERSION, DELETE_MODEL_VERSION, SET_MODEL_VERSION_TAG,
    DELETE_MODEL_VERSION_TAG, TRANSITION_STAGE, SET_ALIAS, DELETE_ALIAS, REQUEST_TRANSITION, APPROVE_TRANSITION,
    REJECT_TRANSITION, TRANSITION_REQUESTS, MODEL_HISTORY, VERSION_HISTORY, VERSION_AT, REGISTRY_EVENTS,
)  # fmt: skip
