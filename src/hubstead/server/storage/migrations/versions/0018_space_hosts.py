"""Space hosts: each Space's spelled host label, indexed, for `{label}.{spaces_domain}`.

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("repos", sa.Column("space_host", sa.String(200)))
    # The spelling of `domain.spaces.spelled_label` on the lowercased id `lookup` already is.
    op.execute(
        "UPDATE repos SET space_host = "
        "replace(replace(replace(lookup, '/', '-'), '_', '-'), '.', '-') "
        "WHERE type = 'space'"
    )
    op.create_index("ix_repos_space_host", "repos", ["space_host"])


def downgrade() -> None:
    op.drop_index("ix_repos_space_host", table_name="repos")
    op.drop_column("repos", "space_host")
