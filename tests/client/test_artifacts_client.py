"""Client artifact transfers against ``mltrail server`` on a real port.

Three servers: local artifacts, S3 proxied (the server streams bytes through) and S3 direct
(the server hands out presigned URLs and the client talks to S3 itself). S3 is moto's
standalone server on loopback.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from mltrail import _artifacts
from mltrail._exceptions import InvalidArgument, NotFound, ResourceExhausted

MiB = 1024 * 1024
S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
MAX_UPLOAD_BYTES = 40 * MiB


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_answers(url: str, process: subprocess.Popen[bytes], log: Path | None = None) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: exited early\n{log.read_text()[-3000:] if log else ''}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code < 500:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer in 30s")


@contextlib.contextmanager
def subprocess_server(args: list[str], env: dict[str, str], ready_url: str, log: Path) -> Iterator[None]:
    with log.open("ab") as out:
        process = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_answers(ready_url, process, log)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env = {**os.environ, **S3_ENV}
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with subprocess_server(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], env, endpoint, log
    ):
        yield endpoint


@dataclass
class Server:
    kind: str
    url: str
    artifact_dir: Path | None  # local artifacts, to look for leftovers

    def create_run(self) -> str:
        response = httpx.post(
            f"{self.url}/graphql",
            json={"query": 'mutation { createRun(experimentName: "artifacts") { id } }'},
            timeout=30,
        )
        return response.json()["data"]["createRun"]["id"]


@pytest.fixture(scope="module", params=["local", "s3", "s3-direct"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    kind = request.param
    tmp = tmp_path_factory.mktemp(f"server-{kind}")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLTRAIL_")}
    env["MLTRAIL_MAX_UPLOAD_BYTES"] = str(MAX_UPLOAD_BYTES)
    args = [
        sys.executable, "-m", "mltrail.cli", "server", "--host", "127.0.0.1", "--port", str(port),
        "--data-dir", str(tmp / "data"), "--log-level", "warning",
    ]  # fmt: skip
    artifact_dir: Path | None = tmp / "data" / "artifacts"
    if kind.startswith("s3"):
        endpoint = request.getfixturevalue("s3_endpoint")
        bucket = f"client-{uuid.uuid4().hex[:10]}"
        httpx.put(f"{endpoint}/{bucket}", timeout=10).raise_for_status()
        env.update(S3_ENV, MLTRAIL_S3_ENDPOINT_URL=endpoint)
        args += ["--artifact-root", f"s3://{bucket}/runs"]
        if kind == "s3-direct":
            args += ["--artifact-mode", "direct"]
        artifact_dir = None
    url = f"http://127.0.0.1:{port}"
    with subprocess_server(args, env, f"{url}/healthz", tmp / "server.log"):
        yield Server(kind, url, artifact_dir)


@pytest.fixture(autouse=True)
def _aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    # Direct mode: the client talks to S3 with presigned URLs only; no credentials needed.
    for key in S3_ENV:
        monkeypatch.delenv(key, raising=False)


def write_file(path: Path, size: int, seed: int = 1) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    block = hashlib.sha256(str(seed).encode()).digest() * (MiB // 32)
    with path.open("wb") as out:
        remaining = size
        while remaining:
            piece = block[: min(MiB, remaining)]
            out.write(piece)
            digest.update(piece)
            remaining -= len(piece)
    return digest.hexdigest()


def run_files(server: Server, run_id: str) -> list[str]:
    """Files on disk under the run's directory (local store only)."""
    if server.artifact_dir is None:
        return []
    # os.walk, unlike Path.rglob, tolerates directories the server removes meanwhile.
    return [
        os.path.join(root, name)
        for experiment in server.artifact_dir.glob("*")
        for root, _, names in os.walk(experiment / run_id)
        for name in names
    ]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_file_round_trip_is_quiet_without_a_terminal(
    server: Server, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    run_id = server.create_run()
    source = tmp_path / "weights.bin"
    digest = write_file(source, 20 * MiB + 3)  # over the progress threshold
    _artifacts.upload_file(server.url, run_id, source, "model")
    entries = _artifacts.list_artifacts(server.url, run_id, "model")
    assert [(e.path, e.size) for e in entries] == [("model/weights.bin", 20 * MiB + 3)]
    written = _artifacts.download(server.url, run_id, "model/weights.bin", tmp_path / "out")
    assert written == tmp_path / "out"
    assert sha256(written) == digest
    (tmp_path / "dir").mkdir()
    into_dir = _artifacts.download(server.url, run_id, "model/weights.bin", tmp_path / "dir")
    assert into_dir == tmp_path / "dir" / "weights.bin"
    assert sha256(into_dir) == digest
    captured = capfd.readouterr()
    assert captured.err == ""  # no progress bar when stderr is not a terminal


@pytest.mark.parametrize("server", ["local"], indirect=True)  # the bar does not depend on the store
def test_progress_bar_on_a_terminal(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(_artifacts, "_stderr_is_tty", lambda: True)
    run_id = server.create_run()
    source = tmp_path / "big.bin"
    write_file(source, _artifacts.PROGRESS_THRESHOLD)
    _artifacts.upload_file(server.url, run_id, source)
    assert "upload big.bin" in capsys.readouterr().err
    small = tmp_path / "small.txt"
    small.write_text("small")
    _artifacts.upload_file(server.url, run_id, small)
    assert capsys.readouterr().err == ""  # small transfers stay quiet even on a terminal


def test_tree_round_trip(server: Server, tmp_path: Path) -> None:
    run_id = server.create_run()
    tree = tmp_path / "outputs"
    files = {
        "metrics.json": b'{"acc": 0.9}',
        "empty.txt": b"",
        "plots/loss.png": b"\x89PNG\r\n\x1a\n",
        "plots/deep/er/curve.csv": b"step,loss\n0,1.0\n",
    }
    for relative, content in files.items():
        (tree / relative).parent.mkdir(parents=True, exist_ok=True)
        (tree / relative).write_bytes(content)
    _artifacts.upload_dir(server.url, run_id, tree, "run-outputs")
    _artifacts.upload_bytes(server.url, run_id, b"# Notes\n", "notes.md")
    top = _artifacts.list_artifacts(server.url, run_id)
    assert [(e.path, e.is_dir) for e in top] == [("run-outputs", True), ("notes.md", False)]
    assert top[1].content_type == "text/markdown"

    copied = _artifacts.download(server.url, run_id, "run-outputs", tmp_path / "copy")
    assert copied == tmp_path / "copy"
    for relative, content in files.items():
        assert (copied / relative).read_bytes() == content
    everything = _artifacts.download(server.url, run_id, "", tmp_path / "all")
    assert (everything / "notes.md").read_text() == "# Notes\n"
    assert (everything / "run-outputs" / "plots" / "deep" / "er" / "curve.csv").exists()


def test_public_download_uses_the_configured_server(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mltrail
    import mltrail.artifacts

    run_id = server.create_run()
    _artifacts.upload_bytes(server.url, run_id, b"a: 1\n", "configs/cfg.yaml")
    monkeypatch.setenv("MLTRAIL_TRACKING_URI", server.url)
    if hasattr(mltrail, "set_tracking_uri"):
        mltrail.set_tracking_uri(server.url)
    path = mltrail.artifacts.download(run_id, "configs/cfg.yaml", tmp_path)
    assert path.read_text() == "a: 1\n"
    assert [e.path for e in mltrail.artifacts.list_artifacts(run_id, "configs")] == ["configs/cfg.yaml"]


def test_errors(server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_id = server.create_run()
    source = tmp_path / "a.txt"
    source.write_text("a")
    with pytest.raises(InvalidArgument):
        _artifacts.upload_file(server.url, run_id, source, "../outside")
    with pytest.raises(InvalidArgument):
        _artifacts.upload_bytes(server.url, run_id, b"x", "/etc/passwd")
    with pytest.raises(NotFound):
        _artifacts.upload_file(server.url, "0" * 32, source)
    with pytest.raises(NotFound):
        _artifacts.download(server.url, run_id, "missing.txt", tmp_path / "missing")
    assert not (tmp_path / "missing").exists()
    too_big = tmp_path / "big.bin"
    write_file(too_big, MAX_UPLOAD_BYTES + 1)
    with pytest.raises(ResourceExhausted):
        _artifacts.upload_file(server.url, run_id, too_big)
    monkeypatch.setattr(_artifacts, "PROBE_THRESHOLD", 0)  # refused by the probe, before the body
    with pytest.raises(ResourceExhausted):
        _artifacts.upload_file(server.url, run_id, too_big)
    assert [e.path for e in _artifacts.list_artifacts(server.url, run_id)] == []


def test_cli_put_ls_get(server: Server, tmp_path: Path) -> None:
    from mltrail.cli import main

    run_id = server.create_run()
    source = tmp_path / "cfg.yaml"
    source.write_text("lr: 0.1\n")
    runner = CliRunner()
    common = ["--tracking-uri", server.url]
    put = runner.invoke(main, ["artifacts", "put", run_id, str(source), "configs", *common])
    assert put.exit_code == 0, put.output
    ls = runner.invoke(main, ["artifacts", "ls", run_id, *common])
    assert ls.exit_code == 0, ls.output
    assert "configs/" in ls.output
    ls_dir = runner.invoke(main, ["artifacts", "ls", run_id, "configs", *common])
    assert "configs/cfg.yaml" in ls_dir.output and "8 B" in ls_dir.output
    get = runner.invoke(
        main, ["artifacts", "get", run_id, "configs/cfg.yaml", str(tmp_path / "got.yaml"), *common]
    )
    assert get.exit_code == 0, get.output
    assert (tmp_path / "got.yaml").read_text() == "lr: 0.1\n"
    bad = runner.invoke(main, ["artifacts", "get", run_id, "../x", *common])
    assert bad.exit_code != 0 and "'..'" in bad.output


@pytest.mark.parametrize("server", ["s3-direct"], indirect=True)
def test_direct_mode_redirects_to_presigned_urls(server: Server) -> None:
    run_id = server.create_run()
    _artifacts.upload_bytes(server.url, run_id, b"bytes via S3", "direct.txt")
    response = httpx.get(f"{server.url}/api/artifacts/{run_id}/direct.txt")
    assert response.status_code == 307
    location = response.headers["location"]
    assert "X-Amz-Signature=" in location and not location.startswith(server.url)
    assert httpx.get(location).content == b"bytes via S3"  # no credentials needed


@pytest.mark.parametrize("server", ["local", "s3"], indirect=True)  # direct: bytes never reach the server
def test_connection_dropped_mid_upload_leaves_nothing(server: Server) -> None:
    run_id = server.create_run()
    host, port = server.url.removeprefix("http://").split(":")
    request = (
        f"PUT /api/artifacts/{run_id}/partial/blob.bin HTTP/1.1\r\n"
        f"Host: {host}\r\nContent-Length: {30 * MiB}\r\nContent-Type: application/octet-stream\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(request)
        for _ in range(12):  # 12 MiB of 30: more than one 8 MiB S3 part
            sock.sendall(os.urandom(MiB))
        time.sleep(0.3)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            leftovers = (
                [] if server.artifact_dir is None else [p for p in server.artifact_dir.rglob("*") if p.is_file()]
            )
        except FileNotFoundError:  # the server is removing the half-made directories right now
            leftovers = ["(still being cleaned up)"]
        if not leftovers and _artifacts.list_artifacts(server.url, run_id) == []:
            break
        time.sleep(0.2)
    assert _artifacts.list_artifacts(server.url, run_id) == []
    assert run_files(server, run_id) == []


class _SavefigFigure:
    """Stands in for a matplotlib Figure (not installed here): log_figure only calls savefig."""

    def __init__(self) -> None:
        self.formats: list[str] = []

    def savefig(self, buffer, format: str, **_: object) -> None:
        self.formats.append(format)
        buffer.write(b"\x89PNG\r\n\x1a\n" + b"pixels" if format == "png" else b"<svg/>")


def test_log_figure_uploads_the_rendered_image(server: Server, tmp_path: Path) -> None:
    import mltrail

    client = mltrail.MltrailClient(server.url)
    run_id = server.create_run()
    figure = _SavefigFigure()
    client.log_figure(run_id, figure, "plots/loss.png")
    client.log_figure(run_id, figure, "plots/loss.svg")
    assert figure.formats == ["png", "svg"]
    got = _artifacts.download(server.url, run_id, "plots/loss.png", tmp_path / "loss.png")
    assert got.read_bytes().startswith(b"\x89PNG")
    with pytest.raises(InvalidArgument):
        client.log_figure(run_id, object(), "plots/nothing.png")
    client.close()


@pytest.mark.parametrize("server", ["local"], indirect=True)
def test_downloads_get_the_mode_the_umask_allows(server: Server, tmp_path: Path) -> None:
    run_id = server.create_run()
    source = tmp_path / "weights.bin"
    write_file(source, 1000)
    _artifacts.upload_file(server.url, run_id, source, "models")
    old = os.umask(0o022)
    try:
        got = _artifacts.download(server.url, run_id, "models/weights.bin", tmp_path / "a.bin")
        assert got.stat().st_mode & 0o777 == 0o644
        os.umask(0o007)
        tree = _artifacts.download(server.url, run_id, "models", tmp_path / "tree")
        assert (tree / "weights.bin").stat().st_mode & 0o777 == 0o660
    finally:
        os.umask(old)


@pytest.mark.parametrize("server", ["local"], indirect=True)
def test_cli_get_dash_writes_to_standard_output(server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mltrail.cli import main

    run_id = server.create_run()
    source = tmp_path / "blob.bin"
    write_file(source, 70_000)
    _artifacts.upload_file(server.url, run_id, source, "data")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    common = ["--tracking-uri", server.url]
    got = runner.invoke(main, ["artifacts", "get", run_id, "data/blob.bin", "-", *common])
    assert got.exit_code == 0, got.output
    assert got.stdout_bytes == source.read_bytes()
    assert not (tmp_path / "-").exists()
    directory = runner.invoke(main, ["artifacts", "get", run_id, "data", "-", *common])
    assert directory.exit_code != 0 and "directory" in directory.output
    missing = runner.invoke(main, ["artifacts", "get", run_id, "data/nope.bin", "-", *common])
    # The error goes to standard error: standard output carries the file's bytes only.
    assert missing.exit_code != 0 and missing.stdout_bytes == b"" and "nope.bin" in missing.stderr
