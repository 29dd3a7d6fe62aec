"""Account lifecycle: tokens sent by e-mail, verified addresses, what a session shows.

Accounts that exist before this revision count as verified (from their creation): they
logged in without verifying, and EMAIL_VERIFICATION=required must not lock them out.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account_token",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("created_at", app.db.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", app.db.types.UTCDateTime(), nullable=False),
        sa.Column("used_at", app.db.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_account_token_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_token")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_account_token_token_digest")),
    )
    op.create_index(
        "ix_account_token_user_id_purpose", "account_token", ["user_id", "purpose"], unique=False
    )
    op.add_column(
        "user_account",
        sa.Column("email_verified_at", app.db.types.UTCDateTime(), nullable=True),
    )
    op.execute("UPDATE user_account SET email_verified_at = created_at")
    op.add_column("refresh_token", sa.Column("client_address", sa.String(length=45), nullable=True))
    op.add_column("refresh_token", sa.Column("user_agent", sa.String(length=256), nullable=True))
    # A session's start was not kept before: its oldest token still stored stands for it.
    op.add_column(
        "refresh_token",
        sa.Column("family_created_at", app.db.types.UTCDateTime(), nullable=True),
    )
    op.execute(
        "UPDATE refresh_token SET family_created_at = ("
        "SELECT min(oldest.created_at) FROM refresh_token AS oldest"
        " WHERE oldest.family_id = refresh_token.family_id)"
    )
    with op.batch_alter_table("refresh_token") as batch:
        batch.alter_column(
            "family_created_at", existing_type=app.db.types.UTCDateTime(), nullable=False
        )


def downgrade() -> None:
    # Batch mode: SQLite rebuilds the tables; PostgreSQL drops the columns in place.
    with op.batch_alter_table("refresh_token") as batch:
        batch.drop_column("family_created_at")
        batch.drop_column("user_agent")
        batch.drop_column("client_address")
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("email_verified_at")
    op.drop_index("ix_account_token_user_id_purpose", table_name="account_token")
    op.drop_table("account_token")
