"""The model server: ``mltrail models serve models:/Churn/Production --port 5001``.

A small Starlette app (`_app`) that speaks MLflow's scoring protocol on ``POST /invocations``
(`_payload`), validates input against the model's signature (a 400 naming the column, never a
500), and, for a stage, an alias or ``latest``, follows the registry (`_slot`): registry events
over WebSocket, polling as the fallback, the new version loaded beside the old one and swapped
in atomically.

Why here, in the client package, and not in ``mltrail_server``: a model server is deployed
alone, many times, next to the application that calls it. It needs the model format
(``mltrail[models]``) and a web stack, but no database, no migrations, no artifact store and
none of the tracking server's settings; it talks to the tracking server over HTTP like any
client. Its extra, ``mltrail[serving]``, is ``models`` + starlette + uvicorn +
prometheus-client, and importing ``mltrail_server`` is never needed.
"""

from __future__ import annotations

from typing import Any

from mltrail.serving._batch import score_file
from mltrail.serving._slot import ModelSlot, RegistryFollower, ServedModel

__all__ = [
    "ModelSlot",
    "RegistryFollower",
    "ServedModel",
    "ServingSettings",
    "create_app",
    "score_file",
    "serve",
]


def __getattr__(name: str) -> Any:
    # The web stack loads only for serving: batch scoring (`score_file`) needs the model
    # format alone (``mltrail[models]``).
    if name in ("ServingSettings", "create_app", "serve"):
        from mltrail.serving import _app

        return getattr(_app, name)
    raise AttributeError(f"module 'mltrail.serving' has no attribute {name!r}")
