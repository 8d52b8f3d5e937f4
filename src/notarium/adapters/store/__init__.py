"""Persistence: SQLAlchemy 2 models, repositories and Alembic migrations.

Repositories never commit; the services that call them own the transaction."""
