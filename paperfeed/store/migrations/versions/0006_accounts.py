"""Verified addresses and personal API tokens.

Revision 0006. `users.email_verified_at` is when the member proved the address is
theirs (an emailed link); NULL until then, so members of an upgraded database start
unverified, and nothing tied to their address (its digest subscriptions) is theirs
until they click. `api_tokens` keeps only each token's SHA-256, as `sessions` does.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TEXT = sa.Text()


def upgrade() -> None:
    op.add_column("users", sa.Column("email_verified_at", TEXT, nullable=True))
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("token_hash", TEXT, nullable=False, unique=True),
        sa.Column("label", TEXT, nullable=False),
        sa.Column("created_at", TEXT, nullable=False),
        sa.Column("last_used_at", TEXT),
    )
    op.create_index("api_tokens_user", "api_tokens", ["user_id"])


def downgrade() -> None:
    raise NotImplementedError("paperfeed migrates forward only; restore a backup to go back")
