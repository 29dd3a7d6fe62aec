"""The rendered /docs in a real browser, offline: sign in through Authorize, call /users/me.

Debian's chromium (/usr/bin/chromium; .ci/run installs it) driven by Playwright's Python
package; every request that is not to the service is blocked and recorded, as on a
machine without internet.
"""

import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright

from tests.helpers import (
    InstalledProject,
    Service,
    create_database,
    drop_database,
    random_secret_key,
    start_production,
    stop,
    wait_until_live,
)

pytestmark = pytest.mark.deep

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# What a headless chromium needs here: no sandbox as root, no GPU, no calls home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "Browser-test passphrase 7"
# ReDoc's bundle always shows its maker's logo from its CDN, and hides it when that fails:
# the one outside request the docs make, and nothing depends on it.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def service(
    installed_project: Callable[[str], InstalledProject],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Service]:
    """The default variant as deployed, its docs switched on."""
    database = create_database()
    try:
        log = tmp_path_factory.mktemp("browser") / "service.log"
        running = start_production(
            installed_project("default"), log, database, random_secret_key(), DOCS_ENABLED="true"
        )
        try:
            wait_until_live(running)
            yield running
        finally:
            stop(running.process)
    finally:
        drop_database(database)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "chromium is missing: apt-get install chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, service: Service) -> Iterator[tuple[Page, list[str]]]:
    """A page that may reach the service only; the other addresses it asked for."""
    blocked: list[str] = []
    context = browser.new_context()

    def only_the_service(route: Route) -> None:
        if route.request.url.startswith(service.url):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", only_the_service)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    yield page, blocked
    context.close()


def sign_up(service: Service) -> str:
    email = f"browser-{secrets.token_hex(4)}@example.com"
    response = httpx.post(
        f"{service.url}/api/v1/users", json={"email": email, "password": PASSWORD}, timeout=10
    )
    assert response.status_code == 201, response.text
    return email


def authorize(page: Page, email: str, password: str) -> str:
    """Fill in the Authorize dialog with nothing but the e-mail and password; its text."""
    page.click("button.authorize")
    dialog = page.locator(".modal-ux")
    dialog.locator("#oauth_username").fill(email)
    dialog.locator("#oauth_password").fill(password)
    dialog.locator(".auth-btn-wrapper button.authorize").click()
    page.wait_for_timeout(500)  # the dialog answers in place, with no navigation to wait for
    return dialog.inner_text()


def test_docs_sign_in_and_call_me_offline(page: tuple[Page, list[str]], service: Service) -> None:
    tab, blocked = page
    email = sign_up(service)
    tab.goto(f"{service.url}/docs")
    tab.wait_for_selector(".swagger-ui .info .title")

    refused = authorize(tab, email, "not the password")
    # Swagger UI shows RFC 6749's `error` and `error_description`, not just the status.
    assert "error: invalid_grant, description: Incorrect e-mail or password." in refused, refused
    tab.locator(".modal-ux button.btn-done").click()

    authorized = authorize(tab, email, PASSWORD)
    assert "Logout" in authorized, authorized
    tab.locator(".modal-ux button.btn-done").click()

    operation = tab.locator("#operations-users-read_me_api_v1_users_me_get")
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    operation.locator("button.execute").click()
    live = operation.locator(".live-responses-table .response")
    live.wait_for()
    assert live.locator(".response-col_status").first.inner_text().strip() == "200"
    assert email in live.inner_text()
    assert blocked == [], f"/docs asked for other hosts: {blocked}"


def test_redoc_renders_offline(page: tuple[Page, list[str]], service: Service) -> None:
    tab, blocked = page
    tab.goto(f"{service.url}/redoc")
    tab.wait_for_selector("redoc h1")
    assert "My Service" in tab.locator("redoc h1").first.inner_text()
    assert tab.locator("text=Sign up").count() > 0
    assert set(blocked) <= {REDOC_LOGO}, f"/redoc asked for other hosts: {blocked}"
