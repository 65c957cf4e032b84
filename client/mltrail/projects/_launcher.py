"""`mltrail run`: one project entry point as one run, recorded well enough to run it again.

The order matters and is the contract of the command:

1. Everything that can be wrong with the request is found first (the project, the entry
   point, each parameter against its type, the environment kind, the interpreter): exit 2,
   no run created, nothing started.
2. The run is created with its parameters and, as `mltrail.project.*` tags, the project URI,
   entry point, commit, environment specification, the exact shell command and the exact
   `mltrail run …` line that reproduces it (pinned to the commit when there is one).
3. The environment is built (or found in the cache), then the command runs in its own process
   group with `MLTRAIL_RUN_ID` / `MLTRAIL_TRACKING_URI` set: the script's `mltrail.start_run()`
   attaches to the run instead of starting another.
4. Output is streamed to the terminal as it comes and its tail (bounded) is stored as the
   artifact `logs/stdout.log`. The run ends FINISHED, FAILED (exit code in a tag) or KILLED:
   Ctrl-C and SIGTERM are forwarded to the child's process group (a second one, or a child
   still alive after the grace period, gets SIGKILL), and the run is closed either way.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from mltrail.projects._environments import Environment, build_environment, plan_environment
from mltrail.projects._fetch import FetchedProject, fetch_project
from mltrail.projects._parameters import ResolvedParameters, build_command, resolve_parameters
from mltrail.projects._spec import EntryPoint, ProjectError, load_project

TAG = "mltrail.project."
LOG_ARTIFACT = "logs/stdout.log"
DEFAULT_LOG_BYTES = 1 << 20  # the tail kept of an enormous log
KILL_GRACE_SECONDS = 10.0


@dataclass
class LaunchRequest:
    uri: str | None
    entry_point: str | None = None  # None: "main", or the rerun run's entry point
    parameters: dict[str, str] = field(default_factory=dict)
    version: str | None = None
    env_manager: str | None = None
    experiment_name: str | None = None
    run_name: str | None = None
    from_run: str | None = None
    dry_run: bool = False
    tracking_uri: str | None = None


@dataclass
class _Plan:
    """A request checked and resolved: what will run, where, in which environment."""

    fetched: FetchedProject
    entry_point: EntryPoint
    parameters: ResolvedParameters
    environment: Environment
    command: str
    launch: dict[str, Any]  # the pinned request a rerun repeats
    request: LaunchRequest  # as given, or with --from-run: the original's, overrides applied
    experiment_id: str | None = None


def launch(request: LaunchRequest, *, err: TextIO | None = None) -> int:
    """Run the request; the exit code `mltrail run` exits with."""
    err = err or sys.stderr
    from mltrail._client import MltrailClient

    client = MltrailClient(request.tracking_uri, capture_environment=False)
    try:
        plan = _plan(client, request, err)
        if request.dry_run:
            print(plan.command, flush=True)
            _note(
                err,
                f"in {plan.fetched.directory} ({plan.environment.manager} environment {plan.environment.hash[:16]})",
            )
            return 0
        return _Launch(client, plan, err).run()
    finally:
        client.close()


def _plan(client: Any, request: LaunchRequest, err: TextIO) -> _Plan:
    experiment_id = None
    if request.from_run is not None:
        request, experiment_id = _from_run(client, request)
    if not request.uri:
        raise ProjectError("give a project URI, or --from-run RUN_ID")
    fetched = fetch_project(request.uri, request.version)
    project = load_project(fetched.directory)
    for warning in project.warnings:
        _note(err, f"warning: {warning}")
    entry_point = project.entry_point(request.entry_point or "main")
    parameters = resolve_parameters(entry_point, request.parameters)
    manager = request.env_manager or "local"
    environment = plan_environment(project, manager)
    command = build_command(entry_point, parameters)
    pinned = fetched.git_commit is not None and fetched.repository is not None
    launch = {
        "uri": (fetched.repository + (f"#{fetched.subdirectory}" if fetched.subdirectory else ""))
        if pinned
        else fetched.uri,
        "version": fetched.git_commit if pinned else None,
        "entry_point": entry_point.name,
        "parameters": parameters.values,
        "env_manager": manager,
    }
    return _Plan(fetched, entry_point, parameters, environment, command, launch, request, experiment_id)


def _from_run(client: Any, request: LaunchRequest) -> tuple[LaunchRequest, str | None]:
    """The request that launched `request.from_run`, with this request's overrides on top."""
    old = client.get_run(request.from_run)
    recorded = old.tags.get(TAG + "launch")
    if not recorded:
        raise ProjectError(f"run {request.from_run} was not launched by `mltrail run`: nothing to rerun")
    launched = json.loads(recorded)
    return (
        LaunchRequest(
            uri=request.uri or launched["uri"],
            entry_point=request.entry_point or launched["entry_point"],
            parameters={**launched["parameters"], **request.parameters},
            version=request.version or (launched.get("version") if not request.uri else None),
            env_manager=request.env_manager or launched.get("env_manager"),
            experiment_name=request.experiment_name,
            run_name=request.run_name,
            from_run=request.from_run,
            dry_run=request.dry_run,
            tracking_uri=request.tracking_uri,
        ),
        None if request.experiment_name else old.experiment_id,
    )


