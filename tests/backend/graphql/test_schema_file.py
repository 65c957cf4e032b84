"""schema.graphql is the contract: it must match what the code exports."""

from __future__ import annotations

from pathlib import Path

from mltrail_server.graphql.schema import export_sdl

REPO = Path(__file__).resolve().parents[3]


def test_checked_in_schema_is_current():
    checked_in = (REPO / "schema.graphql").read_text()
    assert checked_in == export_sdl(), (
        "schema.graphql is stale: run `make schema` (python -m mltrail_server.graphql.export) and commit it"
    )
