"""Security headers on every response, errors included; HSTS outside development only."""

from httpx import AsyncClient, Response

from tests.conftest import PRODUCTION_READY, AppClient

TOKEN = "/api/v1/auth/token"
WRONG_LOGIN = {"username": "nobody@example.com", "password": "not the password"}
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def assert_security_headers(response: Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value, (response.status_code, name)


async def test_answers_and_errors_carry_the_security_headers(client: AsyncClient) -> None:
    responses = [
        await client.get("/health/live"),
        await client.get("/no/such/page"),
        await client.put("/api/v1/users/me"),
        await client.post("/api/v1/users", json={"email": "not-an-email"}),
        await client.post(TOKEN, data=WRONG_LOGIN),
    ]
    assert [response.status_code for response in responses] == [200, 404, 405, 422, 400]
    for response in responses:
        assert_security_headers(response)
        assert "strict-transport-security" not in response.headers  # ENV=dev


async def test_a_rate_limited_answer_carries_them_too(app_client: AppClient) -> None:
    async with app_client(rate_limit_login="1/minute") as client:
        await client.post(TOKEN, data=WRONG_LOGIN)
        refused = await client.post(TOKEN, data=WRONG_LOGIN)
    assert refused.status_code == 429
    assert_security_headers(refused)


async def test_strict_transport_security_outside_development(app_client: AppClient) -> None:
    async with app_client(env="staging", **PRODUCTION_READY) as client:
        responses = [await client.get("/health/live"), await client.get("/no/such/page")]
    for response in responses:
        assert_security_headers(response)
        hsts = response.headers["strict-transport-security"]
        assert hsts == "max-age=63072000; includeSubDomains"