def reproduce_command(launch: dict[str, Any]) -> str:
    """The `mltrail run …` line that repeats a launch."""
    argv = ["mltrail", "run", launch["uri"]]
    if launch.get("version"):
        argv += ["--version", launch["version"]]
    argv += ["-e", launch["entry_point"]]
    for key, value in launch["parameters"].items():
        argv += ["-P", f"{key}={value}"]
    argv += ["--env-manager", launch["env_manager"]]
    return shlex.join(argv)


class _Launch:
    def __init__(self, client: Any, plan: _Plan, err: TextIO) -> None:
        self.client = client
        self.request = plan.request
        self.plan = plan
        self.err = err
        self.log = _OutputTail(_log_limit())
        self.signals = _SignalForwarder()
        self.run_id = uuid.uuid4().hex

    def run(self) -> int:
        plan = self.plan
        # Installed before the run exists: a Ctrl-C from here on ends it KILLED, never open.
        self.signals.install()
        try:
            self._create_run()
        except BaseException:
            self.signals.restore()
            raise
        _note(self.err, f"run {self.run_id} started; command: {plan.command}")
        status, exit_code, tags = "FAILED", 1, {}
        try:
            exit_code = self._execute()
            if self.signals.received is not None:
                status = "KILLED"
                tags["signal"] = signal.Signals(self.signals.received).name
                exit_code = 128 + self.signals.received
            else:
                status = "FINISHED" if exit_code == 0 else "FAILED"
                tags["exitCode"] = str(exit_code)
                exit_code = exit_code if exit_code >= 0 else 128 - exit_code
        except ProjectError as error:
            tags["error"] = str(error)
            self.log.write(f"mltrail: {error}\n".encode())
            _note(self.err, str(error))
            if self.signals.received is not None:
                status, exit_code = "KILLED", 128 + self.signals.received
            else:
                exit_code = error.exit_code
        except BaseException as error:  # the run is closed whatever stopped the launcher
            tags["error"] = f"{type(error).__name__}: {error}"
            status = "KILLED" if isinstance(error, KeyboardInterrupt) else "FAILED"
            raise
        finally:
            self.signals.restore()
            self._finish(status, tags)
            _note(self.err, f"run {self.run_id} {status}")
        return exit_code

    def _create_run(self) -> None:
        from mltrail import _documents as doc

        plan = self.plan
        fetched = plan.fetched
        tags = {
            "uri": fetched.uri,
            "entryPoint": plan.entry_point.name,
            "envManager": plan.environment.manager,
            "env": json.dumps(plan.environment.describe(), sort_keys=True),
            "command": plan.command,
            "launch": json.dumps(plan.launch, sort_keys=True),
            "reproduce": reproduce_command(plan.launch),
        }
        if self.request.version:
            tags["version"] = self.request.version
        if fetched.git_commit:
            tags["gitCommit"] = fetched.git_commit
        if self.request.from_run:
            tags["rerunOf"] = self.request.from_run
        variables: dict[str, Any] = {
            "runId": self.run_id,
            "name": self.request.run_name,
            "tags": [{"key": TAG + k, "value": v} for k, v in tags.items()],
            "params": [{"key": k, "value": v} for k, v in plan.parameters.values.items()] or None,
            "startTime": time.time_ns() // 1_000_000,
            "user": self.client.user,
            "source": {
                "entryPoint": plan.entry_point.name,
                "gitCommit": fetched.git_commit,
                "gitBranch": fetched.git_branch,
                "gitDirty": fetched.git_dirty,
                "gitRemote": fetched.git_remote,
            },
            "environment": {
                "python": {"version": plan.environment.interpreter_version},
                "platform": platform.platform(),
                "hostname": socket.gethostname(),
                "command": plan.command,
                "cwd": str(fetched.directory),
                "project": plan.environment.describe(),
            },
        }
        if plan.experiment_id is not None:
            variables["experimentId"] = plan.experiment_id
        else:
            variables["experimentName"] = (
                self.request.experiment_name or os.environ.get("MLTRAIL_EXPERIMENT_NAME") or "Default"
            )
        self.client._execute(doc.CREATE_RUN, {k: v for k, v in variables.items() if v is not None})
        if self.request.from_run:
            # The original points at its latest rerun; the rerun points back (`rerunOf`).
            self.client.set_tag(self.request.from_run, TAG + "lastRerun", self.run_id)

    def _execute(self) -> int:
        plan = self.plan
        environment = build_environment(plan.environment, plan.fetched.directory, self._run_step)
        self.client.set_tag(self.run_id, TAG + "envReused", "true" if environment.reused else "false")
        if self.signals.received is not None:
            return 128 + self.signals.received
        with tempfile.TemporaryDirectory(prefix="mltrail-run-") as downloads:
            # Resolved again from the validated values, this time downloading remote paths.
            parameters = resolve_parameters(
                plan.entry_point, dict(plan.parameters.values), download_dir=Path(downloads)
            )
            command = build_command(plan.entry_point, parameters)
            env = environment.child_env(dict(os.environ))
            env.update(
                MLTRAIL_RUN_ID=self.run_id,
                MLTRAIL_TRACKING_URI=self.client.tracking_uri,
                # Piped output is block-buffered by Python; unbuffered, it streams as printed.
                PYTHONUNBUFFERED=env.get("PYTHONUNBUFFERED", "1"),
            )
            return self._run_process(["bash", "-c", command], plan.fetched.directory, env)

    def _run_step(self, argv: Sequence[str], cwd: Path) -> int:
        if self.signals.received is not None:
            return 128 + self.signals.received
        _note(self.err, "$ " + shlex.join(argv))
        return self._run_process(list(argv), cwd, dict(os.environ))

    def _run_process(self, argv: list[str], cwd: Path, env: dict[str, str]) -> int:
        """Run `argv` in its own process group, output teed to the terminal and the log tail."""
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: signals reach it (and its children) from us alone
        )
        assert process.stdout is not None
        reader = threading.Thread(target=self._pump, args=(process.stdout.fileno(),), daemon=True)
        reader.start()
        self.signals.attach(process)
        try:
            while True:
                try:
                    code = process.wait(timeout=0.2)
                    break
                except subprocess.TimeoutExpired:
                    self.signals.escalate_if_overdue()
        finally:
            self.signals.detach()
        # A grandchild left running in the background may hold the pipe open: do not wait on it.
        reader.join(timeout=5)
        process.stdout.close()
        return code

    def _pump(self, fd: int) -> None:
        terminal = getattr(sys.stdout, "buffer", None)
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.log.write(chunk)
            try:
                if terminal is not None:
                    terminal.write(chunk)
                    terminal.flush()
                else:
                    sys.stdout.write(chunk.decode(errors="replace"))
                    sys.stdout.flush()
            except (OSError, ValueError):
                pass  # a closed terminal must not stop the capture

    def _finish(self, status: str, tags: dict[str, str]) -> None:
        from mltrail._artifacts import upload_bytes
        from mltrail._exceptions import MltrailError

        for key, value in tags.items():
            self.client.set_tag(self.run_id, TAG + key, value[:8000])
        try:
            upload_bytes(self.client.tracking_uri, self.run_id, self.log.getvalue(), LOG_ARTIFACT)
        except (MltrailError, OSError) as error:
            _note(self.err, f"could not store {LOG_ARTIFACT}: {error}")
        self.client.set_terminated(self.run_id, status)
        if not self.client.flush(30):
            _note(self.err, f"run {self.run_id}: not everything reached the server; it stays in the spool")


