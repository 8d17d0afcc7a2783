"""Papers are known by a `key`, not a `rowid`: the name says what it is to the rest of
the code (a stable integer key, also used by the index files and the outbox) and
is not a SQLite-ism on PostgreSQL. Values do not change, so index files and
outbox sections written before stay valid.

Revision 0005. RENAME COLUMN (SQLite >= 3.25, PostgreSQL) also rewrites the
foreign keys, indexes and triggers that name the column.
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

RENAMES = (
    ("papers", "rowid", "key"),
    ("paper_categories", "paper_rowid", "paper_key"),
    ("paper_sources", "paper_rowid", "paper_key"),
    ("submissions", "paper_rowid", "paper_key"),
    ("votes", "paper_rowid", "paper_key"),
    ("paper_votes", "paper_rowid", "paper_key"),
    ("sent_papers", "paper_rowid", "paper_key"),
)


def upgrade() -> None:
    for table, old, new in RENAMES:
        op.alter_column(table, old, new_column_name=new)
    # paperfeed before Alembic read its version from `schema_version` and refuses a
    # database newer than it knows: 5 makes an old binary stop with "upgrade paperfeed"
    # rather than fail on a renamed column.
    op.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    op.execute("INSERT INTO schema_version (version) VALUES (5)")


def downgrade() -> None:
    raise NotImplementedError("paperfeed migrates forward only; restore a backup to go back")
