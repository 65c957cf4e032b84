"""The installed client's version, read lazily from the package metadata."""

from __future__ import annotations

import functools


@functools.cache
def client_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mltrail")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"
