"""Debian's chromium driven by Playwright, offline: one address may be reached, every other
request is blocked and recorded, as on a machine without internet.

Playwright is imported when a page is opened: every test run reads CHROMIUM (to say
whether it is there), few drive it."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.async_api import Page, Route

# Debian's package (.ci/run installs it); GitHub's Ubuntu runners have Google Chrome instead.
CHROMIUM = next(
    filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))),
    "/usr/bin/chromium",
)
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
TIMEOUT_MS = 20_000


@asynccontextmanager
async def offline_page(
    allowed: str, viewport: dict[str, int] | None = None
) -> AsyncIterator[tuple[Page, list[str]]]:
    """A chromium page that may reach addresses starting with `allowed` only; the other
    addresses it asked for.

    Playwright's async API: the sync one runs on greenlets, which leave Python's import
    locks confused for the tests that follow in this process.
    """
    from playwright.async_api import async_playwright

    assert Path(CHROMIUM).exists(), "chromium is missing: apt-get install chromium"
    blocked: list[str] = []

    async def only_the_allowed(route: Route) -> None:
        if route.request.url.startswith(allowed):
            await route.continue_()
        else:
            blocked.append(route.request.url)
            await route.abort("internetdisconnected")

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport=viewport)  # type: ignore[arg-type]
            await context.route("**/*", only_the_allowed)
            page = await context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            yield page, blocked
        finally:
            await browser.close()
