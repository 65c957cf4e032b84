"""The search language: ``parser`` turns filter and orderBy text into a small AST, ``compiler``
turns that AST into SQLAlchemy Core expressions, so one SQL statement answers a search;
``runs`` runs run searches (pagination, the runs table)."""
