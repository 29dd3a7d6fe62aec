"""Field types shared by request schemas: every rule is in the schema, enforced before any work.

Each rule is one JSON Schema can state (a length, a pattern, a format), so that a
request the OpenAPI document calls valid is never refused as invalid; the one exception,
the list of common passwords, is said in the field's description.
"""

from typing import Annotated

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from pydantic import AfterValidator, Field, StringConstraints

from app.core.common_passwords import is_common
from app.core.security import MAX_PASSWORD_LENGTH

# PostgreSQL refuses NUL in text; refusing it in the schema keeps that a 422, not a 500.
NO_NUL = r"^[^\x00]*$"


def _any_case(word: str) -> str:
    return "".join(f"[{letter}{letter.upper()}]" for letter in word)


# The addresses JSON Schema's "email" format allows but email-validator refuses, stated in
# the schema (as `not`): special-use domains such as .local and .onion (".test" is
# allowed, for test accounts), a quoted local part, an IP address for a domain.
REFUSED_DOMAINS = [name for name in SPECIAL_USE_DOMAIN_NAMES if name != "test"]
REFUSED_EMAILS = {
    "anyOf": [
        {"pattern": f"[.@]({'|'.join(_any_case(name) for name in REFUSED_DOMAINS)})$"},
        {"pattern": '^"'},
        {"pattern": r"@\["},
    ]
}


def normalize_email(value: str) -> str:
    """The address, normalized and lower-cased, if its syntax is valid: the one form an
    address is stored and looked up in. Deliverability is not checked: this service sends
    no mail, and internal domains are fine."""
    try:
        checked = validate_email(
            value, check_deliverability=False, test_environment=True, globally_deliverable=False
        )
    except EmailNotValidError as error:
        raise ValueError(f"value is not a valid email address: {error}") from None
    return checked.normalized.lower()


Email = Annotated[
    str,
    Field(
        max_length=254,
        examples=["ada@example.com"],
        json_schema_extra={"format": "email", "not": REFUSED_EMAILS},
    ),
    AfterValidator(normalize_email),
]


def _login_name(value: str) -> str:
    # Not an address at all: then it matches no stored address, and the login fails like
    # any other (the same answer, the same time), not as a validation error.
    try:
        return normalize_email(value)
    except ValueError:
        return value


# The username of the OAuth2 password grant: an e-mail address, looked up as stored.
LoginName = Annotated[
    str,
    Field(min_length=1, max_length=254, pattern=NO_NUL, examples=["ada@example.com"]),
    AfterValidator(_login_name),
]
TOO_COMMON = (
    "this password is one of the 20,000 most common ones, which guessers try first; "
    "choose another (a few unrelated words make a strong one)"
)


def _uncommon(password: str) -> str:
    # The one rule a JSON Schema cannot state (a list of 20,000 would be the document's
    # bulk): the field's description says it instead.
    if is_common(password):
        raise ValueError(TOO_COMMON)
    return password


# A new password: at sign-up, at a change, set by a superuser.
Password = Annotated[
    str,
    Field(
        min_length=8,
        max_length=MAX_PASSWORD_LENGTH,
        pattern=NO_NUL,
        description="At least 8 characters, and none of the 20,000 most common passwords.",
        examples=["correct horse battery staple"],
    ),
    AfterValidator(_uncommon),
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
