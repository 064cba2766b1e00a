"""git-lfs file locks: at most one per path of a repo, gone with the repo or the owner.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lfs_locks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "repo_id",
            sa.Integer,
            sa.ForeignKey("repos.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column(
            "owner_id",
            sa.Integer,
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("repo_id", "path", name="uq_lfs_locks_repo_path"),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("lfs_locks")
