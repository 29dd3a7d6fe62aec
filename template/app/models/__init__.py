"""Every model, imported here so Alembic and the mappers see them all."""

from app.models.account_token import AccountToken
from app.models.refresh_token import RefreshToken
from app.models.user import User

__all__ = ["AccountToken", "RefreshToken", "User"]
