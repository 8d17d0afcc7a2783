"""Email digests: subscriptions, the outbox that sends each digest exactly once,
every paper already sent to an address, and leases for single-runner jobs.

Revision 0003 (was migrations/0003_digests.sql).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TEXT = sa.Text()
NOCASE = sa.Text(collation="NOCASE").with_variant(postgresql.CITEXT(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", NOCASE, nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("frequency", TEXT, sa.CheckConstraint("frequency IN ('daily', 'weekly')"),
                  nullable=False),
        sa.Column("trending", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("query", TEXT),  # a saved search; NULL for none
        sa.Column("status", TEXT, sa.CheckConstraint(
            "status IN ('pending', 'active', 'paused', 'unsubscribed')"),
            nullable=False, server_default="pending"),
        sa.Column("created_at", TEXT, nullable=False),
        sa.Column("confirmed_at", TEXT),
        # hard delivery failures in a row
        sa.Column("failures", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("last_error", TEXT),
        sa.CheckConstraint("trending = 1 OR query IS NOT NULL"),
    )
    op.create_index("subscriptions_email", "subscriptions", ["email"])
    op.create_index("subscriptions_due", "subscriptions", ["status", "frequency"])

    # One digest per subscription per period: the UNIQUE key makes planning idempotent,
    # so a rerun, or a second worker process, never queues a digest twice.
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("subscription_id", sa.Integer,
                  sa.ForeignKey("subscriptions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("period", TEXT, nullable=False),  # 'daily:2026-11-24', 'weekly:2026-W48'
        sa.Column("email", TEXT, nullable=False),
        sa.Column("sections", TEXT, nullable=False),  # JSON {"trending": [key, ...], ...}
        # fixed at planning: a resend carries the same id
        sa.Column("message_id", TEXT, nullable=False),
        sa.Column("status", TEXT, sa.CheckConstraint(
            "status IN ('queued', 'sending', 'sent', 'failed', 'empty')"), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("next_attempt_at", sa.Float, nullable=False),  # unix time
        sa.Column("lease_owner", TEXT),  # 'host:pid:nonce' of the process sending it
        sa.Column("lease_until", sa.Float),
        sa.Column("handed_over_at", sa.Float),  # the message's final "." was about to go out
        sa.Column("last_error", TEXT),
        sa.Column("created_at", TEXT, nullable=False),
        sa.Column("sent_at", TEXT),
        sa.UniqueConstraint("subscription_id", "period"),
    )
    op.create_index("outbox_queue", "outbox", ["status", "next_attempt_at"])

    # Papers already put in a digest for an address, across all its subscriptions.
    op.create_table(
        "sent_papers",
        sa.Column("email", NOCASE, primary_key=True),
        sa.Column("paper_rowid", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("outbox_id", sa.Integer, sa.ForeignKey("outbox.id", ondelete="CASCADE"),
                  nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index("sent_papers_outbox", "sent_papers", ["outbox_id"])

    # Leases for jobs only one worker process may run at a time (harvesting).
    op.create_table(
        "job_locks",
        sa.Column("name", TEXT, primary_key=True),
        sa.Column("owner", TEXT, nullable=False),
        sa.Column("until", sa.Float, nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("paperfeed migrates forward only; restore a backup to go back")
