"""Which ``Host`` names the server answers to, and which page origins may open its WebSocket.

DNS rebinding: a page on ``evil.example`` re-points that name at 127.0.0.1 and then talks to a
local server as "same origin", with every cookie and no CORS in the way. The one thing it
cannot change is the ``Host`` header, which carries its own name. So a request is served only
when its host is

- a loopback name (``localhost``, ``*.localhost``), or an IP literal: a page can only be served
  from an IP address by that address itself, so an IP literal never names a rebinding domain
  (this also keeps load-balancer probes that use the pod's address working);
- the host the server is bound to, when that is a name;
- one of ``allowed_hosts`` (``--allowed-hosts`` / ``MLTRAIL_ALLOWED_HOSTS``, comma-separated;
  ``*.example.com`` matches subdomains; ``*`` accepts any host).

Anything else gets ``400`` (HTTP) or a refused handshake (WebSocket) before any route runs.
Starlette's ``TrustedHostMiddleware`` does the matching part, but it has no notion of IP
literals, answers plain text rather than our JSON error, and redirects ``www.``.

WebSocket origins: strawberry accepts same-origin handshakes (Origin matches Host) and calls
``origin_allowed`` for the others; a page served under one of the server's own names (the
dashboard at ``http://localhost:5000`` talking to ``127.0.0.1:5000``, or the Vite dev server on
``localhost:5173``) is accepted, any other site is not.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from mltrail_server.config import Settings

_WILDCARD_BINDS = {"", "0.0.0.0", "::", "[::]"}


class HostPolicy:
    """The set of host names one server answers to."""

    def __init__(self, settings: Settings) -> None:
        names = {"localhost"}
        if settings.host.lower() not in _WILDCARD_BINDS:
            names.add(settings.host.lower().strip("[]"))
        patterns = [h.strip().lower() for h in settings.allowed_hosts.split(",") if h.strip()]
        self.any_host = "*" in patterns
        self.suffixes = tuple(p[1:] for p in patterns if p.startswith("*."))  # ".example.com"
        self.names = frozenset(names | {p for p in patterns if not p.startswith("*")})

    def allows(self, host: str | None) -> bool:
        """Whether a ``Host`` header value (``name``, ``name:port``, ``[v6]:port``) is ours."""
        if self.any_host:
            return True
        name = host_name(host)
        if name is None:
            return False
        if name in self.names or name.endswith(".localhost"):
            return True
        if self.suffixes and name.endswith(self.suffixes):
            return True
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return False
        return True

    def origin_allowed(self, origin: str) -> bool:
        """Whether a page served from ``origin`` (scheme://host[:port]) is one of ours."""
        try:
            hostname = urlsplit(origin.strip()).hostname
        except ValueError:
            return False
        return hostname is not None and self.allows(hostname)


def host_name(host: str | None) -> str | None:
    """The name part of a ``Host`` header, lowercase, without port or IPv6 brackets."""
    if not host:
        return None
    host = host.strip().lower()
    if host.startswith("["):  # [v6] or [v6]:port
        end = host.find("]")
        return host[1:end] if end > 0 else None
    name, _, port = host.partition(":")
    if port and not port.isdigit():
        return None
    return name.rstrip(".") or None


class HostAllowList:
    """ASGI middleware: refuse requests whose ``Host`` is not one the server answers to."""

    def __init__(self, app: ASGIApp, policy: HostPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self.policy.any_host:
            await self.app(scope, receive, send)
            return
        host = None
        for name, value in scope["headers"]:
            if name == b"host":
                host = value.decode("latin-1")
                break
        if self.policy.allows(host):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            # Closing before accepting refuses the handshake (the server answers 403).
            await send({"type": "websocket.close", "code": 1008})
            return
        shown = (host or "")[:100]
        response = JSONResponse(
            {
                "errors": [
                    {
                        "message": f"Host {shown!r} is not one this server answers to; add it with "
                        "--allowed-hosts / MLTRAIL_ALLOWED_HOSTS",
                        "extensions": {"code": "INVALID_ARGUMENT"},
                    }
                ]
            },
            status_code=400,
        )
        await response(scope, receive, send)
