"""Administrative commands: `python -m app.cli create-superuser --email admin@example.com`.

The password is read from SUPERUSER_PASSWORD or prompted for, never taken from
argv, where it would land in shell history and the process list.
"""

import argparse
import asyncio
import getpass
import os
import sys

from pydantic import ValidationError

from app.core.config import get_settings
from app.core.exceptions import Conflict
from app.db.session import Database
from app.repositories.refresh_token import RefreshTokenRepository
from app.repositories.user import UserRepository
from app.schemas.user import UserCreate
from app.services.users import UserService

PASSWORD_VARIABLE = "SUPERUSER_PASSWORD"  # noqa: S105 - the name of a variable


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
        async with database.sessions() as session:
            service = UserService(
                UserRepository(session), RefreshTokenRepository(session), settings
            )
            try:
                user = await service.register(data, is_superuser=True)
            except Conflict as exc:
                raise SystemExit(exc.detail) from None
            await session.commit()
            return str(user.id)
    finally:
        await database.engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m app.cli")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-superuser", help="create a superuser account")
    create.add_argument("--email", required=True)
    create.add_argument("--full-name")
    arguments = parser.parse_args(argv)
    if arguments.command == "create-superuser":
        user_id = asyncio.run(
            create_superuser(arguments.email, arguments.full_name, read_password())
        )
        print(f"Created superuser {arguments.email} ({user_id}).")


if __name__ == "__main__":
    main()
