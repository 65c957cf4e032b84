"""Domain rules: validation, idempotency and events. Never imports Strawberry.

One module per domain, each under ~500 lines, depending one way (a domain may use the ones
to its right, never the reverse)::

    metrics → runs → experiments → search/, pagination, validation, clock
    artifacts → runs
    batch_reads (the DataLoaders' per-item reads) → store only

Service functions take the session first and keyword-only arguments; the caller owns the
transaction. Raw SQL and driver calls live in store/, never here. A new domain (e.g. the
registry) copies this shape: ``<domain>.py`` for its rules, its list reads through
``pagination.Page`` (whose ``total_count`` the GraphQL layer runs only when asked), its checks
in ``validation``.
"""
