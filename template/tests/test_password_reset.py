"""Password reset by e-mail: the same answer for every address, a single-use link that
only the newest request's e-mail holds, and every session ended by the new password."""

import base64
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from httpx import AsyncClient
from sqlalchemy import event, select, text, update

from app.core.clock import utc_now
from app.core.security import account_token_digest
from app.db.session import Database
from app.jobs.queue import QUEUE_TABLE, SEND_ACCOUNT_EMAIL
from app.models import AccountToken, User
from tests.assertions import assert_problem
from tests.conftest import AppClient
from tests.factories import UserFactory
from tests.mailbox import Mailbox, text_of, token_in

RESET = "/api/v1/auth/password-reset"
CONFIRM = "/api/v1/auth/password-reset/confirm"
ME = "/api/v1/users/me"
SUBJECT = "reset your password"
NEW_PASSWORD = "a new and uncommon passphrase"


async def reset_link(client: AsyncClient, mailbox: Mailbox, email: str) -> str:
    response = await client.post(RESET, json={"email": email})
    assert response.status_code == 202, response.text
    found = await mailbox.messages(email, SUBJECT)
    return token_in(found[-1])


@contextmanager
def statements(database: Database) -> Iterator[list[str]]:
    """The SQL each request sends while inside the block."""
    sent: list[str] = []

    def record(*arguments: Any) -> None:
        statement = arguments[2]  # (connection, cursor, statement, ...)
        sent.append(re.sub(r"sa_savepoint_\d+", "sa_savepoint", statement))

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_every_address_gets_the_same_answer_and_only_an_active_account_an_email(
    mail_client: AppClient, users: UserFactory, mailbox: Mailbox, database: Database
) -> None:
    known = await users.create(email="known@example.com")
    inactive = await users.create(email="inactive@example.com")
    async with database.unit_of_work() as session:
        await session.execute(update(User).where(User.id == inactive.id).values(is_active=False))
    answers = []
    sent = []
    async with mail_client() as client:
        for email in (known.email, "nobody@example.com", inactive.email):
            with statements(database) as statements_sent:
                response = await client.post(RESET, json={"email": email})
            answers.append((response.status_code, response.json()))
            sent.append(statements_sent)
    assert answers[0][0] == 202
    assert answers == [answers[0]] * 3
    # The request itself looks nothing up: the same statements, whoever the address is
    # (ASVS 6.3.8: the same answer in the same time). SQLite, for development only, runs
    # the job in the request (app/jobs/in_process.py), and that job does look it up.
    if database.engine.dialect.name == "postgresql":
        assert sent[0] == sent[1] == sent[2]
        assert not [statement for statement in sent[0] if "user_account" in statement]
        async with database.sessions() as session:
            jobs = (await session.execute(text(f"SELECT entrypoint FROM {QUEUE_TABLE}"))).all()  # noqa: S608
        assert [job.entrypoint for job in jobs] == [SEND_ACCOUNT_EMAIL] * 3
    await mailbox.deliver()
    assert [received.recipients for received in mailbox.sink.received] == [[known.email]]


async def test_a_reset_sets_the_password_and_ends_every_session(
    mail_client: AppClient, users: UserFactory, mailbox: Mailbox
) -> None:
    account = await users.account()
    async with mail_client() as client:
        token = await reset_link(client, mailbox, account.user.email)
        # 256 random bits: far beyond guessing.
        assert len(base64.urlsafe_b64decode(token + "=")) >= 16
        done = await client.post(CONFIRM, json={"token": token, "password": NEW_PASSWORD})
        assert done.status_code == 204, done.text
        assert_problem(await client.get(ME, headers=account.headers), 401)
        refreshed = await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": account.refresh_token}
        )
        assert_problem(refreshed, 401)
        again = await client.post(CONFIRM, json={"token": token, "password": NEW_PASSWORD})
        assert_problem(again, 400)
    await users.login(account.user.email, NEW_PASSWORD)
    notice = await mailbox.only(account.user.email, "your password was changed")
    assert "#token=" not in text_of(notice)


async def test_the_link_carries_the_token_in_its_fragment(
    mail_client: AppClient, users: UserFactory, mailbox: Mailbox
) -> None:
    user = await users.create()
    async with mail_client() as client:
        await client.post(RESET, json={"email": user.email})
    message = await mailbox.only(user.email, SUBJECT)
    html = message.get_body(preferencelist=("html",))
    assert html is not None
    token = token_in(message)
    link = f"https://app.example.com/reset-password#token={token}"
    assert link in text_of(message)
    assert f'href="{link}"' in html.get_content()


