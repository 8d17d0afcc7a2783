"""Papers: one row per paper, whatever number of versions and sources it came from;
where each was seen; resumable harvest cursors.

Revision 0001. Reproduces migrations/0001_initial.sql of paperfeed before Alembic,
so a database made by it is stamped at this revision and upgraded from here.
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TEXT = sa.Text()


def upgrade() -> None:
    op.create_table(
        "papers",
        # internal key, also the key in the index files (renamed `key` in 0005)
        sa.Column("rowid", sa.Integer, primary_key=True),
        # public id: arXiv id, or 'pf-<hash>' for papers without one
        sa.Column("id", TEXT, nullable=False, unique=True),
        sa.Column("arxiv_id", TEXT, unique=True),
        sa.Column("doi", TEXT),
        sa.Column("title", TEXT, nullable=False),
        # models.title_key(title): matching across sources
        sa.Column("title_key", TEXT, nullable=False),
        sa.Column("abstract", TEXT, nullable=False, server_default=""),
        sa.Column("authors", TEXT, nullable=False, server_default="[]"),  # JSON array
        sa.Column("categories", TEXT, nullable=False, server_default=""),  # primary first
        sa.Column("published", TEXT),  # YYYY-MM-DD, first version
        sa.Column("updated", TEXT),  # YYYY-MM-DD, latest version seen
        sa.Column("version", sa.Integer),
        sa.Column("links", TEXT, nullable=False, server_default="{}"),  # JSON: abs, pdf, code
        # hash of the indexed fields: re-index only on change
        sa.Column("content_hash", TEXT, nullable=False),
        # bumped on every insert/change; the indexer follows it
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("added_at", TEXT, nullable=False),  # ISO timestamp, first seen here
    )
    op.create_index("papers_title_key", "papers", ["title_key"])
    op.create_index("papers_doi", "papers", ["doi"], sqlite_where=sa.text("doi IS NOT NULL"),
                    postgresql_where=sa.text("doi IS NOT NULL"))
    op.create_index("papers_published", "papers", ["published", "rowid"])
    op.create_index("papers_seq", "papers", ["seq"])

    # Category membership, for filters (papers.categories keeps the display order).
    op.create_table(
        "paper_categories",
        sa.Column("category", TEXT, primary_key=True),
        sa.Column("paper_rowid", sa.Integer,
                  sa.ForeignKey("papers.rowid", ondelete="CASCADE"), primary_key=True,
                  autoincrement=False),
        sqlite_with_rowid=False,
    )
    op.create_index("paper_categories_paper", "paper_categories", ["paper_rowid"])

    # Where each paper was seen: provenance, and the rank on a ranked page capture.
    op.create_table(
        "paper_sources",
        sa.Column("paper_rowid", sa.Integer,
                  sa.ForeignKey("papers.rowid", ondelete="CASCADE"), primary_key=True,
                  autoincrement=False),
        sa.Column("source", TEXT, primary_key=True),
        sa.Column("ref", TEXT, primary_key=True),
        sa.Column("rank", sa.Integer),
        sa.Column("seen_at", TEXT, nullable=False),
        sqlite_with_rowid=False,
    )

    # Resumable harvests: the cursor of each (source, set) after its last completed page.
    op.create_table(
        "harvest_state",
        sa.Column("name", TEXT, primary_key=True),
        sa.Column("resumption_token", TEXT),
        sa.Column("from_date", TEXT),
        sa.Column("pages", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("records", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("last_error", TEXT),
        sa.Column("updated_at", TEXT, nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("paperfeed migrates forward only; restore a backup to go back")
