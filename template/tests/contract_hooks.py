"""Schemathesis hooks of the contract test (SCHEMATHESIS_HOOKS=tests.contract_hooks).

A new password must not be one of the most common ones: the one rule of the request
schemas that JSON Schema cannot state (the fields' descriptions say it). Cases that break
it are not sent, in any phase, so that a refusal of any other schema-valid request still
fails the run.
"""

from typing import Any

import schemathesis

from app.core.common_passwords import is_common

# The fields that take a new password (app/schemas/user.py).
NEW_PASSWORD_FIELDS = ("password", "new_password")


@schemathesis.hook
def filter_case(_context: Any, case: Any) -> bool:
    """False for a request whose body sets a new password that is a common one."""
    body = case.body
    if not isinstance(body, dict):
        return True
    return not any(
        isinstance(body.get(field), str) and is_common(body[field]) for field in NEW_PASSWORD_FIELDS
    )
