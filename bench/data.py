"""Users and refresh tokens written straight into the bench database, in bulk."""

import hashlib
import secrets
import subprocess
from pathlib import Path

from tests.support.databases import database_url, psql
from tests.support.environment import TEMPLATE_ROOT

PASSWORD = "bench passphrase 12"


def add_users(database: str, count: int, prefix: str, hashed_password: str) -> None:
    """`count` active users named `<prefix><n>@example.com`, all with `hashed_password`, their
    addresses verified (EMAIL_VERIFICATION=required lets no other account log in)."""
    psql(
        "INSERT INTO user_account (id, email, full_name, hashed_password, is_active,"
        " is_superuser, email_verified_at, created_at, updated_at)"
        f" SELECT gen_random_uuid(), '{prefix}' || n || '@example.com', 'Bench user ' || n,"
        f" '{hashed_password}', true, false, now(), now() - n * interval '1 millisecond', now()"
        f" FROM generate_series(1, {count}) AS n",
        database,
    )


def add_dead_weight_tokens(database: str, count: int, prefix: str) -> None:
    """`count` live refresh tokens spread over the users named `<prefix>...`: table size."""
    psql(
        "INSERT INTO refresh_token (id, user_id, family_id, token_digest, created_at,"
        " family_created_at, expires_at, family_expires_at)"
        " SELECT gen_random_uuid(), owner.id, gen_random_uuid(),"
        " encode(sha256(('dead-weight-' || n)::text::bytea), 'hex'), now(), now(),"
        " now() + interval '7 days', now() + interval '30 days'"
        f" FROM generate_series(1, {count}) AS n"
        " JOIN LATERAL (SELECT id FROM user_account"
        f"   WHERE email = '{prefix}' || (1 + n % 1000) || '@example.com') AS owner ON true",
        database,
    )


def issue_refresh_tokens(database: str, count: int, prefix: str, folder: Path) -> Path:
    """`count` fresh refresh tokens for the first 1,000 users named `<prefix>...`, one family
    each; a file of the JSON bodies that refresh them, one per line."""
    tokens = [secrets.token_urlsafe(32) for _ in range(count)]
    rows = "".join(
        f"{number % 1000 + 1}\t{hashlib.sha256(token.encode()).hexdigest()}\n"
        for number, token in enumerate(tokens)
    )
    insert = (
        "INSERT INTO refresh_token (id, user_id, family_id, token_digest, created_at,"
        " family_created_at, expires_at, family_expires_at)"
        " SELECT gen_random_uuid(), u.id, gen_random_uuid(), issued.digest, now(), now(),"
        " now() + interval '7 days', now() + interval '30 days'"
        f" FROM issued JOIN user_account u ON u.email = '{prefix}' || issued.n || '@example.com'"
    )
    # One psql session, statement by statement: the COPY reads the rows from stdin.
    statements = ["CREATE TEMP TABLE issued (n int, digest text)", "COPY issued FROM STDIN", insert]
    loaded = subprocess.run(
        ["psql", database_url(database), "-v", "ON_ERROR_STOP=1", "-q"]
        + [argument for statement in statements for argument in ("-c", statement)],
        input=rows,
        text=True,
        check=False,
        cwd=TEMPLATE_ROOT,
        capture_output=True,
    )
    if loaded.returncode != 0:
        raise RuntimeError(f"psql could not load the refresh tokens:\n{loaded.stderr}")
    bodies = folder / "refresh-bodies.txt"
    bodies.write_text("".join(f'{{"refresh_token": "{token}"}}\n' for token in tokens))
    return bodies


def make_superuser(database: str, email: str) -> None:
    psql(f"UPDATE user_account SET is_superuser = true WHERE email = '{email}'", database)


def count_rows(database: str, table: str) -> int:
    return int(psql(f"SELECT count(*) FROM {table}", database))
