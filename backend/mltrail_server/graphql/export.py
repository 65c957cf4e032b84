"""Print the schema as SDL: `python -m mltrail_server.graphql.export > schema.graphql`."""

from __future__ import annotations

import sys

from mltrail_server.graphql.schema import export_sdl

if __name__ == "__main__":
    sys.stdout.write(export_sdl())
