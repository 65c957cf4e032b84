"""GraphQL for the client: `gql` over HTTP (one session per thread of use) and over WebSocket
for subscriptions, errors mapped to mltrail exceptions by code.

`gql` and `httpx` are imported on first use, not when `mltrail` is imported: together they
cost several hundred milliseconds of import time, and a training script that only wants
`mltrail.log_metric` should not wait for them before its first line runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Any

from mltrail._exceptions import ApiError, InternalError, ServerUnavailable, api_error

DEFAULT_TRACKING_URI = "http://127.0.0.1:5000"


def graphql_url(tracking_uri: str) -> str:
    """The GraphQL endpoint of a tracking server given by its base URI."""
    base = tracking_uri.rstrip("/")
    return base if base.endswith("/graphql") else base + "/graphql"


def request_headers(user: str | None = None) -> dict[str, str]:
    """Headers sent with every request: the client, the user (`MLTRAIL_USER` unless given;
    the server records it on registry changes) and credentials when configured."""
    from mltrail._version import client_version

    headers = {"User-Agent": f"mltrail-client/{client_version()}"}
    user = user or os.environ.get("MLTRAIL_USER")
    if user:
        headers["X-Mltrail-User"] = user
    token = os.environ.get("MLTRAIL_TRACKING_TOKEN")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


class GraphQLTransport:
    """A connection pool to one server's `/graphql`; safe to share, but calls are serialized.

    The background sender owns its own instance so that a slow synchronous call from the
    training thread never delays queued logging, and the other way round.
    """

    def __init__(
        self,
        tracking_uri: str,
        *,
        timeout: float = 30.0,
        connect_timeout: float = 5.0,
        user: str | None = None,
    ) -> None:
        self.tracking_uri = tracking_uri
        self.user = user
        self.url = graphql_url(tracking_uri)
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._lock = threading.Lock()
        self._client: Any = None
        self._session: Any = None
        _live_transports.add(self)

    def execute(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run one operation and return its `data`; raise ApiError or ServerUnavailable."""
        from gql.transport.exceptions import (
            TransportQueryError,
            TransportServerError,
        )

        request = _prepared_request(document, variables)
        with self._lock:
            session = self._connect()
            try:
                return session.execute(request)
            except TransportQueryError as error:
                raise _error_from_graphql(error.errors) from None
            except TransportServerError as error:
                self._disconnect()
                raise _error_from_http_status(error.code, str(error)) from None
            except Exception as error:
                # Connection refused or reset, timeouts, a proxy's HTML page: the server did
                # not answer with GraphQL. Drop the pool so the next call reconnects cleanly
                # (a restarted server leaves stale keep-alive connections behind).
                self._disconnect()
                raise ServerUnavailable(f"{self.url}: {type(error).__name__}: {error}") from None

    def execute_json(self, document: str, variables_json: bytes) -> dict[str, Any]:
        """Like `execute`, with the variables already serialized (the spool's bytes).

        The bulk path of queued logging: the JSON journaled in the spool is the request body,
        so metric values are encoded once (gql would encode them a second time). Same
        connection pool, same error mapping.
        """
        import orjson

        body = b'{"query":%s,"variables":%s}' % (orjson.dumps(document), variables_json)
        with self._lock:
            self._connect()
            try:
                response = self._client.transport.client.post(
                    self.url, content=body, headers={"Content-Type": "application/json"}
                )
            except Exception as error:
                self._disconnect()
                raise ServerUnavailable(f"{self.url}: {type(error).__name__}: {error}") from None
        try:
            result = orjson.loads(response.content)
        except ValueError:
            result = None
        if not isinstance(result, dict) or ("data" not in result and "errors" not in result):
            if response.status_code >= 400:
                raise _error_from_http_status(response.status_code, f"HTTP {response.status_code}")
            raise ServerUnavailable(f"{self.url}: not a GraphQL answer (HTTP {response.status_code})")
        if result.get("errors"):
            raise _error_from_graphql(result["errors"])
        return result.get("data") or {}

    def close(self) -> None:
        with self._lock:
            self._disconnect()

    def _connect(self) -> Any:
        if self._session is None:
            import httpx
            from gql import Client
            from gql.transport.httpx import HTTPXTransport

            transport = HTTPXTransport(
                url=self.url,
                timeout=httpx.Timeout(self._timeout, connect=self._connect_timeout),
                headers=request_headers(self.user),
            )
            self._client = Client(transport=transport, fetch_schema_from_transport=False)
            self._session = self._client.connect_sync()
        return self._session

    def _disconnect(self) -> None:
        if self._client is not None:
            try:
                self._client.close_sync()
            except Exception:  # closing a broken pool must not mask the original error
                pass
        self._client = None
        self._session = None


