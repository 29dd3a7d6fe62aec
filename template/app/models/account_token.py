import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utc_now
from app.db.base import Base, UUIDPrimaryKey


class AccountToken(UUIDPrimaryKey, Base):
    """A token sent by e-mail: a password reset, an address's verification or an e-mail
    change. Only its SHA-256 digest is stored; the raw value exists in the e-mail alone."""

    __tablename__ = "account_token"
    __table_args__ = (Index("ix_account_token_user_id_purpose", "user_id", "purpose"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    # What the token may do (app/services/accounts.py): a token of one purpose is no
    # token of another.
    purpose: Mapped[str] = mapped_column(String(20))
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    # The address the e-mail went to: a token works only while the account still has it
    # (for an e-mail change, while no one else has taken it).
    address: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
