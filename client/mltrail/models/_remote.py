"""The server side of loading: one GraphQL connection per tracking URI, and ``models:/`` resolution.

A ``models:/`` URI names a registered version by number, stage, alias or ``latest``; the
registry's ``modelVersion`` query says which version that is now and where its files are
(``source``, a ``runs:/`` URI recorded when the version was created). Stages and aliases move,
so they are resolved on every load; the files themselves are cached by content (`_cache`).
"""

from __future__ import annotations

import threading

from mltrail._exceptions import InvalidArgument, NotFound
from mltrail._transport import GraphQLTransport
from mltrail.models._uri import ModelsUri, RunsUri, parse_model_uri

# The registry's contract (REGISTRY_CONTRACT.md): exactly one of version / stage / alias, or
# none of them for the latest live version; NOT_FOUND when the model or version is missing.
MODEL_VERSION_QUERY = """
query MltrailModelVersion($name: String!, $version: Int, $stage: Stage, $alias: String) {
  modelVersion(name: $name, version: $version, stage: $stage, alias: $alias) {
    name version stage aliases source runId
  }
}
"""

_transports: dict[str, GraphQLTransport] = {}
_transports_lock = threading.Lock()


def transport_for(tracking_uri: str) -> GraphQLTransport:
    """A long-lived connection to ``tracking_uri``: a cached load costs one round trip, not a
    new connection (the ``load_model`` budget for a cached version is 50 ms)."""
    with _transports_lock:
        transport = _transports.get(tracking_uri)
        if transport is None:
            transport = _transports[tracking_uri] = GraphQLTransport(tracking_uri)
        return transport


def resolve_models_uri(tracking_uri: str, uri: ModelsUri, *, model_uri: str) -> tuple[RunsUri, dict]:
    """The ``runs:/`` source of the version a ``models:/`` URI names now, and the version itself."""
    data = transport_for(tracking_uri).execute(MODEL_VERSION_QUERY, uri.graphql_variables())
    version = data.get("modelVersion")
    if version is None:
        raise NotFound(f"model_uri {model_uri!r}: no such registered model version")
    source = version.get("source") or ""
    try:
        resolved = parse_model_uri(source)
    except InvalidArgument:
        resolved = None
    if not isinstance(resolved, RunsUri):
        raise InvalidArgument(
            f"model_uri {model_uri!r}: version {version.get('version')} has source {source!r}; "
            "only runs:/ sources can be loaded"
        )
    return resolved, version
