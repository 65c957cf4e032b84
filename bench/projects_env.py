"""How long `mltrail run` spends on its environment: a cold build, then the cached reuse.

For each environment manager (`virtualenv`: venv + pip; `uv`: uv venv + uv pip install) a
project with the given dependencies is planned and built into a fresh cache, then planned and
"built" again (found complete in the cache: what every later run pays). Prints seconds.

    .venv/bin/python bench/projects_env.py                      # one small dependency (six)
    .venv/bin/python bench/projects_env.py --deps ''            # no dependency: venv creation only
    .venv/bin/python bench/projects_env.py --deps 'six requests'
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from mltrail.projects._environments import build_environment, find_uv, plan_environment
from mltrail.projects._spec import load_project


def run_quietly(argv: Sequence[str], cwd: Path) -> int:
    return subprocess.run(list(argv), cwd=cwd, capture_output=True, check=False).returncode


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--deps", default="six", help="space-separated requirements of the project")
    parser.add_argument("--managers", default="virtualenv,uv")
    args = parser.parse_args()
    deps = args.deps.split()

    with tempfile.TemporaryDirectory(prefix="mltrail-bench-") as scratch:
        root = Path(scratch)
        project_dir = root / "project"
        project_dir.mkdir()
        (project_dir / "MLproject").write_text("entry_points: {main: {command: 'true'}}\n")
        minor = ".".join(platform.python_version_tuple()[:2])
        listing = "".join(f"  - {dep}\n" for dep in deps)
        (project_dir / "python_env.yaml").write_text(
            f'python: "{minor}"\ndependencies:\n{listing}' if deps else f'python: "{minor}"\n'
        )
        project = load_project(project_dir)
        print(f"dependencies: {deps or 'none'}; python {platform.python_version()}")
        print(f"{'manager':<12}{'cold build s':>14}{'reuse ms':>10}")
        for manager in args.managers.split(","):
            if manager == "uv" and find_uv() is None:
                print(f"{manager:<12}{'(uv not installed)':>24}")
                continue
            os.environ["MLTRAIL_CACHE_DIR"] = str(root / f"cache-{manager}")
            started = time.perf_counter()
            built = build_environment(plan_environment(project, manager), project_dir, run_quietly)
            cold = time.perf_counter() - started
            started = time.perf_counter()
            again = build_environment(plan_environment(project, manager), project_dir, run_quietly)
            reuse = time.perf_counter() - started
            assert not built.reused and again.reused and again.directory == built.directory
            print(f"{manager:<12}{cold:>14.2f}{reuse * 1000:>10.1f}")


if __name__ == "__main__":
    main()
