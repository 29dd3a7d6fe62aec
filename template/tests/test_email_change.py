"""Changing one's e-mail address: proven by the password, confirmed from the new address,
told to the old one."""

from sqlalchemy import update

from app.db.session import Database
from app.models import User
from tests.assertions import assert_problem
from tests.conftest import AppClient
from tests.factories import UserFactory
from tests.mailbox import Mailbox, text_of, token_in

ME = "/api/v1/users/me"
CONFIRM = "/api/v1/auth/email-change/confirm"
LINK = "confirm your new e-mail address"
NOTICE = "asked to change its e-mail address"


async def test_the_address_changes_once_the_new_one_confirms(
    mail_client: AppClient, users: UserFactory, mailbox: Mailbox
) -> None:
    account = await users.account()
    old = account.user.email
    async with mail_client() as client:
        missing = await client.put(
            f"{ME}/email", headers=account.headers, json={"email": "new@example.com"}
        )
        assert_problem(missing, 422)
        wrong = await client.put(
            f"{ME}/email",
            headers=account.headers,
            json={"email": "new@example.com", "current_password": "not the password"},
        )
        assert_problem(wrong, 403)
        asked = await client.put(
            f"{ME}/email",
            headers=account.headers,
            json={"email": "New@example.com", "current_password": account.password},
        )
        assert asked.status_code == 202, asked.text
        assert (await client.get(ME, headers=account.headers)).json()["email"] == old
        notice = await mailbox.only(old, NOTICE)
        assert "new@example.com" in text_of(notice)
        assert "#token=" not in text_of(notice)
        token = token_in(await mailbox.only("new@example.com", LINK))
        assert (await client.post(CONFIRM, json={"token": token})).status_code == 204
        me = (await client.get(ME, headers=account.headers)).json()
        assert me["email"] == "new@example.com"
        assert me["email_verified_at"] is not None
        assert_problem(await client.post(CONFIRM, json={"token": token}), 400)
    await users.login("new@example.com", account.password)


async def test_a_taken_address_gets_a_notice_and_the_client_the_same_answer(
    mail_client: AppClient, users: UserFactory, mailbox: Mailbox
) -> None:
    await users.create(email="other@example.com")
    account = await users.account()
    async with mail_client() as client:
        taken = await client.put(
            f"{ME}/email",
            headers=account.headers,
            json={"email": "other@example.com", "current_password": account.password},
        )
        free = await client.put(
            f"{ME}/email",
            headers=account.headers,
            json={"email": "free@example.com", "current_password": account.password},
        )
    assert (taken.status_code, taken.json()) == (free.status_code, free.json())
    await mailbox.only("other@example.com", "already has an account")
    assert await mailbox.messages("other@example.com", LINK) == []


async def test_an_address_taken_before_the_confirmation_is_409(
    mail_client: AppClient, users: UserFactory, mailbox: Mailbox, database: Database
) -> None:
    account = await users.account()
    squatter = await users.create()
    async with mail_client() as client:
        await client.put(
            f"{ME}/email",
            headers=account.headers,
            json={"email": "wanted@example.com", "current_password": account.password},
        )
        token = token_in(await mailbox.only("wanted@example.com", LINK))
        async with database.unit_of_work() as session:
            await session.execute(
                update(User).where(User.id == squatter.id).values(email="wanted@example.com")
            )
        assert_problem(await client.post(CONFIRM, json={"token": token}), 409)
        # The account kept its address.
        me = (await client.get(ME, headers=account.headers)).json()
        assert me["email"] == account.user.email
