"""Persistence: tables, engines, migrations, the write programs and the run writer."""
