"""Discussion: members' comments on papers, one level of replies (issue 13).

Revision 0008. A reply's `parent_id` names a top-level comment (the store attaches a
reply to a reply to its top-level comment, so threads are one level deep by
construction). Deleting is soft: `deleted` set and the body emptied, so a deleted
comment with replies keeps the thread's shape as "[deleted]"; `hidden` is an admin's.
`user_id` is SET NULL when an account goes, for the same reason. The comments bump
`community_version` like votes do (revision 0004's triggers), so cached pages and
cards with comment counts are rendered again after a comment changes.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TEXT = sa.Text()
TRIGGERS = (  # name, event: every change to a comment changes what pages show
    ("comments_added", "INSERT"),
    ("comments_changed", "UPDATE"),
    ("comments_removed", "DELETE"),
)
BUMP = "UPDATE community_version SET version = version + 1"


def upgrade() -> None:
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("paper_key", sa.Integer, sa.ForeignKey("papers.key", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("comments.id", ondelete="CASCADE")),
        sa.Column("body", TEXT, nullable=False),  # Markdown as typed; rendered at display
        sa.Column("created_at", TEXT, nullable=False),
        sa.Column("edited_at", TEXT),
        sa.Column("deleted", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("hidden", sa.Integer, nullable=False, server_default=sa.text("0")),
    )
    # A paper's thread in order, and the counts for a page of cards: one index.
    op.create_index("comments_paper", "comments", ["paper_key", "id"])
    op.create_index("comments_parent", "comments", ["parent_id"])
    # The rate limit counts a member's recent comments.
    op.create_index("comments_user", "comments", ["user_id", "created_at"])
    if op.get_context().dialect.name == "postgresql":  # bump_community_version(): 0004
        for name, event in TRIGGERS:
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON comments"
                       " FOR EACH ROW EXECUTE FUNCTION bump_community_version()")
        return
    for name, event in TRIGGERS:
        op.execute(f"CREATE TRIGGER {name} AFTER {event} ON comments BEGIN {BUMP}; END")


def downgrade() -> None:
    raise NotImplementedError("paperfeed migrates forward only; restore a backup to go back")
