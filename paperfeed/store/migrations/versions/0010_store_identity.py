"""The store's identity: a random token naming the history of its change sequence.

Revision 0010 (issue 12). Each host's indexes follow the store by `papers.seq` (index/sync.py)
and remember the token of the store they followed. `db copy` carries the token with the rows
(the copy continues the same history: an index built from the source is right for the
target), while `restore` gives the store a new one (its sequence went back in time): a host
whose indexes name another token rebuilds them rather than skip the changes numbered like
ones it has already seen.
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "store_identity",
        sa.Column("id", sa.Integer, sa.CheckConstraint("id = 1"), primary_key=True,
                  autoincrement=False),
        sa.Column("token", sa.Text, nullable=False),
    )
    op.execute(sa.text("INSERT INTO store_identity (id, token) VALUES (1, :token)")
               .bindparams(token=uuid.uuid4().hex))


def downgrade() -> None:
    raise NotImplementedError("paperfeed migrates forward only; restore a backup to go back")
