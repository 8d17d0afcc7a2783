"""Members, their sessions, login throttling, submissions and upvotes.

Revision 0002 (was migrations/0002_community.sql). Names and addresses compare
case-blind: SQLite's NOCASE collation, PostgreSQL's citext type (a contrib
extension every build ships; ICU collations are not in every build), so
`WHERE email = :email` means the same on each.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TEXT = sa.Text()
NOCASE = sa.Text(collation="NOCASE").with_variant(postgresql.CITEXT(), "postgresql")


def _paper_key() -> sa.Column:
    return sa.Column("paper_rowid", sa.Integer, sa.ForeignKey("papers.rowid", ondelete="CASCADE"),
                     primary_key=True, autoincrement=False)


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS citext")
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", NOCASE, nullable=False, unique=True),
        sa.Column("email", NOCASE, nullable=False, unique=True),
        sa.Column("password_hash", TEXT, nullable=False),  # argon2id, with its parameters
        sa.Column("is_admin", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("created_at", TEXT, nullable=False),
    )

    # Server-side sessions: the cookie holds a random token, the table its SHA-256,
    # so a copy of the database cannot be replayed as a login.
    op.create_table(
        "sessions",
        sa.Column("token_hash", TEXT, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("created_at", TEXT, nullable=False),
        sa.Column("expires_at", TEXT, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index("sessions_user", "sessions", ["user_id"])

    # Failed logins, per account and per client address, for rate limiting
    # (a table, not process memory, so every worker process sees every failure).
    op.create_table(
        "login_failures",
        sa.Column("key", TEXT, nullable=False),
        sa.Column("at", sa.Float, nullable=False),  # unix time
    )
    op.create_index("login_failures_key", "login_failures", ["key", "at"])

    # A paper submitted by a member joins the daily list of the day it was submitted.
    op.create_table(
        "submissions",
        _paper_key(),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("featured_on", TEXT, nullable=False),  # YYYY-MM-DD
        sa.Column("submitted_at", TEXT, nullable=False),
        # set by an admin: gone from every list
        sa.Column("hidden", sa.Integer, nullable=False, server_default=sa.text("0")),
    )
    op.create_index("submissions_featured", "submissions", ["featured_on"],
                    sqlite_where=sa.text("hidden = 0"), postgresql_where=sa.text("hidden = 0"))

    # One upvote per member per paper.
    op.create_table(
        "votes",
        _paper_key(),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
                  primary_key=True, autoincrement=False),
        sa.Column("created_at", TEXT, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index("votes_user", "votes", ["user_id", "created_at"])

    # Vote totals, kept in the same transaction as `votes`, so lists never count rows.
    op.create_table(
        "paper_votes",
        _paper_key(),
        sa.Column("votes", sa.Integer, nullable=False),
    )
    op.create_index("paper_votes_votes", "paper_votes", ["votes"])


def downgrade() -> None:
    raise NotImplementedError("paperfeed migrates forward only; restore a backup to go back")
