import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.schemas.fields import CurrentPassword, Email, FullName, Password


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    password: Password
    full_name: FullName | None = None


class UserUpdateMe(BaseModel):
    """What users may change about themselves: no privileges, and extra fields are refused."""

    model_config = ConfigDict(extra="forbid")

    email: Email | None = None
    full_name: FullName | None = None
    password: Password | None = None
    current_password: CurrentPassword | None = None

    @model_validator(mode="after")
    def _current_password_for_credentials(self) -> "UserUpdateMe":
        if (self.password is not None or self.email is not None) and not self.current_password:
            raise ValueError("current_password is required to change the e-mail or the password")
        return self


class UserUpdate(BaseModel):
    """What a superuser may change about any user."""

    model_config = ConfigDict(extra="forbid")

    email: Email | None = None
    full_name: FullName | None = None
    password: Password | None = None
    is_active: bool | None = None
    is_superuser: bool | None = None


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    full_name: str | None
    is_active: bool
    is_superuser: bool
    created_at: datetime


class UserPage(BaseModel):
    items: list[UserRead]
    total: int
    limit: int
    offset: int


class PageParams(BaseModel):
    limit: int = Field(default=20, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=1_000_000)
