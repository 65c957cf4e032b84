"""A rejected item never takes its valid neighbours down with it (issue 10, break 2).

The attack: a param holding NUL answered INTERNAL on PostgreSQL, and the client, which only
split batches refused with item-level codes, dropped the whole queued batch — valid params
and a tag with it. Now the server refuses NUL with INVALID_ARGUMENT on both databases, and
the client splits a batch that keeps failing with INTERNAL as well, so only the bad item is
lost, with a warning naming it. Both against real server processes.
"""

from __future__ import annotations

import asyncio
import sqlite3
import warnings
from pathlib import Path

import pytest

import mltrail
from fixtures.databases import _connect
from mltrail import MltrailClient

from .conftest import ServerProcess


def _warnings_about(caught: list[warnings.WarningMessage], text: str) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, mltrail.MltrailWarning) and text in str(w.message)]


def test_a_nul_param_is_dropped_alone(client: MltrailClient, experiment_name: str) -> None:
    run = client.start_run(experiment_name=experiment_name)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # One queued batch: valid params and a tag around one value no database may hold.
        run.log_params({"lr": 0.1, "note": "a\u0000b", "epochs": 3})
        run.set_tag("team", "vision")
        for step in range(50):
            run.log_metric("loss", 1.0 / (step + 1), step=step)
        assert client.flush(60)
    stored = client.get_run(run.id)
    assert stored.params == {"lr": "0.1", "epochs": "3"}
    assert stored.tags["team"] == "vision"
    assert client.get_metric_history(run.id, "loss").steps == list(range(50))
    [rejection] = client.rejections
    assert (rejection.code, rejection.params, rejection.tags) == ("INVALID_ARGUMENT", 1, 0)
    assert "NUL" in rejection.message
    assert len(_warnings_about(caught, "param 'note'")) == 1
    run.end()


def _poison_params(own_server: ServerProcess, store_uri: str | None, data_dir: Path) -> None:
    """A trigger that fails every insert of the param value 'poison': an item the database
    cannot store, which the server can only answer with INTERNAL."""
    if store_uri is None:
        with sqlite3.connect(data_dir / "mltrail.db") as conn:
            conn.execute(
                "CREATE TRIGGER poison BEFORE INSERT ON params WHEN NEW.value = 'poison' "
                "BEGIN SELECT RAISE(ABORT, 'poisoned param'); END"
            )
        return

    async def create() -> None:
        conn = await _connect(store_uri)
        try:
            await conn.execute(
                "CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN "
                "IF NEW.value = 'poison' THEN RAISE EXCEPTION 'poisoned param'; END IF; RETURN NEW; "
                "END $$ LANGUAGE plpgsql"
            )
            await conn.execute("CREATE TRIGGER poison BEFORE INSERT ON params FOR EACH ROW EXECUTE FUNCTION poison()")
        finally:
            await conn.close()

    asyncio.run(create())


@pytest.mark.parametrize("own_backend", ["sqlite", "postgres"])
def test_a_batch_failing_with_internal_is_split_to_the_bad_item(
    own_server: ServerProcess, own_backend: str, spool_dir: Path, tmp_path: Path
) -> None:
    own_server.start()
    store_uri = None if own_backend == "sqlite" else _store_uri_of(own_server)
    _poison_params(own_server, store_uri, tmp_path / "data")
    client = MltrailClient(own_server.url, spool_dir=spool_dir, capture_environment=False, retry_max_delay=0.2)
    run = client.start_run(experiment_name="poison")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run.log_params({"a": 1, "b": "poison", "c": 3, "d": 4})
        run.set_tags({"kept": "yes", "also": "kept"})
        assert client.flush(60)
    stored = client.get_run(run.id)
    assert stored.params == {"a": "1", "c": "3", "d": "4"}
    assert stored.tags["kept"] == "yes" and stored.tags["also"] == "kept"
    [rejection] = client.rejections
    assert (rejection.code, rejection.params, rejection.tags) == ("INTERNAL", 1, 0)
    assert len(_warnings_about(caught, "param 'b'")) == 1
    client.close()


def _store_uri_of(server: ServerProcess) -> str:
    return server.args[server.args.index("--backend-store-uri") + 1]
