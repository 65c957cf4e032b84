"""What every benchmark script needs around the thing it measures: a free port, a server
process (started, waited for, stopped), its memory, and a GraphQL connection.

- ``Server`` / ``running``: a process in its own session (so that stopping it stops its
  workers too), stderr to a temporary log shown when it fails; its start time is spawn ->
  the ready URL answering.
- ``mltrail_command``, ``mlflow_server``: the two tracking servers as the scripts start them.
- ``tree_rss`` (the server and its workers, now) and ``RssSampler`` (one process's peak while
  something runs), both read from ``/proc``.
- ``Gql``: GraphQL over one kept-alive httpx connection, bodies encoded with orjson as the
  ``mltrail`` client encodes them, so that encoding and decoding count as a client's time.
- ``MlflowSide``: ``bench/_mlflow_side.py`` in MLflow's own interpreter (a separate venv:
  MLflow's dependencies never enter the project's), driven one step at a time over pipes.

Scripts import this module; it imports no script.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
READY_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 20.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def progress(text: str) -> None:
    """A timestamped line on stderr, so that stdout keeps only the figures."""
    print(f"  {time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)


def pct(samples: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    index = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def latency_summary(samples: list[float]) -> dict[str, float]:
    return {"p50": pct(samples, 50), "p95": pct(samples, 95)}


# ----------------------------------------------------------------------------- memory


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    """A memory field of ``/proc/PID/status`` (VmRSS now, VmHWM the peak) in KiB; 0 once gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (uvicorn's workers, MLflow's gunicorn/uvicorn children)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # The command name may contain spaces and parentheses: fields start after the last ')'.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(children.get(current, []))
    return out


def tree_rss(pid: int) -> tuple[float, float, int]:
    """(total MB, largest single process MB, process count) over the process tree."""
    sizes = [rss_kib(p) / 1024 for p in process_tree(pid)]
    sizes = [s for s in sizes if s > 0]
    return sum(sizes), max(sizes, default=0.0), len(sizes)


class RssSampler:
    """Peak RSS (KiB) of one process, sampled in a thread while the ``with`` block runs."""

    def __init__(self, pid: int, interval_s: float = 0.02) -> None:
        self.pid, self.interval_s, self.peak = pid, interval_s, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(self.interval_s)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# ----------------------------------------------------------------------------- processes


class Server:
    """A server process in its own session; ``start_s`` is spawn -> the ready URL answers.

    ``ready_status`` is the status that means ready (``None``: any HTTP answer, for servers
    without a health route, such as moto's)."""

    def __init__(
        self,
        name: str,
        args: list[str],
        ready_path: str,
        port: int,
        env: dict[str, str] | None = None,
        ready_status: int | None = 200,
    ):
        self.name, self.args, self.ready_path, self.port = name, args, ready_path, port
        self.url = f"http://127.0.0.1:{port}"
        self.env = env
        self.ready_status = ready_status
        self.log = tempfile.NamedTemporaryFile(prefix=f"bench-{name}-", suffix=".log", delete=False)
        self.proc: subprocess.Popen[bytes] | None = None
        self.start_s = 0.0

    @property
    def pid(self) -> int:
        assert self.proc is not None, f"{self.name} is not started"
        return self.proc.pid

    def start(self, timeout: float = READY_TIMEOUT_S) -> Server:
        start = time.perf_counter()
        self.proc = subprocess.Popen(
            self.args, stdout=subprocess.DEVNULL, stderr=self.log, env=self.env, start_new_session=True
        )
        deadline = start + timeout
        with httpx.Client(timeout=2.0) as client:
            while time.perf_counter() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    status = client.get(self.url + self.ready_path).status_code
                    if self.ready_status is None or status == self.ready_status:
                        self.start_s = time.perf_counter() - start
                        return self
                time.sleep(0.01)
        raise RuntimeError(f"{self.name} not ready within {timeout}s:\n{self.tail()}")

    def tail(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-3000:]

    def rss(self) -> tuple[float, float, int]:
        return tree_rss(self.pid)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


@contextlib.contextmanager
def running(server: Server) -> Iterator[Server]:
    """The server, started and ready; stopped and its log removed on the way out."""
    try:
        yield server.start()
    finally:
        server.stop()
        with contextlib.suppress(OSError):
            os.unlink(server.log.name)


