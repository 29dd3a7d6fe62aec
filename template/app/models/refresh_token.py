import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utc_now
from app.db.base import Base, UUIDPrimaryKey


class RefreshToken(UUIDPrimaryKey, Base):
    """One issued refresh token; the raw value is never stored, only its SHA-256 digest."""

    __tablename__ = "refresh_token"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    # Every token rotated from one login shares a family; replay revokes the whole family.
    family_id: Mapped[uuid.UUID] = mapped_column(index=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    # When the family's login was: the session's start, carried from token to token.
    family_created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    family_expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    # Who asked for it, shown in the list of sessions: the client address and user agent
    # of the login or refresh that issued it (a family's newest token: its last use).
    client_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(256))
