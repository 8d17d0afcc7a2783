"""Alembic's entry point. paperfeed runs it from `store.migrate` on a connection it has
already opened inside its write transaction (`config.attributes["connection"]`), so
the whole upgrade commits or rolls back as one; there is no alembic.ini at run time."""

from alembic import context
from sqlalchemy import Connection

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run migrations through paperfeed.store.migrate, which passes a connection")
context.configure(connection=connection, transaction_per_migration=False)
with context.begin_transaction():
    context.run_migrations()
