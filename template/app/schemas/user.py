import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.fields import CurrentPassword, Email, FullName, Password


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    password: Password
    full_name: FullName | None = None


class UserUpdateMe(BaseModel):
    """What users may change about themselves freely: no privileges, no credentials."""

    model_config = ConfigDict(extra="forbid")

    full_name: FullName | None = None


class PasswordChange(BaseModel):
    """A new password, proven by the current one."""

    model_config = ConfigDict(extra="forbid")

    current_password: CurrentPassword
    new_password: Password


class EmailChange(BaseModel):
    """A new e-mail address, proven by the current password."""

    model_config = ConfigDict(extra="forbid")

    email: Email
    current_password: CurrentPassword


class UserUpdate(BaseModel):
    """What a superuser may change about any user."""

    model_config = ConfigDict(extra="forbid")

    email: Email | None = None
    full_name: FullName | None = None
    password: Password | None = None
    is_active: bool | None = None
    is_superuser: bool | None = None


class UserRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "3f2b6c1e-8d4a-4e5b-9c7d-2a1b0c9d8e7f",
                    "email": "ada@example.com",
                    "full_name": "Ada Lovelace",
                    "is_active": True,
                    "is_superuser": False,
                    "email_verified_at": "2026-01-15T09:34:12Z",
                    "created_at": "2026-01-15T09:30:00Z",
                }
            ]
        },
    )

    id: uuid.UUID
    email: str
    full_name: str | None
    is_active: bool
    is_superuser: bool
    email_verified_at: datetime | None = Field(
        description="When the account followed a link sent to its address; null until then."
    )
    created_at: datetime


class UserPage(BaseModel):
    items: list[UserRead]
    limit: int
    next: uuid.UUID | None = Field(
        description="Pass it as `after` for the next page; null on the last page."
    )


class PageParams(BaseModel):
    limit: int = Field(default=20, ge=1, le=100)
    after: uuid.UUID | None = Field(
        default=None, description="The `next` of the previous page; none for the first page."
    )
