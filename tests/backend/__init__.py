"""Backend tests, one package per package of ``backend/mltrail_server``.

Packages (with ``__init__.py``) on purpose: a test directory named like the code's ``graphql/``
or ``http/`` would otherwise go on ``sys.path`` under its bare name and shadow graphql-core or
the standard library's ``http``.
"""
