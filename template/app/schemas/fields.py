"""Field types shared by request schemas: every rule is in the schema, enforced before any work.

Each rule is one JSON Schema can state (a length, a pattern, a format), so that a
request the OpenAPI document calls valid is never refused as invalid.
"""

from typing import Annotated

from pydantic import AfterValidator, EmailStr, Field, StringConstraints

from app.core.security import MAX_PASSWORD_LENGTH

# PostgreSQL refuses NUL in text; refusing it in the schema keeps that a 422, not a 500.
NO_NUL = r"^[^\x00]*$"

Email = Annotated[
    EmailStr,
    Field(max_length=254, examples=["ada@example.com"]),
    AfterValidator(str.lower),
]
Password = Annotated[
    str,
    Field(
        min_length=8,
        max_length=MAX_PASSWORD_LENGTH,
        pattern=NO_NUL,
        examples=["correct horse battery staple"],
    ),
]
# The current password is only compared, so any non-empty one is accepted.
CurrentPassword = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_PASSWORD_LENGTH,
        pattern=NO_NUL,
        examples=["correct horse battery staple"],
    ),
]
FullName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=200, pattern=NO_NUL),
    Field(examples=["Ada Lovelace"]),
]
