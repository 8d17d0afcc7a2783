"""A counter bumped by every change to what the public lists show (votes, submissions,
hiding, links), kept by triggers so no code path can forget it. Rendered pages are
cached per (store seq, this version).

Revision 0004 (was migrations/0004_community_version.sql). Triggers are the one
place the dialects need their own DDL: SQLite has inline trigger bodies,
PostgreSQL calls a function.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TRIGGERS = (  # name, event, table
    ("votes_added", "INSERT", "votes"),
    ("votes_removed", "DELETE", "votes"),
    ("submissions_added", "INSERT", "submissions"),
    ("submissions_changed", "UPDATE", "submissions"),
    ("links_changed", "UPDATE OF links", "papers"),
)
BUMP = "UPDATE community_version SET version = version + 1"


def upgrade() -> None:
    op.create_table(
        "community_version",
        sa.Column("id", sa.Integer, sa.CheckConstraint("id = 1"), primary_key=True,
                  autoincrement=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.execute("INSERT INTO community_version (id, version) VALUES (1, 0)")
    if op.get_context().dialect.name == "postgresql":
        op.execute("CREATE FUNCTION bump_community_version() RETURNS trigger"
                   f" LANGUAGE plpgsql AS $$ BEGIN {BUMP}; RETURN NULL; END $$")
        for name, event, table in TRIGGERS:
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table}"
                       " FOR EACH ROW EXECUTE FUNCTION bump_community_version()")
        return
    for name, event, table in TRIGGERS:
        op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {BUMP}; END")


def downgrade() -> None:
    raise NotImplementedError("paperfeed migrates forward only; restore a backup to go back")