def server_env(**settings: str) -> dict[str, str]:
    """This environment without any MLTRAIL_* of the caller's (the benchmark sets its own)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLTRAIL_")}
    env.update(settings)
    return env


def mltrail_command(port: int, data_dir: str, workers: int = 1, db_url: str | None = None) -> list[str]:
    """``mltrail server`` as a user starts it (the project's venv, else PATH)."""
    exe = ROOT / ".venv" / "bin" / "mltrail"
    cmd = [str(exe) if exe.exists() else (shutil.which("mltrail") or "mltrail"), "server"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--data-dir", data_dir, "--workers", str(workers)]
    if db_url:
        cmd += ["--backend-store-uri", db_url]
    return cmd


def mltrail_server(
    data_dir: str, workers: int = 1, db_url: str | None = None, env: dict[str, str] | None = None
) -> Server:
    """A fresh ``mltrail server`` on a free port, ready when ``/readyz`` answers 200."""
    port = free_port()
    name = "mltrail" if workers == 1 else f"mltrail-w{workers}"
    return Server(
        name, mltrail_command(port, data_dir, workers, db_url), "/readyz", port, env=env or server_env()
    )


# ----------------------------------------------------------------------------- GraphQL


class Gql:
    """GraphQL over one kept-alive connection; encoding and decoding count as the caller's time.

    Bodies are encoded with orjson, as the mltrail client encodes them (``mltrail._spool``)."""

    def __init__(self, url: str):
        self.client = httpx.Client(base_url=url, timeout=600.0)

    def __call__(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = orjson.dumps({"query": document, "variables": variables or {}})
        response = self.client.post("/graphql", content=body, headers={"Content-Type": "application/json"})
        result = orjson.loads(response.content)
        if result.get("errors"):
            raise RuntimeError(f"GraphQL errors: {result['errors'][:2]}")
        return result["data"]

    def close(self) -> None:
        self.client.close()


# ----------------------------------------------------------------------------- MLflow


def find_mlflow_python(given: str | None) -> str | None:
    """The interpreter that has mlflow: the one given, $MLFLOW_PYTHON, this one, or `mlflow`'s
    on PATH (read from its shebang)."""
    if given or os.environ.get("MLFLOW_PYTHON"):
        return given or os.environ["MLFLOW_PYTHON"]
    with contextlib.suppress(ImportError):
        import mlflow  # noqa: F401  (only asks whether it is importable here)

        return sys.executable
    exe = shutil.which("mlflow")
    if exe is None:
        return None
    first = Path(exe).read_text(errors="replace").splitlines()[0]
    return first[2:].strip() if first.startswith("#!") else None


def mlflow_server(python: str, workdir: Path, store_uri: str | None = None) -> tuple[Server, dict[str, str]]:
    """``mlflow server --workers 1`` (SQLite in ``workdir`` unless ``store_uri``), and the
    environment its client side should run with.

    One worker: with its default of 4, uvicorn leaves Nagle's algorithm on and every request on
    a reused connection waits ≈ 40 ms for a delayed ACK, which would flatter the comparison."""
    data_dir = workdir / "mlflow"
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    uri = store_uri or f"sqlite:///{data_dir / 'mlflow.db'}"
    sibling = Path(python).parent / "mlflow"
    exe = [str(sibling)] if sibling.exists() else [python, "-m", "mlflow"]
    cmd = [
        *exe,
        "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        "--backend-store-uri", uri, "--artifacts-destination", str(data_dir / "artifacts"),
    ]  # fmt: skip
    env = {**os.environ, "MLFLOW_TRACKING_URI": "", "PYTHONWARNINGS": "ignore"}
    return Server("mlflow", cmd, "/health", port, env=env), env


class MlflowSide:
    """``bench/_mlflow_side.py`` in MLflow's interpreter, driven one step at a time over pipes:
    each ``call`` sends one JSON command line and returns the one JSON line that answers it."""

    def __init__(self, python: str, url: str, env: dict[str, str], script: str = "_mlflow_side.py") -> None:
        self.stderr = tempfile.NamedTemporaryFile(prefix="bench-mlflow-side-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            [python, str(HERE / script), "--url", url],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, text=True, env=env,
        )  # fmt: skip

    def call(self, op: str, **args: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"op": op, **args}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            self.stderr.flush()
            tail = Path(self.stderr.name).read_text(errors="replace")[-3000:]
            raise RuntimeError(f"MLflow helper failed in {op}:\n{tail}")
        return json.loads(line)

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            assert self.proc.stdin is not None
            self.proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        with contextlib.suppress(OSError):
            os.unlink(self.stderr.name)


def alternate(
    name: str,
    ours_step: Callable[[int, int], list[float]],
    f: MlflowSide | None,
    mr: dict[str, Any],
    fr: dict[str, Any],
    rounds: int,
    repeat: int,
    f_repeat: int,
) -> None:
    """``rounds`` rounds of latency samples, mltrail's ``ours_step(repeat, warmup)`` then MLflow's
    step ``name``, so that a drift in the host's speed lands on both sides; the p50/p95 of
    each side go under ``name`` in ``mr`` and ``fr``."""
    ours, theirs = [], []
    for r in range(rounds):
        warmup = 2 if r == 0 else 1
        ours += ours_step(repeat, warmup)
        if f:
            theirs += f.call(name, repeat=f_repeat, warmup=warmup)["samples"]
    mr[name] = latency_summary(ours)
    if f:
        fr[name] = latency_summary(theirs)
