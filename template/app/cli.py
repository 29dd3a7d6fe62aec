"""Administrative commands, `python -m app.cli --help` lists them.

- `create-superuser --email admin@example.com`: the password is read from
  SUPERUSER_PASSWORD or prompted for, never taken from argv, where it would land in
  shell history and the process list.
- `purge-tokens`: delete refresh tokens that can never be used again. Every refresh
  adds a row; run this daily (a cron job, a scheduled task of the platform).
- `send-test-email --to you@example.com`: send a test message at once with the e-mail
  settings (EMAIL_BACKEND, SMTP_*), to set a provider up; the error says what failed.
"""

import argparse
import asyncio
import getpass
import os
import sys

import aiosmtplib
from pydantic import ValidationError

from app.core.config import get_settings
from app.core.exceptions import Conflict
from app.db.session import Database
from app.mail.delivery import mailer
from app.mail.messages import compose
from app.schemas.user import UserCreate
from app.services import wiring
from app.services.purge import PURGE_BATCH_SIZE, purge_tokens

PASSWORD_VARIABLE = "SUPERUSER_PASSWORD"  # noqa: S105 - the name of a variable
MAX_PURGE_BATCH_SIZE = 100_000


def read_password() -> str:
    password = os.environ.get(PASSWORD_VARIABLE)
    if password:
        return password
    if not sys.stdin.isatty():
        raise SystemExit(f"Set {PASSWORD_VARIABLE} or run this command in a terminal.")
    password = getpass.getpass("Password: ")
    if password != getpass.getpass("Password (again): "):
        raise SystemExit("The passwords do not match.")
    return password


async def create_superuser(email: str, full_name: str | None, password: str) -> str:
    try:
        data = UserCreate(email=email, password=password, full_name=full_name)
    except ValidationError as exc:
        raise SystemExit(
            "; ".join(f"{error['loc'][0]}: {error['msg']}" for error in exc.errors())
        ) from None
    settings = get_settings()
    database = Database.from_settings(settings)
    try:
        async with database.unit_of_work() as session:
            service = wiring.user_service(session, settings)
            try:
                user = await service.register(data, is_superuser=True, verified=True)
            except Conflict as exc:
                raise SystemExit(exc.detail) from None
        return str(user.id)
    finally:
        await database.engine.dispose()


async def purge_tokens_command(batch_size: int) -> int:
    database = Database.from_settings(get_settings())
    try:
        return await purge_tokens(database, batch_size)
    finally:
        await database.engine.dispose()


async def send_test_email(to: str) -> None:
    settings = get_settings()
    await mailer(settings).send(compose("test", to, settings))


def _batch_size(text: str) -> int:
    value = int(text)
    if not 1 <= value <= MAX_PURGE_BATCH_SIZE:
        raise argparse.ArgumentTypeError(f"must be from 1 to {MAX_PURGE_BATCH_SIZE}")
    return value


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m app.cli")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-superuser", help="create a superuser account")
    create.add_argument("--email", required=True)
    create.add_argument("--full-name")
    purge = commands.add_parser(
        "purge-tokens", help="delete expired and revoked refresh tokens (run it daily)"
    )
    purge.add_argument("--batch-size", type=_batch_size, default=PURGE_BATCH_SIZE)
    test_email = commands.add_parser(
        "send-test-email", help="send a test message now, with the e-mail settings"
    )
    test_email.add_argument("--to", required=True, help="the address to send it to")
    arguments = parser.parse_args(argv)
    if arguments.command == "create-superuser":
        user_id = asyncio.run(
            create_superuser(arguments.email, arguments.full_name, read_password())
        )
        print(f"Created superuser {arguments.email} ({user_id}).")
    elif arguments.command == "purge-tokens":
        deleted = asyncio.run(purge_tokens_command(arguments.batch_size))
        print(f"Deleted {deleted} expired or revoked refresh tokens.")
    elif arguments.command == "send-test-email":
        settings = get_settings()
        try:
            asyncio.run(send_test_email(arguments.to))
        except (OSError, aiosmtplib.SMTPException) as exc:
            raise SystemExit(f"Not sent ({settings.mail_delivery}): {exc}") from None
        print(f"Sent a test message to {arguments.to} (EMAIL_BACKEND={settings.mail_delivery}).")


if __name__ == "__main__":
    main()
