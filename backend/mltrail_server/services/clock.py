"""The one clock the services stamp records with: milliseconds since the epoch, as stored."""

from __future__ import annotations

import time


def now_ms() -> int:
    return int(time.time() * 1000)
