"""Projects: `mltrail run` on MLproject files, locally or from git, in a built and cached environment.

A project is a directory (or a git repository) with an `MLproject` file in MLflow's format:
a name, an environment (`python_env: python_env.yaml`, a plain `requirements.txt`, or none)
and entry points, each a shell command template with typed `{parameters}`. The launcher
validates the parameters, quotes each value into the command, creates the run (recording
everything needed to run it again), builds the environment when asked (cached by the hash of
its specification), and runs the command with `MLTRAIL_RUN_ID` and `MLTRAIL_TRACKING_URI`
set so that the script's own `mltrail.start_run()` logs into the same run.

The pieces, each in its own module:

    _spec.py          MLproject / python_env.yaml parsing, entry points, parameter types
    _parameters.py    validation of `-P key=value` against the declared types; safe substitution
    _fetch.py         the URI → a local directory (git clone at a revision into a cache)
    _environments.py  local | virtualenv | uv environments, cached by the hash of their spec
    _launcher.py      the run: tags, child process, output capture, signals, end status

Nothing here is imported by `import mltrail`; PyYAML (the `projects` extra) loads only when a
project is read.
"""

from mltrail.projects._spec import ProjectError

__all__ = ["ProjectError"]