class _OutputTail:
    """The last `limit` bytes written, and how many came before them."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.dropped = 0
        self._buffer = bytearray()
        self._lock = threading.Lock()

    def write(self, chunk: bytes) -> None:
        with self._lock:
            self._buffer += chunk
            # Trim in large steps, not on every write: amortised O(1) per byte.
            if len(self._buffer) > 2 * self.limit:
                cut = len(self._buffer) - self.limit
                self.dropped += cut
                del self._buffer[:cut]

    def getvalue(self) -> bytes:
        with self._lock:
            data = bytes(self._buffer)
            dropped = self.dropped
        if len(data) > self.limit:
            dropped += len(data) - self.limit
            data = data[-self.limit :]
        if dropped:
            return f"[mltrail: {dropped} earlier bytes of output not kept]\n".encode() + data
        return data


class _SignalForwarder:
    """SIGINT and SIGTERM, received by the launcher, sent on to the running child's group."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.received: int | None = None
        self._count = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._deadline: float | None = None
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers belong to the main thread; elsewhere the defaults stay
        for signum in self.SIGNALS:
            self._previous[signum] = signal.signal(signum, self._handle)

    def restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def attach(self, process: subprocess.Popen[bytes]) -> None:
        self._process = process
        if self.received is not None:  # arrived between the fork and now
            self._send(self.received)

    def detach(self) -> None:
        self._process = None

    def _handle(self, signum: int, frame: object) -> None:
        self._count += 1
        if self.received is None:
            self.received = signum
            self._deadline = time.monotonic() + _kill_grace()
        self._send(signal.SIGKILL if self._count > 1 else signum)

    def escalate_if_overdue(self) -> None:
        if self._deadline is not None and time.monotonic() > self._deadline:
            self._send(signal.SIGKILL)

    def _send(self, signum: int) -> None:
        process = self._process
        if process is None:
            return
        try:
            os.killpg(process.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass


def _kill_grace() -> float:
    try:
        return float(os.environ.get("MLTRAIL_RUN_KILL_GRACE", KILL_GRACE_SECONDS))
    except ValueError:
        return KILL_GRACE_SECONDS


def _log_limit() -> int:
    try:
        return max(1024, int(os.environ.get("MLTRAIL_RUN_LOG_MAX_BYTES", DEFAULT_LOG_BYTES)))
    except ValueError:
        return DEFAULT_LOG_BYTES


def _note(err: TextIO, message: str) -> None:
    print(f"mltrail: {message}", file=err, flush=True)
