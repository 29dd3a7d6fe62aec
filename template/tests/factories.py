"""Small factories: users stored through the real service, and their tokens."""

import itertools
import uuid
from dataclasses import dataclass

from httpx import AsyncClient, Response
from jose import jwt

from app.core.config import Settings
from app.db.session import Database
from app.models import User
from app.schemas.user import UserCreate
from app.services import wiring

DEFAULT_PASSWORD = "correct horse battery"
_numbers = itertools.count(1)


@dataclass
class SignedInUser:
    user: User
    password: str
    access_token: str
    refresh_token: str

    @property
    def session_id(self) -> uuid.UUID:
        """The session (refresh-token family) the access token names."""
        return uuid.UUID(jwt.get_unverified_claims(self.access_token)["sid"])

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


class UserFactory:
    def __init__(self, database: Database, settings: Settings, client: AsyncClient) -> None:
        self.database = database
        self.settings = settings
        self.client = client

    async def create(
        self,
        *,
        email: str | None = None,
        password: str = DEFAULT_PASSWORD,
        superuser: bool = False,
    ) -> User:
        email = email or f"user{next(_numbers)}@example.com"
        async with self.database.unit_of_work() as session:
            service = wiring.user_service(session, self.settings)
            user = await service.register(
                UserCreate(email=email, password=password), is_superuser=superuser, verified=True
            )
        return user

    async def login(self, email: str, password: str = DEFAULT_PASSWORD) -> dict[str, str]:
        response = await self.client.post(
            "/api/v1/auth/token", data={"username": email, "password": password}
        )
        assert response.status_code == 200, response.text
        tokens: dict[str, str] = response.json()
        return tokens

    async def account(
        self, *, superuser: bool = False, password: str = DEFAULT_PASSWORD
    ) -> SignedInUser:
        user = await self.create(superuser=superuser, password=password)
        tokens = await self.login(user.email, password)
        return SignedInUser(user, password, tokens["access_token"], tokens["refresh_token"])

    async def change_password(self, account: SignedInUser, new_password: str) -> Response:
        """PUT /users/me/password with the current password and the new one."""
        return await self.client.put(
            "/api/v1/users/me/password",
            headers=account.headers,
            json={"current_password": account.password, "new_password": new_password},
        )
