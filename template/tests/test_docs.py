"""The interactive docs: served with their own assets (no CDN), and off unless wanted."""

import re

import pytest
from httpx import AsyncClient

from tests.conftest import PRODUCTION_READY, AppClient


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_docs_load_nothing_from_elsewhere(client: AsyncClient, page: str) -> None:
    html = (await client.get(page)).text
    sources = re.findall(r'(?:src|href)="([^"]+)"', html) + re.findall(r"url: '([^']+)'", html)
    assert sources, html
    for source in sources:
        assert source.startswith("/"), f"{page} loads {source}"
        assert (await client.get(source)).status_code == 200, source


async def test_the_docs_authorize_against_the_token_endpoint(client: AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    flows = document["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]
    assert flows["password"]["tokenUrl"] == "/api/v1/auth/token"


@pytest.mark.parametrize("env", ["production", "staging"])
async def test_no_docs_outside_development_unless_enabled(app_client: AppClient, env: str) -> None:
    async with app_client(env=env, **PRODUCTION_READY) as client:
        for path in ("/docs", "/redoc", "/openapi.json", "/docs-assets/swagger-ui.css"):
            assert (await client.get(path)).status_code == 404, path
    async with app_client(env=env, docs_enabled=True, **PRODUCTION_READY) as client:
        assert (await client.get("/docs")).status_code == 200


async def test_request_examples_are_realistic(client: AsyncClient) -> None:
    """No "string" passwords: the docs' "Try it out" starts from believable values."""
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    sign_up = schemas["UserCreate"]["properties"]
    assert sign_up["email"]["examples"] == ["ada@example.com"]
    assert sign_up["password"]["examples"] == ["correct horse battery staple"]
