"""Cursor keys: where the secret lives, and cursors surviving a restart but not another secret."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from mltrail_server.app import create_app
from mltrail_server.config import Settings
from mltrail_server.errors import InvalidArgument
from mltrail_server.services.pagination import CursorScope, decode_cursor, encode_cursor, use_cursor_secret

PAGE = "query($a: String) { experiments(first: 1, after: $a) { nodes { name } pageInfo { endCursor } } }"


async def first_page_cursor_then_next(settings: Settings, cursor: str | None) -> tuple[str, dict]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            if cursor is None:
                for name in ("a", "b"):
                    await http.post("/graphql", json={"query": f'mutation {{ createExperiment(name: "{name}") {{ id }} }}'})
            body = (await http.post("/graphql", json={"query": PAGE, "variables": {"a": cursor}})).json()
    end = body["data"]["experiments"]["pageInfo"]["endCursor"] if body.get("data") else ""
    return end, body


async def test_the_generated_key_survives_a_restart_and_a_new_secret_refuses_old_cursors(tmp_path: Path) -> None:
    settings = Settings(data_dir=str(tmp_path / "data"), static_dir=None)
    cursor, _ = await first_page_cursor_then_next(settings, None)
    key = tmp_path / "data" / "cursor.key"
    assert key.stat().st_mode & 0o777 == 0o600 and len(key.read_bytes()) == 64
    _, again = await first_page_cursor_then_next(settings, cursor)  # a restart: the same file
    assert again["data"]["experiments"]["nodes"] == [{"name": "a"}]
    rotated = Settings(data_dir=settings.data_dir, static_dir=None, cursor_secret="another secret")
    _, refused = await first_page_cursor_then_next(rotated, cursor)
    assert refused["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENT"


def test_the_secret_from_the_environment_wins_and_is_never_printed(tmp_path: Path) -> None:
    settings = Settings.from_env({"MLTRAIL_CURSOR_SECRET": "s3cret", "MLTRAIL_DATA_DIR": str(tmp_path)})
    assert settings.cursor_secret_bytes() == b"s3cret" and not (tmp_path / "cursor.key").exists()
    assert "s3cret" not in repr(settings)


def test_a_cursor_names_what_changed() -> None:
    use_cursor_secret(b"test")
    cursor = encode_cursor([5], CursorScope.of("experiments", filter="", includeDeleted=False))
    assert decode_cursor(cursor, 1, CursorScope.of("experiments", filter="", includeDeleted=False)) == [5]
    with pytest.raises(InvalidArgument, match="includeDeleted"):
        decode_cursor(cursor, 1, CursorScope.of("experiments", filter="", includeDeleted=True))
    with pytest.raises(InvalidArgument, match="issued by experiments, not runs"):
        decode_cursor(cursor, 1, CursorScope.of("runs"))
