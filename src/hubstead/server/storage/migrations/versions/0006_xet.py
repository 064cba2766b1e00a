"""Xet storage: xorbs, who may use each, global-dedup chunks, files and their xorbs.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "xet_xorbs",
        sa.Column("hash", sa.String(64), primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("chunks", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "xet_xorb_repos",
        sa.Column(
            "xorb_hash",
            sa.String(64),
            sa.ForeignKey("xet_xorbs.hash", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "repo_id",
            sa.Integer,
            sa.ForeignKey("repos.id", ondelete="CASCADE"),
            primary_key=True,
            index=True,
        ),
    )
    op.create_table(
        "xet_xorb_uploaders",
        sa.Column(
            "xorb_hash",
            sa.String(64),
            sa.ForeignKey("xet_xorbs.hash", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "account_id",
            sa.Integer,
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            primary_key=True,
            index=True,
        ),
    )
    op.create_table(
        "xet_dedup_chunks",
        sa.Column("chunk_hash", sa.String(64), primary_key=True),
        sa.Column(
            "xorb_hash",
            sa.String(64),
            sa.ForeignKey("xet_xorbs.hash", ondelete="CASCADE"),
            primary_key=True,
            index=True,
        ),
    )
    op.create_table(
        "xet_files",
        sa.Column("hash", sa.String(64), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False, index=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("terms", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "xet_file_xorbs",
        sa.Column("xorb_hash", sa.String(64), primary_key=True),
        sa.Column(
            "file_hash",
            sa.String(64),
            sa.ForeignKey("xet_files.hash", ondelete="CASCADE"),
            primary_key=True,
            index=True,
        ),
    )


def downgrade() -> None:
    tables = (
        "xet_file_xorbs",
        "xet_files",
        "xet_dedup_chunks",
        "xet_xorb_uploaders",
        "xet_xorb_repos",
        "xet_xorbs",
    )
    for table in tables:
        op.drop_table(table)
