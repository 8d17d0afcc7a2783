"""`paperfeed db`: the database itself (PAPERFEED_DATABASE_URL, or the SQLite file)."""

from __future__ import annotations

import click

from .context import Context, pass_context


@click.group()
def db() -> None:
    """The store's database: bring its schema up to date."""


@db.command()
@pass_context
def migrate(ctx: Context) -> None:
    """Upgrade the schema to this paperfeed's newest revision.

    Every process does this when it opens the store; on a shared PostgreSQL run it once,
    before starting the new version's web and worker processes. A database made by a
    newer paperfeed is refused and left as it was."""
    from ..store import migrate_schema

    before, after = migrate_schema(ctx.settings.store_url)
    if before == after:
        click.echo(f"schema already at revision {after}")
    else:
        click.echo(f"schema migrated from revision {before or '(empty database)'} to {after}")
