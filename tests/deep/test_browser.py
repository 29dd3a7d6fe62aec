"""The rendered /docs in a real browser, offline: sign in through Authorize, call /users/me.

Debian's chromium (/usr/bin/chromium; .ci/run installs it) driven by Playwright's Python
package; every request that is not to the service is blocked and recorded, as on a
machine without internet.
"""

import asyncio
import secrets
from collections.abc import Callable, Iterator

import httpx
import pytest
from playwright.async_api import Page

from tests.support.browser import offline_page
from tests.support.environment import InstalledProject
from tests.support.service_processes import Service, serving_a_fresh_database

pytestmark = pytest.mark.deep

PASSWORD = "Browser-test passphrase 7"
# ReDoc's bundle always shows its maker's logo from its CDN, and hides it when that fails:
# the one outside request the docs make, and nothing depends on it.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@pytest.fixture(scope="module")
def service(
    installed_project: Callable[[str], InstalledProject],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Service]:
    """The default variant as deployed, its docs switched on."""
    log = tmp_path_factory.mktemp("browser") / "service.log"
    project = installed_project("default")
    with serving_a_fresh_database(project, log, DOCS_ENABLED="true") as running:
        yield running


def sign_up(service: Service) -> str:
    email = f"browser-{secrets.token_hex(4)}@example.com"
    response = httpx.post(
        f"{service.url}/api/v1/users", json={"email": email, "password": PASSWORD}, timeout=10
    )
    assert response.status_code == 201, response.text
    return email


async def authorize(page: Page, email: str, password: str) -> str:
    """Fill in the Authorize dialog with nothing but the e-mail and password; its text."""
    await page.click("button.authorize")
    dialog = page.locator(".modal-ux")
    await dialog.locator("#oauth_username").fill(email)
    await dialog.locator("#oauth_password").fill(password)
    await dialog.locator(".auth-btn-wrapper button.authorize").click()
    await page.wait_for_timeout(500)  # the dialog answers in place, with no navigation
    return await dialog.inner_text()


async def docs_sign_in_and_call_me(service: Service, email: str) -> None:
    async with offline_page(service.url) as (page, blocked):
        await page.goto(f"{service.url}/docs")
        await page.wait_for_selector(".swagger-ui .info .title")

        refused = await authorize(page, email, "not the password")
        # Swagger UI shows RFC 6749's `error` and `error_description`, not just the status.
        expected = "error: invalid_grant, description: Incorrect e-mail or password."
        assert expected in refused, refused
        await page.locator(".modal-ux button.btn-done").click()

        authorized = await authorize(page, email, PASSWORD)
        assert "Logout" in authorized, authorized
        await page.locator(".modal-ux button.btn-done").click()

        operation = page.locator("#operations-users-read_me_api_v1_users_me_get")
        await operation.locator(".opblock-summary").click()
        await operation.locator("button.try-out__btn").click()
        await operation.locator("button.execute").click()
        live = operation.locator(".live-responses-table .response")
        await live.wait_for()
        status = await live.locator(".response-col_status").first.inner_text()
        assert status.strip() == "200"
        assert email in await live.inner_text()
        assert blocked == [], f"/docs asked for other hosts: {blocked}"


async def redoc_renders(service: Service) -> None:
    async with offline_page(service.url) as (page, blocked):
        await page.goto(f"{service.url}/redoc")
        await page.wait_for_selector("redoc h1")
        assert "My Service" in await page.locator("redoc h1").first.inner_text()
        assert await page.locator("text=Sign up").count() > 0
        assert set(blocked) <= {REDOC_LOGO}, f"/redoc asked for other hosts: {blocked}"


def test_docs_sign_in_and_call_me_offline(service: Service) -> None:
    asyncio.run(docs_sign_in_and_call_me(service, sign_up(service)))


def test_redoc_renders_offline(service: Service) -> None:
    asyncio.run(redoc_renders(service))
