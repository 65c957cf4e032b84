"""The client's public surface: a sorted, explicit `__all__`, a light import, valid documents."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import mltrail
from mltrail import _documents, _exceptions

REPO = Path(__file__).resolve().parents[2]


def test_all_is_sorted_and_complete() -> None:
    assert mltrail.__all__ == sorted(mltrail.__all__)
    public = {name for name in vars(mltrail) if not name.startswith("_")}
    # Submodules are attributes of the package once imported; they are not the API.
    modules = {name for name in public if type(getattr(mltrail, name)).__name__ == "module"}
    assert public - modules == set(mltrail.__all__)
    for name in mltrail.__all__:
        assert getattr(mltrail, name).__module__.startswith("mltrail.")


def test_exception_tree_matches_codes() -> None:
    assert issubclass(mltrail.ApiError, mltrail.MltrailError)
    assert issubclass(mltrail.ServerUnavailable, mltrail.MltrailError)
    assert not issubclass(mltrail.ServerUnavailable, mltrail.ApiError)
    for code, cls in _exceptions.ERRORS_BY_CODE.items():
        error = _exceptions.api_error("boom", code)
        assert type(error) is cls and error.code == code and str(error) == "boom"
        assert cls.__name__ in _exceptions.__doc__
    assert type(_exceptions.api_error("x", "SOMETHING_NEW")) is mltrail.InternalError
    assert type(_exceptions.api_error("x", None)) is mltrail.InvalidArgument


def test_api_errors_pickle_with_their_code() -> None:
    import pickle

    error = pickle.loads(pickle.dumps(mltrail.Conflict("param 'lr' differs", code="CONFLICT", path=["logBatch"])))
    assert isinstance(error, mltrail.Conflict) and error.code == "CONFLICT" and error.path == ["logBatch"]


def test_import_is_light_and_pulls_no_server_code() -> None:
    # How long the import takes is a figure, not an assertion: bench/client.py prints it.
    script = (
        "import sys\n"
        "import mltrail\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('strawberry', 'sqlalchemy', 'starlette', 'uvicorn', 'mltrail_server', 'gql', 'httpx', 'graphql',"
        " 'pandas', 'psutil', 'pynvml'))\n"
        "print(heavy)\n"
    )
    heavy = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert heavy.strip() == "[]", heavy


@pytest.mark.parametrize(
    "name", sorted(n for n in vars(_documents) if n.isupper() and not n.endswith("_FIELDS") and n != "QUEUED_OPERATIONS")
)
def test_documents_are_valid_against_the_checked_in_schema(name: str) -> None:
    from graphql import build_schema, parse, validate

    schema = build_schema((REPO / "schema.graphql").read_text())
    errors = validate(schema, parse(getattr(_documents, name)))
    assert not errors, errors
