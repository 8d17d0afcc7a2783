"""A member's own signals and library: ratings, collections, interests, private feeds.

Revision 0007 (issue 11). Ratings are private ("more / less like this", +1 / -1) and
separate from public upvotes; a rating of 0 is no row. Collections are named lists of
papers, private unless the member makes a share link (`share_token`, random, shown in
the link, so stored as is; making a new one revokes the old). `member_categories` are
the arXiv categories a member picked to start from; `feed_tokens` keep only the SHA-256
of each private Atom feed's secret URL token, as `api_tokens` and `sessions` do.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TEXT = sa.Text()
NOCASE = sa.Text(collation="NOCASE").with_variant(postgresql.CITEXT(), "postgresql")


def _user(primary_key: bool = False) -> sa.Column:
    return sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
                     nullable=False, primary_key=primary_key, autoincrement=False)


def _paper(primary_key: bool = False) -> sa.Column:
    return sa.Column("paper_key", sa.Integer, sa.ForeignKey("papers.key", ondelete="CASCADE"),
                     nullable=False, primary_key=primary_key, autoincrement=False)


def upgrade() -> None:
    op.create_table(
        "ratings",
        _user(primary_key=True),
        _paper(primary_key=True),
        sa.Column("rating", sa.SmallInteger, nullable=False),  # +1 more like this, -1 less
        sa.Column("rated_at", TEXT, nullable=False),
        sa.CheckConstraint("rating IN (-1, 1)", name="ratings_sign"),
    )
    op.create_table(
        "collections",
        sa.Column("id", sa.Integer, primary_key=True),
        _user(),
        sa.Column("name", NOCASE, nullable=False),
        sa.Column("share_token", TEXT, unique=True),  # NULL: private
        sa.Column("created_at", TEXT, nullable=False),
        sa.UniqueConstraint("user_id", "name", name="collections_user_name"),
    )
    op.create_table(
        "collection_papers",
        sa.Column("collection_id", sa.Integer,
                  sa.ForeignKey("collections.id", ondelete="CASCADE"),
                  primary_key=True, autoincrement=False),
        _paper(primary_key=True),
        sa.Column("added_at", TEXT, nullable=False),
    )
    op.create_index("collection_papers_paper", "collection_papers", ["paper_key"])
    op.create_table(
        "member_categories",
        _user(primary_key=True),
        sa.Column("category", TEXT, primary_key=True),
    )
    op.create_table(
        "feed_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        _user(),
        sa.Column("token_hash", TEXT, nullable=False, unique=True),
        sa.Column("created_at", TEXT, nullable=False),
    )
    op.create_index("feed_tokens_user", "feed_tokens", ["user_id"])
    # "For you" in the member's digest: off until they ask for it.
    op.add_column("users", sa.Column("digest_for_you", sa.Integer, nullable=False,
                                     server_default=sa.text("0")))


def downgrade() -> None:
    raise NotImplementedError("paperfeed migrates forward only; restore a backup to go back")