def subscribe(
    tracking_uri: str,
    document: str,
    variables: dict[str, Any] | None = None,
    *,
    on_connected: Callable[[], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Results of a GraphQL subscription over WebSocket (graphql-transport-ws), as they come.

    Runs gql's WebSocket transport on its own event loop; closing the generator (or leaving
    a `for` loop over it) closes the connection. ``on_connected`` is called once the
    connection is up (before any event), for callers that change behaviour while connected.
    """
    from gql import Client
    from gql.transport.exceptions import TransportQueryError
    from gql.transport.websockets import WebsocketsTransport

    url = graphql_url(tracking_uri)
    url = "ws" + url[4:] if url.startswith("http") else url  # http → ws, https → wss
    transport = WebsocketsTransport(
        url=url,
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        headers=request_headers(),
    )
    client = Client(transport=transport, fetch_schema_from_transport=False)
    # A private event loop, closed with the generator: gql's own sync wrapper leaves tasks
    # pending when a consumer leaves its loop early.
    loop = asyncio.new_event_loop()
    results = None
    try:
        try:
            session = loop.run_until_complete(client.connect_async())
        except Exception as error:
            raise ServerUnavailable(f"{url}: {type(error).__name__}: {error}") from None
        results = session.subscribe(_prepared_request(document, variables))
        if on_connected is not None:
            on_connected()
        while True:
            try:
                result = loop.run_until_complete(results.__anext__())
            except StopAsyncIteration:
                return
            except TransportQueryError as error:
                raise _error_from_graphql(error.errors) from None
            except Exception as error:
                if isinstance(error, (OSError, TimeoutError)) or type(error).__module__.startswith(
                    ("gql.", "websockets")
                ):
                    raise ServerUnavailable(f"{url}: {type(error).__name__}: {error}") from None
                raise
            yield result
    finally:
        with contextlib.suppress(Exception):
            if results is not None:
                loop.run_until_complete(results.aclose())
        with contextlib.suppress(Exception):
            loop.run_until_complete(client.close_async())
        with contextlib.suppress(Exception):
            loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


_live_transports: weakref.WeakSet[GraphQLTransport] = weakref.WeakSet()


def _forget_connections_after_fork() -> None:
    # A forked child must not talk over its parent's sockets (the bytes would interleave),
    # nor wait on a lock a parent thread held at fork time.
    for transport in list(_live_transports):
        transport._lock = threading.Lock()
        transport._client = None
        transport._session = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_connections_after_fork)


def _error_from_graphql(errors: list[Any] | None) -> ApiError:
    if not errors:
        return InternalError("the server reported an error without details")
    first = errors[0] if isinstance(errors[0], dict) else {"message": str(errors[0])}
    extensions = first.get("extensions") or {}
    message = str(first.get("message") or "unknown error")
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more error(s))"
    return api_error(message, extensions.get("code"), first.get("path"))


def _error_from_http_status(status: int | None, message: str) -> Exception:
    if status in (401, 403, 413, 429):
        code = {401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED"}.get(status, "RESOURCE_EXHAUSTED")
        return api_error(message, code)
    return ServerUnavailable(message)


_documents: dict[str, Any] = {}


def _prepared_request(document: str, variables: dict[str, Any] | None) -> Any:
    """A gql request for a document parsed once per process.

    gql re-prints the parsed document for every request; the client's documents are fixed
    strings, so the text is sent as written and parsing happens once.
    """
    request_class = _documents.get("")
    if request_class is None:
        from gql import GraphQLRequest

        class _PreparedRequest(GraphQLRequest):
            def __init__(self, node: Any, text: str, variable_values: dict[str, Any] | None) -> None:
                self.document = node
                self.text = text
                self.variable_values = variable_values
                self.operation_name = None
                self.extensions = None

            @property
            def payload(self) -> dict[str, Any]:
                payload: dict[str, Any] = {"query": self.text}
                if self.variable_values:
                    payload["variables"] = self.variable_values
                return payload

        request_class = _documents[""] = _PreparedRequest
    node = _documents.get(document)
    if node is None:
        from graphql import parse

        node = _documents[document] = parse(document)
    return request_class(node, document, variables)
