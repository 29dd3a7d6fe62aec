"""Sessions end by their refresh-token family: tokens_valid_after goes.

An access token now names its session (the `sid` claim), which lives while its family has
an unrevoked refresh token; no timestamp of another machine is compared. Access tokens
issued before this revision have no `sid` and are refused: users sign in again.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Batch mode: SQLite rebuilds the table; PostgreSQL drops the column in place.
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("tokens_valid_after")


def downgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(
            sa.Column(
                "tokens_valid_after",
                app.db.types.UTCDateTime(),
                nullable=False,
                server_default=sa.func.current_timestamp(),
            )
        )
