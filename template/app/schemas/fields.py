"""Field types shared by request schemas: every cap is enforced before any work is done."""

from typing import Annotated

from pydantic import AfterValidator, EmailStr, Field, StringConstraints

from app.core.security import BCRYPT_MAX_BYTES


def _refuse_nul(value: str) -> str:
    # PostgreSQL refuses NUL in text; refusing it here keeps that a 422, not a 500.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


no_nul = AfterValidator(_refuse_nul)


def _fits_bcrypt(value: str) -> str:
    if len(value.encode()) > BCRYPT_MAX_BYTES:
        raise ValueError(f"must be at most {BCRYPT_MAX_BYTES} bytes in UTF-8")
    return value


Email = Annotated[
    EmailStr,
    Field(max_length=254),
    no_nul,
    AfterValidator(str.lower),
]
Password = Annotated[
    str,
    Field(min_length=8, max_length=BCRYPT_MAX_BYTES),
    no_nul,
    AfterValidator(_fits_bcrypt),
]
# The current password is only compared, so any length up to bcrypt's limit is accepted.
CurrentPassword = Annotated[str, Field(min_length=1, max_length=BCRYPT_MAX_BYTES), no_nul]
FullName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), no_nul]
