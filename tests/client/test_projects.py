"""`mltrail run` against a real server, with real subprocesses, real venvs and a real git repository.

One SQLite server for the module (the launcher's behaviour does not depend on the store). Each
launch is `python -m mltrail.cli run …` in a subprocess, as a user types it; requests that must
be refused before anything starts go through click's runner in-process, which is faster and
just as real for them (no child is started).
"""

from __future__ import annotations

import json
import os
import select
import shlex
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from mltrail import MltrailClient, Run
from mltrail.cli import main
from mltrail.projects._environments import find_uv

from .conftest import IN_CI, ServerProcess, started_server

PYTHON_MINOR = ".".join(map(str, sys.version_info[:2]))


@pytest.fixture(scope="module")
def project_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with started_server(tmp_path_factory, "projects-server") as process:
        yield process


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shared by the module's launches, as a user's ~/.cache/mltrail is."""
    return tmp_path_factory.mktemp("mltrail-cache")


@pytest.fixture
def reader(project_server: ServerProcess) -> Iterator[MltrailClient]:
    with MltrailClient(project_server.url, capture_environment=False) as client:
        yield client


@pytest.fixture
def launch_env(project_server: ServerProcess, cache_dir: Path, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLTRAIL_")}
    env.update(
        MLTRAIL_TRACKING_URI=project_server.url,
        MLTRAIL_CACHE_DIR=str(cache_dir),
        MLTRAIL_SPOOL_DIR=str(tmp_path / "spool"),
    )
    return env


@pytest.fixture
def experiment() -> str:
    return f"projects-{uuid.uuid4().hex[:10]}"


def write_project(root: Path, mlproject: str, files: dict[str, str] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "MLproject").write_text(textwrap.dedent(mlproject))
    for name, text in (files or {}).items():
        (root / name).write_text(textwrap.dedent(text))
    return root


def mltrail_run(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mltrail.cli", "run", *args],
        env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


def only_run(reader: MltrailClient, experiment: str) -> Run:
    runs = reader.search_runs(experiment_names=[experiment])
    assert len(runs) == 1, [r.id for r in runs]
    return reader.get_run(runs[0].id)


def stdout_log(server: ServerProcess, run_id: str) -> str:
    response = httpx.get(f"{server.url}/api/artifacts/{run_id}/logs/stdout.log")
    assert response.status_code == 200, response.text
    return response.text


# A script that records the arguments it received and logs into the launcher's run.
ARGV_SCRIPT = """
    import json, sys
    import mltrail
    with open("argv.json", "w") as out:
        json.dump(sys.argv[1:], out)
    with mltrail.start_run() as run:
        run.log_metric("child_metric", 0.5, step=1)
        run.log_param("child_param", "from-the-script")
        print("script ran in run", run.id)
