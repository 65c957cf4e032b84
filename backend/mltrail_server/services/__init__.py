"""Domain rules: validation, idempotency and events. Never imports Strawberry."""
