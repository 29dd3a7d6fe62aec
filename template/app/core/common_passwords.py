"""The most common passwords, which no account may use (OWASP ASVS 5.0, 6.2.12).

The list is data, shipped beside this module: common-passwords.txt holds the 19,640
passwords most often found in breaches, lower-cased, most common first, one a line. It is
Royce Williams's list of the 20,000 most common passwords as Django 5.2 ships it
(django/contrib/auth/common-passwords.txt.gz, BSD-3-Clause). Taken as a file rather than
through a package: the one maintained Python package with a password list (zxcvbn) leaves
out repeats, sequences and names such as "00000000", "abcdefgh" and "jennifer", which
guessers try first.
"""

from functools import lru_cache
from pathlib import Path

LIST_FILE = Path(__file__).with_name("common-passwords.txt")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """Read once, on the first password checked, not when the app is imported."""
    with LIST_FILE.open(encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def is_common(password: str) -> bool:
    """Whether the password, whatever its case and surrounding spaces, is on the list."""
    return password.strip().lower() in common_passwords()