async def test_only_a_digest_of_the_token_is_stored(
    mail_client: AppClient, users: UserFactory, mailbox: Mailbox, database: Database
) -> None:
    user = await users.create()
    async with mail_client() as client:
        token = await reset_link(client, mailbox, user.email)
    async with database.sessions() as session:
        stored = (await session.scalars(select(AccountToken.token_digest))).all()
    assert stored == [account_token_digest(token)]
    assert token not in stored


async def test_every_wrong_token_gets_one_answer(
    mail_client: AppClient, users: UserFactory, mailbox: Mailbox, database: Database
) -> None:
    user = await users.create()
    async with mail_client() as client:
        expired = await reset_link(client, mailbox, user.email)
        async with database.sessions() as session:
            await session.execute(
                update(AccountToken)
                .where(AccountToken.token_digest == account_token_digest(expired))
                .values(expires_at=utc_now() - timedelta(seconds=1))
            )
            await session.commit()
        details = set()
        for token in (expired, "not-a-token", "x" * 512, "é\x00"):
            response = await client.post(CONFIRM, json={"token": token, "password": NEW_PASSWORD})
            details.add(assert_problem(response, 400)["detail"])
    assert len(details) == 1


async def test_a_token_of_another_purpose_is_no_reset_token(
    mail_client: AppClient, users: UserFactory, mailbox: Mailbox, database: Database
) -> None:
    user = await users.create()
    async with database.unit_of_work() as session:
        await session.execute(update(User).where(User.id == user.id).values(email_verified_at=None))
    async with mail_client() as client:
        await client.post("/api/v1/auth/verify-email/resend", json={"email": user.email})
        verification = token_in(await mailbox.only(user.email, "verify"))
        response = await client.post(
            CONFIRM, json={"token": verification, "password": NEW_PASSWORD}
        )
        assert_problem(response, 400)
        # Still good for what it was made for.
        verified = await client.post("/api/v1/auth/verify-email", json={"token": verification})
        assert verified.status_code == 204


async def test_only_the_newest_link_works(
    mail_client: AppClient, users: UserFactory, mailbox: Mailbox
) -> None:
    user = await users.create()
    async with mail_client() as client:
        first = await reset_link(client, mailbox, user.email)
        second = await reset_link(client, mailbox, user.email)
        older = await client.post(CONFIRM, json={"token": first, "password": NEW_PASSWORD})
        assert_problem(older, 400)
        newer = await client.post(CONFIRM, json={"token": second, "password": NEW_PASSWORD})
        assert newer.status_code == 204


async def test_a_password_change_voids_the_links_sent_before(
    mail_client: AppClient, users: UserFactory, mailbox: Mailbox
) -> None:
    account = await users.account()
    async with mail_client() as client:
        token = await reset_link(client, mailbox, account.user.email)
        changed = await users.change_password(account, "changed in the meantime")
        assert changed.status_code == 204
        response = await client.post(CONFIRM, json={"token": token, "password": NEW_PASSWORD})
        assert_problem(response, 400)
    await users.login(account.user.email, "changed in the meantime")


async def test_the_new_password_follows_the_sign_up_rules(
    mail_client: AppClient, users: UserFactory, mailbox: Mailbox
) -> None:
    user = await users.create()
    async with mail_client() as client:
        token = await reset_link(client, mailbox, user.email)
        for weak in ("short", "password1"):  # too short; one of the most common
            response = await client.post(CONFIRM, json={"token": token, "password": weak})
            assert_problem(response, 422)
        # The refused tries did not use the link up.
        done = await client.post(CONFIRM, json={"token": token, "password": NEW_PASSWORD})
        assert done.status_code == 204


async def test_reset_requests_are_limited_per_recipient_and_per_client(
    mail_client: AppClient, users: UserFactory
) -> None:
    user = await users.create()
    per_recipient = {"rate_limit_email_per_account": "2/hour", "rate_limit_email_request": "9/hour"}
    async with mail_client(**per_recipient) as client:
        statuses = [
            (await client.post(RESET, json={"email": email})).status_code
            for email in (user.email, user.email, user.email, "other@example.com")
        ]
        assert statuses == [202, 202, 429, 202]
        assert_problem(await client.post(RESET, json={"email": user.email}), 429)
    per_client = {"rate_limit_email_per_account": "9/hour", "rate_limit_email_request": "2/hour"}
    async with mail_client(**per_client) as client:
        statuses = [
            (await client.post(RESET, json={"email": f"user{number}@example.com"})).status_code
            for number in range(3)
        ]
        assert statuses == [202, 202, 429]
