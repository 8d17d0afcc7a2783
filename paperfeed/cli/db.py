"""`paperfeed db`: the database itself (PAPERFEED_DATABASE_URL, or the SQLite file)."""

from __future__ import annotations

import sys

import click

from .backup import echo_counts, progress_bar
from .context import Context, pass_context


@click.group()
def db() -> None:
    """The store's database: bring its schema up to date, copy it to another."""


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


@db.command()
@click.option("--to", "target", required=True, metavar="URL",
              help="The database to copy into, new and empty: postgresql://USER:PASSWORD@HOST"
                   "/DB (or sqlite:///PATH).")
@pass_context
def copy(ctx: Context, target: str) -> None:
    """Copy the whole store (PAPERFEED_DATABASE_URL, or the SQLite file) into another
    database, to move a deployment from SQLite to PostgreSQL.

    The target's schema is brought to this paperfeed's first; a target holding rows is
    refused. The copy reads one snapshot of the store (`serve` may run, but stop it to
    lose nothing written after) and writes in one transaction: a failed copy leaves the
    target empty. Ends with the rows per table on each side; exit status 2 if any
    differs. Indexes are not copied: each host builds its own (`paperfeed index`)."""
    from ..store import copy_store

    with progress_bar("copying") as progress:
        report = copy_store(ctx.settings.store_url, target, progress=progress)
    echo_counts(report, "source", "target")
    if report.differing:
        sys.exit(2)
