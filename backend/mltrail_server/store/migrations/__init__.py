"""Alembic migrations; ``migrate.py`` runs them programmatically at server start."""
