"""Authors: one row per (author, paper), so an author's papers, co-authors and an author
search are index lookups instead of a scan of every paper's author list.

Revision 0008 (issue 13). `author_key` is `models.author_key(name)`: one key for a
person's name variants where the names alone allow it (accents, case, punctuation);
`name` keeps the name as printed. `sort_key` puts the last word first ("smith john"),
so the author search finds people by surname as well as by first name. Keys hold
[a-z0-9 ] only (or a name in another script, folded), compared byte-wise: the "C"
collation on PostgreSQL, so a prefix is a range scan on both databases.

The existing papers are backfilled here, in batches (588k papers: see docs/ui.md).
"""

import sqlalchemy as sa
from alembic import op

from paperfeed.store.ingest import author_rows

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

KEY = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
BATCH = 5000


def upgrade() -> None:
    op.create_table(
        "paper_authors",
        sa.Column("author_key", KEY, primary_key=True),
        sa.Column("paper_key", sa.Integer, sa.ForeignKey("papers.key", ondelete="CASCADE"),
                  primary_key=True, autoincrement=False),
        sa.Column("position", sa.Integer, nullable=False),  # 0 = first author
        sa.Column("name", sa.Text, nullable=False),  # as printed on this paper
        sa.Column("sort_key", KEY, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index("paper_authors_paper", "paper_authors", ["paper_key", "position"])
    op.create_index("paper_authors_sort", "paper_authors", ["sort_key"])
    _backfill()


def _backfill() -> None:
    conn = op.get_bind()
    insert = sa.text("INSERT INTO paper_authors (author_key, paper_key, position, name,"
                     " sort_key) VALUES (:author_key, :paper_key, :position, :name,"
                     " :sort_key) ON CONFLICT DO NOTHING")
    after = -1
    while True:
        rows = conn.execute(sa.text("SELECT key, authors FROM papers WHERE key > :after"
                                    " ORDER BY key LIMIT :batch"),
                            {"after": after, "batch": BATCH}).all()
        if not rows:
            return
        values = [value for key, authors in rows for value in author_rows(key, authors)]
        if values:
            conn.execute(insert, values)
        after = rows[-1][0]


def downgrade() -> None:
    raise NotImplementedError("paperfeed migrates forward only; restore a backup to go back")