"""


# -- refused before anything starts ------------------------------------------------------------


def test_parameter_errors_exit_2_and_start_nothing(
    tmp_path: Path, project_server: ServerProcess, reader: MltrailClient, experiment: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    project = write_project(
        tmp_path / "typed",
        """
        entry_points:
          main:
            parameters:
              alpha: {type: float, default: 0.1}
              epochs: int
              data: path
              source: {type: uri, default: "s3://bucket/key"}
              verbose: {type: bool, default: true}
            command: "python train.py {alpha} {epochs} {data} {source} {verbose}"
        """,
    )
    runner = CliRunner()
    base = ["run", str(project), "--experiment", experiment, "--tracking-uri", project_server.url]

    def refused(*params: str) -> str:
        result = runner.invoke(main, [*base, *params])
        assert result.exit_code == 2, result.output
        return result.output

    assert "unknown parameter 'colour'" in refused(
        "-P", "epochs=1", "-P", f"data={project}", "-P", "colour=red"
    )
    assert "'epochs' must be an int, got '1.5'" in refused("-P", "epochs=1.5", "-P", f"data={project}")
    assert "'alpha' must be a float, got 'fast'" in refused(
        "-P", "alpha=fast", "-P", "epochs=1", "-P", f"data={project}"
    )
    missing = refused("-P", f"data={project}")
    assert "parameter 'epochs'" in missing and "needs a value" in missing
    assert "'data': no such file or directory" in refused("-P", "epochs=1", "-P", "data=/no/such/file")
    assert "'source' must be a URI" in refused(
        "-P", "epochs=1", "-P", f"data={project}", "-P", "source=bucket/key"
    )
    assert "expected KEY=VALUE" in refused("-P", "epochs")
    assert "'nope' is not declared" in refused("-e", "nope")
    missing_dir = runner.invoke(main, ["run", str(tmp_path / "no-such-project"), "--dry-run"])
    assert missing_dir.exit_code == 2 and "does not exist" in missing_dir.output

    # A valid request with --dry-run prints the command (paths made absolute) and starts nothing.
    result = runner.invoke(
        main, [*base, "-P", "epochs=3", "-P", "data=typed", "--dry-run"], catch_exceptions=False
    )
    assert result.exit_code == 2  # `data=typed` is relative to where mltrail runs, not the project
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(
        main, [*base, "-P", "epochs=3", "-P", "data=typed", "--dry-run"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert f"python train.py 0.1 3 {project} s3://bucket/key true" in result.output
    assert "type 'bool', read as string" in result.output  # MLflow checks no such type either

    assert reader.get_experiment_by_name(experiment) is None  # no run, not even its experiment


@pytest.mark.parametrize(
    ("mlproject", "files", "expected"),
    [
        (
            "conda_env: conda.yaml\nentry_points: {main: {command: 'true'}}\n",
            {"conda.yaml": "name: x\n"},
            "conda_env is not supported",
        ),
        (
            "docker_env: {image: python:3.11}\nentry_points: {main: {command: 'true'}}\n",
            {},
            "docker_env is not supported",
        ),
        (
            "entry_points: {main: {command: 'true'}}\n",
            {"conda.yaml": "name: x\n"},
            "conda environments are not supported",
        ),
    ],
    ids=["conda_env", "docker_env", "implicit-conda.yaml"],
)
def test_unsupported_environment_kinds_exit_2(
    tmp_path: Path, project_server: ServerProcess, reader: MltrailClient, experiment: str,
    mlproject: str, files: dict[str, str], expected: str,
) -> None:  # fmt: skip
    project = write_project(tmp_path / "p", mlproject, files)
    marker = project / "started"
    (project / "MLproject").write_text(mlproject.replace("'true'", f"'touch {marker}'"))
    result = CliRunner().invoke(
        main, ["run", str(project), "--experiment", experiment, "--tracking-uri", project_server.url]
    )
    assert result.exit_code == 2 and expected in result.output, result.output
    assert not marker.exists()
    assert reader.get_experiment_by_name(experiment) is None


def test_import_mltrail_stays_light() -> None:
    probe = "import sys, mltrail, mltrail.cli; print('yaml' in sys.modules, 'mltrail.projects._launcher' in sys.modules)"
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert completed.stdout.split() == ["False", "False"]


# -- launched -------------------------------------------------------------------------------------


def test_values_are_quoted_never_executed(
    tmp_path: Path,
    launch_env: dict[str, str],
    reader: MltrailClient,
    project_server: ServerProcess,
    experiment: str,
) -> None:
    marker = tmp_path / "injected"
    project = write_project(
        tmp_path / "quoting",
        """
        entry_points:
          main:
            parameters:
              words: str
              number: {type: float, default: 1e-3}
            command: "python argv.py {words} --number={number}"
        """,
        {
            "argv.py": ARGV_SCRIPT,
            "args.py": "import json, sys\njson.dump(sys.argv[1:], open('args.json', 'w'))\n",
        },
    )
    hostile = f"two words; touch {marker} $(touch {marker}) `touch {marker}` 'single' \"double\" | & > x"

    dry = mltrail_run(launch_env, str(project), "-P", f"words={hostile}", "--dry-run")
    assert dry.returncode == 0, dry.stderr

    assert shlex.split(dry.stdout.strip()) == ["python", "argv.py", hostile, "--number=1e-3"]

    done = mltrail_run(launch_env, str(project), "-P", f"words={hostile}", "--experiment", experiment)
    assert done.returncode == 0, done.stderr
    assert json.loads((project / "argv.json").read_text()) == [hostile, "--number=1e-3"]
    assert not marker.exists() and not (project / "x").exists()
    run = only_run(reader, experiment)
    assert run.params["words"] == hostile and run.params["number"] == "1e-3"

    # An undeclared script entry point takes any parameter as `--key value`, quoted the same way.
    extra = mltrail_run(
        launch_env, str(project), "-e", "args.py", "-P", f"say={hostile}", "--experiment", experiment
    )
    assert extra.returncode == 0, extra.stderr
    assert json.loads((project / "args.json").read_text()) == ["--say", hostile]
    assert not marker.exists()


def test_script_logs_into_the_launchers_run_and_output_is_kept(
    tmp_path: Path,
    launch_env: dict[str, str],
    reader: MltrailClient,
    project_server: ServerProcess,
    experiment: str,
) -> None:
    project = write_project(
        tmp_path / "logging",
        """
        name: logging-demo
        entry_points:
          main:
            parameters:
              lines: {type: int, default: 2000}
            command: "python noisy.py {lines} && python argv.py {lines}"
        """,
        {
            "argv.py": ARGV_SCRIPT,
            "noisy.py": """
                import sys
                for i in range(int(sys.argv[1])):
                    print(f"line {i:05d} " + "x" * 40)
                print("the last noisy line", file=sys.stderr)
            """,
        },
    )
    env = {**launch_env, "MLTRAIL_RUN_LOG_MAX_BYTES": "4096"}
    done = mltrail_run(env, str(project), "--experiment", experiment, "--run-name", "launched")
    assert done.returncode == 0, done.stderr
    assert "line 01999" in done.stdout  # streamed to the terminal, all of it

    run = only_run(reader, experiment)  # the script attached: one run, not two
    assert run.name == "launched" and run.status == "FINISHED"
    assert run.metrics == {"child_metric": 0.5}
    assert run.params == {"lines": "2000", "child_param": "from-the-script"}
    tags = run.tags
    assert tags["mltrail.project.entryPoint"] == "main"
    assert tags["mltrail.project.uri"] == str(project)
    assert tags["mltrail.project.exitCode"] == "0"
    assert tags["mltrail.project.command"] == "python noisy.py 2000 && python argv.py 2000"
    assert (
        tags["mltrail.project.reproduce"]
        == f"mltrail run {project} -e main -P lines=2000 --env-manager local"
    )
    assert json.loads(tags["mltrail.project.env"])["manager"] == "local"
    assert run.source is not None and run.source.entry_point == "main"

    log = stdout_log(project_server, run.id)
    assert len(log.encode()) < 4096 + 200  # the tail, not the 100 kB
    assert log.startswith("[mltrail: ") and "earlier bytes of output not kept" in log
    assert "the last noisy line" in log and f"script ran in run {run.id}" in log
    assert "line 00000" not in log


def test_failed_command_records_exit_code(
    tmp_path: Path,
    launch_env: dict[str, str],
    reader: MltrailClient,
    project_server: ServerProcess,
    experiment: str,
) -> None:
    project = write_project(
        tmp_path / "failing",
        """
        entry_points:
          main:
            parameters:
              code: {type: int, default: 3}
              data: path
            command: "echo about to fail; cat {data}; exit {code}"
        """,
    )
    # An http(s) `path` is downloaded for the run and the command gets the local copy.
    holder = reader.start_run(experiment_name=experiment + "-data")
    holder.log_text("the downloaded data", "data.txt")
    holder.end()
    url = f"{project_server.url}/api/artifacts/{holder.id}/data.txt"
    done = mltrail_run(launch_env, str(project), "-P", f"data={url}", "--experiment", experiment)
    assert done.returncode == 3
    assert "the downloaded data" in done.stdout
    run = only_run(reader, experiment)
    assert run.status == "FAILED" and run.tags["mltrail.project.exitCode"] == "3"
    assert run.params["data"] == url  # logged as given, as MLflow logs it
    assert "about to fail" in stdout_log(project_server, run.id)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_is_forwarded_and_run_ends_killed(
    tmp_path: Path, launch_env: dict[str, str], reader: MltrailClient, experiment: str, signum: int
) -> None:
    project = write_project(
        tmp_path / "sleepy",
        """
        entry_points:
          main:
            command: "python sleepy.py"
        """,
        {
            "sleepy.py": """
                import os, subprocess, time
                import mltrail
                with mltrail.start_run():
                    helper = subprocess.Popen(["sleep", "120"])  # a grandchild: same process group
                    with open("pids", "w") as out:
                        out.write(f"{os.getpid()} {helper.pid}")
                    print("ready", flush=True)
                    time.sleep(120)
            """,
        },
    )
    launcher = subprocess.Popen(
        [sys.executable, "-m", "mltrail.cli", "run", str(project), "--experiment", experiment],
        env=launch_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        _wait_for_ready(launcher)
        launcher.send_signal(signum)
        assert launcher.wait(timeout=30) == 128 + signum
    finally:
        if launcher.poll() is None:
            launcher.kill()
    child, grandchild = map(int, (project / "pids").read_text().split())
    for pid in (child, grandchild):
        assert not _alive(pid), f"process {pid} survived the launcher"
    run = only_run(reader, experiment)
    assert run.status == "KILLED"
    assert run.tags["mltrail.project.signal"] == signal.Signals(signum).name
    assert run.end_time is not None


def test_a_child_that_ignores_the_signal_is_killed_after_the_grace_period(
    tmp_path: Path, launch_env: dict[str, str], reader: MltrailClient, experiment: str
) -> None:
    project = write_project(
        tmp_path / "stubborn",
        """
        entry_points:
          main:
            command: "trap '' INT TERM; echo $$ > pid; echo ready; sleep 120"
        """,
    )
    env = {**launch_env, "MLTRAIL_RUN_KILL_GRACE": "1"}
    launcher = subprocess.Popen(
        [sys.executable, "-m", "mltrail.cli", "run", str(project), "--experiment", experiment],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        _wait_for_ready(launcher)
        launcher.send_signal(signal.SIGTERM)
        assert launcher.wait(timeout=30) == 128 + signal.SIGTERM
    finally:
        if launcher.poll() is None:
            launcher.kill()
    assert not _alive(int((project / "pid").read_text()))
    assert only_run(reader, experiment).status == "KILLED"


def _wait_for_ready(launcher: subprocess.Popen[str]) -> None:
    assert launcher.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([launcher.stdout], [], [], 1)
        if ready and "ready" in launcher.stdout.readline():
            return
    pytest.fail("the command never said ready")


def _alive(pid: int) -> bool:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        # A zombie not yet reaped by its parent counts as gone.
        stat = Path(f"/proc/{pid}/stat")
        if stat.exists() and stat.read_text().split(") ")[-1].startswith("Z"):
            return False
        time.sleep(0.1)
    return True


@pytest.mark.parametrize("manager", ["virtualenv", "uv"])
def test_built_environment_is_cached_and_reused(
    tmp_path: Path, launch_env: dict[str, str], reader: MltrailClient, experiment: str, manager: str
) -> None:
    if manager == "uv" and find_uv() is None:
        message = "uv is not installed (it comes with the dev extra)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    project = write_project(
        tmp_path / "isolated",
        """
        name: isolated
        python_env: python_env.yaml
        entry_points:
          main:
            command: "python where.py"
        """,
        {
            # No dependencies keeps the test fast and offline; the spec is still hashed and built.
            "python_env.yaml": f'python: "{PYTHON_MINOR}"\nbuild_dependencies: []\ndependencies: []\n',
            "where.py": f"""
                import sys
                import mltrail
                with mltrail.start_run() as run:
                    run.set_tag("prefix", sys.prefix)
                    run.set_tag("manager", "{manager}")
            """,
        },
    )
    reused, prefixes = [], []
    for _ in range(2):
        done = mltrail_run(launch_env, str(project), "--env-manager", manager, "--experiment", experiment)
        assert done.returncode == 0, done.stderr
    runs = sorted(reader.search_runs(experiment_names=[experiment]), key=lambda r: r.start_time or 0)
    for run in runs:
        run = reader.get_run(run.id)
        env = json.loads(run.tags["mltrail.project.env"])
        reused.append(run.tags["mltrail.project.envReused"])
        prefixes.append(run.tags["prefix"])  # logged by the script, from inside the environment
        assert env["manager"] == manager and env["python"] == PYTHON_MINOR
        assert prefixes[-1] == env["path"] and env["path"].startswith(launch_env["MLTRAIL_CACHE_DIR"])
    assert reused == ["false", "true"]
    assert prefixes[0] == prefixes[1] != sys.prefix


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip


@pytest.fixture
def git_repo(tmp_path: Path) -> tuple[Path, str, str]:
    """A repository whose `sub/` project prints v1 at the first commit and v2 at the second."""
    repo = tmp_path / "repo"
    mlproject = """
        entry_points:
          main:
            parameters: {greeting: {type: str, default: hello}}
            command: "python say.py {greeting}"
    """
    write_project(repo / "sub", mlproject, {"say.py": "import sys\nprint(sys.argv[1], 'v1')\n"})
    _git(repo, "init", "--quiet", "--initial-branch=trunk")
    _git(repo, "add", "-A")
    _git(repo, "commit", "--quiet", "-m", "v1")
    first = _git(repo, "rev-parse", "HEAD")
    (repo / "sub" / "say.py").write_text("import sys\nprint(sys.argv[1], 'v2')\n")
    _git(repo, "commit", "--quiet", "-am", "v2")
    return repo, first, _git(repo, "rev-parse", "HEAD")


def test_git_repository_at_a_commit_with_a_subdirectory(
    git_repo: tuple[Path, str, str], launch_env: dict[str, str], reader: MltrailClient, experiment: str
) -> None:
    repo, first, second = git_repo
    done = mltrail_run(launch_env, f"file://{repo}#sub", "--version", first, "--experiment", experiment)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "hello v1"
    run = only_run(reader, experiment)
    assert run.source is not None and run.source.git_commit == first and run.source.git_dirty is False
    assert run.tags["mltrail.project.gitCommit"] == first
    assert run.tags["mltrail.project.reproduce"] == shlex.join(
        [
            "mltrail",
            "run",
            f"{repo}#sub",
            "--version",
            first,
            "-e",
            "main",
            "-P",
            "greeting=hello",
            "--env-manager",
            "local",
        ]
    )

    # No version: the remote's default branch, recorded as the branch.
    latest = mltrail_run(launch_env, f"file://{repo}#sub", "--experiment", experiment + "-head")
    assert latest.stdout.strip() == "hello v2", latest.stderr
    head = only_run(reader, experiment + "-head")
    assert head.source is not None and head.source.git_commit == second and head.source.git_branch == "trunk"

    missing = mltrail_run(launch_env, f"file://{repo}#nope", "--version", first, "--experiment", experiment)
    assert missing.returncode == 2 and "subdirectory 'nope' does not exist" in missing.stderr


def test_from_run_reruns_the_same_commit_with_an_override(
    git_repo: tuple[Path, str, str], launch_env: dict[str, str], reader: MltrailClient, experiment: str
) -> None:
    repo, first, _ = git_repo
    _git(repo, "checkout", "--quiet", first)
    original = mltrail_run(launch_env, str(repo / "sub"), "-P", "greeting=hi", "--experiment", experiment)
    assert original.stdout.strip() == "hi v1", original.stderr
    old = only_run(reader, experiment)
    assert old.source is not None and old.source.git_commit == first

    _git(repo, "checkout", "--quiet", "trunk")  # the working tree moves on to v2
    rerun = mltrail_run(launch_env, "--from-run", old.id, "-P", "greeting=bonjour")
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stdout.strip() == "bonjour v1"  # the recorded commit, not the checkout's

    runs = {r.id: reader.get_run(r.id) for r in reader.search_runs(experiment_names=[experiment])}
    assert len(runs) == 2  # the rerun goes to the original's experiment
    new = next(run for run_id, run in runs.items() if run_id != old.id)
    assert new.params == {"greeting": "bonjour"}
    assert new.tags["mltrail.project.rerunOf"] == old.id
    assert runs[old.id].tags["mltrail.project.lastRerun"] == new.id
    assert new.source is not None and new.source.git_commit == first
    assert new.tags["mltrail.project.version"] == first

    not_a_project_run = reader.start_run(experiment_name=experiment)
    not_a_project_run.end()
    refused = mltrail_run(launch_env, "--from-run", not_a_project_run.id)
    assert refused.returncode == 2 and "was not launched by `mltrail run`" in refused.stderr


def test_a_project_not_yet_committed_is_recorded_but_not_pinned(git_repo: tuple[Path, str, str]) -> None:
    from mltrail.projects._fetch import fetch_project

    repo, _, second = git_repo
    tracked = fetch_project(str(repo / "sub"))
    assert (tracked.repository, tracked.subdirectory, tracked.git_commit) == (str(repo), "sub", second)
    write_project(repo / "draft", "entry_points: {main: {command: 'true'}}\n")
    draft = fetch_project(f"{repo}#draft")
    assert draft.git_commit == second and draft.repository is None  # a rerun runs it in place
