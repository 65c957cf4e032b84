"""The model being served, and how it follows the registry.

`ModelSlot.current` is one `ServedModel`; a request reads it once and keeps that reference
for its whole life, so a swap (one attribute assignment, atomic under the GIL) never hands a
request a half-loaded model: the new version is loaded and warmed up *beside* the old one, and
requests already running finish on the old one.

`RegistryFollower` keeps the slot on the version a stage, an alias or ``latest`` names:

- a subscriber thread listens to the tracking server's ``registryEvents`` for the model over
  WebSocket; each event wakes the refresher;
- the refresher thread asks ``modelVersion`` which version the URI names now and, when it
  changed, loads and swaps. It also polls on its own: every ``poll_interval`` seconds while
  the subscription is down (the fallback), and every ``idle_interval`` while it is up (to
  close the short window between a reconnect and the subscription reaching the server).

Refreshes are serialized, and each one resolves before it loads, so the last one to run
installs what the registry says last: a rollback quickly after a promotion ends on the
rolled-back version, never on a stale one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mltrail.models import LoadedModel, ModelsUri, load_model, parse_model_uri

log = logging.getLogger("mltrail.serving")


@dataclass(frozen=True)
class ServedModel:
    """One loaded version and what ``GET /version`` says about it."""

    model: LoadedModel
    model_uri: str  # what the server was asked to serve (models:/Churn/Production)
    name: str | None
    version: int | None
    stage: str | None
    aliases: list[str]
    run_id: str | None
    source: str | None
    loaded_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="milliseconds"))

    def describe(self) -> dict[str, Any]:
        return {
            "model_uri": self.model_uri,
            "name": self.name,
            "version": self.version,
            "stage": self.stage,
            "aliases": self.aliases,
            "run_id": self.run_id,
            "source": self.source,
            "loaded_at": self.loaded_at,
            "flavors": self.model.metadata.flavor_names,
        }


def _served(model: LoadedModel, model_uri: str) -> ServedModel:
    registered = model.registered_version or {}
    return ServedModel(
        model=model,
        model_uri=model_uri,
        name=registered.get("name"),
        version=registered.get("version"),
        stage=registered.get("stage"),
        aliases=list(registered.get("aliases") or []),
        run_id=registered.get("runId") or model.metadata.run_id,
        source=registered.get("source"),
    )


def _warm_up(model: LoadedModel) -> None:
    """One prediction on the logged example before the swap, so the first request a new version
    answers does not pay for lazy imports and caches. Failure here is logged, not fatal: the
    example is a convenience, the model is what was registered."""
    try:
        example = model.input_example
        if example is not None:
            model.predict(example)
    except Exception as error:  # the model's own code: anything can happen
        log.warning("warm-up prediction of %s failed: %s", model.model_uri, error)


class ModelSlot:
    """The served model, swapped atomically; ``on_swap`` is called after each swap."""

    def __init__(
        self, model_uri: str, tracking_uri: str | None, on_swap: Callable[[ServedModel], None] | None = None
    ):
        self.model_uri = model_uri
        self.tracking_uri = tracking_uri
        self._on_swap = on_swap
        self._refresh_lock = threading.Lock()
        self.current: ServedModel = self._load(model_uri)
        parsed = None if "://" in model_uri or ":" not in model_uri else parse_model_uri(model_uri)
        # Stages, aliases and "latest" move; a version number or a run's files do not.
        self.follows: ModelsUri | None = (
            parsed if isinstance(parsed, ModelsUri) and parsed.version is None else None
        )

    def _load(self, uri: str) -> ServedModel:
        model = load_model(uri, tracking_uri=self.tracking_uri)
        _warm_up(model)
        return _served(model, self.model_uri)

    def refresh(self) -> bool:
        """Load and swap in the version the URI names now, if it changed; True when swapped."""
        if self.follows is None or self.tracking_uri is None:
            return False
        from mltrail.models._remote import resolve_models_uri

        with self._refresh_lock:
            _, version = resolve_models_uri(self.tracking_uri, self.follows, model_uri=self.model_uri)
            current = self.current
            if version.get("version") == current.version:
                if (
                    version.get("stage") != current.stage
                    or list(version.get("aliases") or []) != current.aliases
                ):
                    # Same files, new labels (e.g. its alias moved away and back): no reload.
                    self.current = ServedModel(
                        **{
                            **current.__dict__,
                            "stage": version.get("stage"),
                            "aliases": list(version.get("aliases") or []),
                        }
                    )
                return False
            # Pinned by number: the registry may move again while the files download, and the
            # next refresh (woken by that event) will see it.
            pinned = f"models:/{self.follows.name}/{version['version']}"
            model = load_model(pinned, tracking_uri=self.tracking_uri)
            _warm_up(model)
            model.registered_version = version
            new = _served(model, self.model_uri)
            self.current = new  # the swap: one reference assignment
            log.info("now serving %s version %s (%s)", new.name, new.version, new.stage)
        if self._on_swap is not None:
            self._on_swap(new)
        return True


class RegistryFollower:
    """Keeps a `ModelSlot` on what the registry says, through events with polling as fallback."""

    def __init__(self, slot: ModelSlot, *, poll_interval: float = 2.0, idle_interval: float = 10.0) -> None:
        self.slot = slot
        self.poll_interval = poll_interval
        self.idle_interval = idle_interval
        self.subscribed = threading.Event()  # set while the WebSocket subscription is up
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        if self.slot.follows is None:
            return
        for target, name in ((self._refresh_loop, "refresher"), (self._subscribe_loop, "subscriber")):
            thread = threading.Thread(target=target, name=f"mltrail-serving-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def _refresh_loop(self) -> None:
        while not self._stop.is_set():
            interval = self.idle_interval if self.subscribed.is_set() else self.poll_interval
            self._wake.wait(interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.slot.refresh()
            except Exception as error:  # the tracking server may be down: keep serving, retry
                log.warning("registry check for %s failed: %s", self.slot.model_uri, error)

    def _subscribe_loop(self) -> None:
        from mltrail._registry_documents import REGISTRY_EVENTS
        from mltrail._transport import subscribe

        assert self.slot.follows is not None and self.slot.tracking_uri is not None
        while not self._stop.is_set():
            try:
                events = subscribe(
                    self.slot.tracking_uri,
                    REGISTRY_EVENTS,
                    {"name": self.slot.follows.name},
                    on_connected=self._connected,
                )
                for _event in events:
                    self._wake.set()
                    if self._stop.is_set():
                        events.close()
                        return
            except Exception as error:
                log.info("registry subscription down (%s); polling every %ss", error, self.poll_interval)
            self.subscribed.clear()
            self._stop.wait(self.poll_interval)

    def _connected(self) -> None:
        self.subscribed.set()
        self._wake.set()  # whatever changed while disconnected is picked up now
