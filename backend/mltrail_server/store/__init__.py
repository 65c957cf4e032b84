"""Persistence: tables, engines, migrations and the bulk ingest writer."""
