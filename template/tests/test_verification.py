"""E-mail verification: with EMAIL_VERIFICATION=required (the default) a new account logs
in only after following its link, and sign-up tells no one which addresses have accounts;
with optional, accounts log in at once and carry their verified state."""

from httpx import AsyncClient
from sqlalchemy import func, select, update

from app.db.session import Database
from app.models import User
from tests.assertions import assert_problem
from tests.conftest import AppClient
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.mailbox import Mailbox, text_of, token_in

USERS = "/api/v1/users"
TOKEN = "/api/v1/auth/token"
VERIFY = "/api/v1/auth/verify-email"
RESEND = "/api/v1/auth/verify-email/resend"
SUBJECT = "verify your e-mail address"
REQUIRED = {"email_verification": "required"}


async def log_in(client: AsyncClient, email: str, password: str = DEFAULT_PASSWORD) -> int:
    response = await client.post(TOKEN, data={"username": email, "password": password})
    return response.status_code


async def test_a_new_account_logs_in_once_its_address_is_verified(
    mail_client: AppClient, mailbox: Mailbox
) -> None:
    email = "new@example.com"
    async with mail_client(**REQUIRED) as client:
        signed_up = await client.post(USERS, json={"email": email, "password": DEFAULT_PASSWORD})
        assert signed_up.status_code == 202, signed_up.text
        refused = await client.post(TOKEN, data={"username": email, "password": DEFAULT_PASSWORD})
        body = assert_problem(refused, 400)
        assert body["error"] == "invalid_grant"
        assert "Verify your e-mail address" in body["detail"]
        token = token_in(await mailbox.only(email, SUBJECT))
        assert (await client.post(VERIFY, json={"token": token})).status_code == 204
        tokens = await client.post(TOKEN, data={"username": email, "password": DEFAULT_PASSWORD})
        assert tokens.status_code == 200
        me = await client.get(
            f"{USERS}/me", headers={"Authorization": f"Bearer {tokens.json()['access_token']}"}
        )
        assert me.json()["email_verified_at"] is not None
        assert_problem(await client.post(VERIFY, json={"token": token}), 400)  # used up


async def test_sign_up_says_nothing_of_who_has_an_account(
    mail_client: AppClient, users: UserFactory, mailbox: Mailbox, database: Database
) -> None:
    owner = await users.create(email="owner@example.com")
    async with mail_client(**REQUIRED) as client:
        taken = await client.post(
            USERS, json={"email": "OWNER@example.com", "password": "another password here"}
        )
        free = await client.post(
            USERS, json={"email": "free@example.com", "password": "another password here"}
        )
        # The owner's password is what it was; no second account exists.
        assert await log_in(client, owner.email) == 200
    assert (taken.status_code, taken.json()) == (free.status_code, free.json())
    assert taken.status_code == 202
    notice = await mailbox.only(owner.email, "already has an account")
    assert "#token=" not in text_of(notice)
    assert await mailbox.messages(owner.email, SUBJECT) == []
    async with database.sessions() as session:
        count = await session.scalar(select(func.count()).where(User.email == owner.email))
    assert count == 1


async def test_a_new_link_goes_only_to_an_unverified_account(
    mail_client: AppClient, users: UserFactory, mailbox: Mailbox
) -> None:
    verified = await users.create(email="verified@example.com")
    async with mail_client(**REQUIRED) as client:
        await client.post(USERS, json={"email": "late@example.com", "password": DEFAULT_PASSWORD})
        answers = [
            await client.post(RESEND, json={"email": email})
            for email in ("late@example.com", verified.email, "nobody@example.com")
        ]
        assert {(answer.status_code, answer.text) for answer in answers} == {(202, answers[0].text)}
        links = await mailbox.messages("late@example.com", SUBJECT)
        assert len(links) == 2  # at sign-up, and on request
        # Either link verifies the address.
        assert (await client.post(VERIFY, json={"token": token_in(links[0])})).status_code == 204
    assert await mailbox.messages(verified.email) == []
    assert await mailbox.messages("nobody@example.com") == []


async def test_optional_verification_keeps_the_201_and_409_contract(
    mail_client: AppClient, mailbox: Mailbox
) -> None:
    signup = {"email": "at-once@example.com", "password": DEFAULT_PASSWORD}
    async with mail_client(email_verification="optional") as client:
        created = await client.post(USERS, json=signup)
        assert created.status_code == 201, created.text
        assert created.json()["email_verified_at"] is None
        assert_problem(await client.post(USERS, json=signup), 409)
        assert await log_in(client, signup["email"]) == 200
        token = token_in(await mailbox.only(signup["email"], SUBJECT))
        assert (await client.post(VERIFY, json={"token": token})).status_code == 204


async def test_a_link_to_an_address_the_account_left_verifies_nothing(
    mail_client: AppClient, users: UserFactory, mailbox: Mailbox, database: Database
) -> None:
    user = await users.create(email="before@example.com")
    async with database.unit_of_work() as session:
        await session.execute(update(User).where(User.id == user.id).values(email_verified_at=None))
    async with mail_client(**REQUIRED) as client:
        await client.post(RESEND, json={"email": user.email})
        token = token_in(await mailbox.only(user.email, SUBJECT))
        async with database.unit_of_work() as session:
            await session.execute(
                update(User).where(User.id == user.id).values(email="after@example.com")
            )
        assert_problem(await client.post(VERIFY, json={"token": token}), 400)
