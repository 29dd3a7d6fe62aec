"""The documentation site in a real browser, offline: every page of its navigation loads
with no console error and no request to another host, every diagram is drawn with text a
reader can read at a laptop's width, and search finds what users look for.

The site is built strictly and served on loopback; chromium may reach that address only.
"""

import asyncio
import functools
import re
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import ConsoleMessage

from tests.support.browser import offline_page
from tests.support.environment import TEMPLATE_ROOT
from tests.support.site import nav_pages, page_url, site_config

pytestmark = pytest.mark.deep

VIEWPORT = {"width": 1280, "height": 800}
# The smallest text a diagram may show, in CSS pixels.
MIN_TEXT_PX = 12
# What users search for, and the page its first hit must be on.
SEARCHES = {
    "reset password": "accounts/",
    "rate limit": "operations/",
    "kubernetes": "deploying/",
}

# How many reads, 200 ms apart, the first search hit must stay the same for.
STEADY_READS = 3

# Each diagram as the theme draws it (in a shadow root), and the size of its smallest text
# in CSS pixels: its font size times the scale the page's width gives the drawing.
DIAGRAM_TEXT_SIZES = """
() => [...document.querySelectorAll("div.mermaid, pre.mermaid")].map((host) => {
  const root = host.shadowRoot;
  const svg = root && root.querySelector("svg");
  if (!svg) return null;
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  const sizes = [...root.querySelectorAll("text, foreignObject span, foreignObject p")]
    .filter((element) => element.textContent.trim())
    .map((element) => parseFloat(getComputedStyle(element).fontSize) * scale);
  return sizes.length ? Math.min(...sizes) : 0;
})
"""
# The theme draws each diagram in a closed shadow root; opened here, before the page's
# scripts run, so that the test can read the drawing (it draws the same either way).
OPEN_SHADOW_ROOTS = """
const attach = Element.prototype.attachShadow;
Element.prototype.attachShadow = function (options) {
  return attach.call(this, { ...options, mode: "open" });
};
"""
DRAWN = """
(expected) => {
  const hosts = [...document.querySelectorAll("div.mermaid, pre.mermaid")];
  return hosts.length === expected
    && hosts.every((host) => host.shadowRoot && host.shadowRoot.querySelector("svg"));
}
"""


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def site_url(built_site: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(built_site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def diagrams_in(markdown: str) -> int:
    return len(re.findall(r"^```mermaid$", (TEMPLATE_ROOT / "docs" / markdown).read_text(), re.M))


async def read_every_page(site_url: str) -> dict[str, Any]:
    """Per page: console errors, blocked requests, and each diagram's smallest text."""
    found: dict[str, Any] = {}
    async with offline_page(site_url, VIEWPORT) as (page, blocked):
        errors: list[str] = []

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                errors.append(message.text)

        await page.add_init_script(OPEN_SHADOW_ROOTS)
        page.on("console", on_console)
        page.on("pageerror", lambda error: errors.append(str(error)))
        for markdown in nav_pages(site_config()["nav"]):
            errors.clear()
            blocked.clear()
            await page.goto(site_url + page_url(markdown), wait_until="networkidle")
            expected = diagrams_in(markdown)
            if expected:
                await page.wait_for_function(DRAWN, arg=expected)
            sizes = await page.evaluate(DIAGRAM_TEXT_SIZES)
            found[markdown] = {
                "errors": list(errors),
                "blocked": list(blocked),
                "diagrams": sizes,
                "expected": expected,
            }
    return found


async def first_hits(site_url: str) -> dict[str, str]:
    """The page of the first search result for each term, typed as a reader types it."""
    hits: dict[str, str] = {}
    async with offline_page(site_url, VIEWPORT) as (page, _blocked):
        for term in SEARCHES:
            # A fresh page each time: no list of an earlier search to read by mistake.
            await page.goto(site_url, wait_until="networkidle")
            search = page.locator("input.md-search__input")
            await search.click()
            await search.press_sequentially(term)  # the theme searches as keys are typed
            first = page.locator(".md-search-result__item a").first
            await first.wait_for()
            # Each key searches anew: the first hit counts once it stays the same.
            seen: list[str] = []
            while len(seen) < STEADY_READS or len(set(seen[-STEADY_READS:])) > 1:
                await page.wait_for_timeout(200)
                seen.append(await first.get_attribute("href") or "")
                assert len(seen) < 50, f"the results for {term!r} never settled: {seen}"
            hits[term] = seen[-1].split("#")[0].removeprefix(site_url).lstrip("./")
    return hits


def test_every_page_loads_offline_with_its_diagrams_readable(site_url: str) -> None:
    pages = asyncio.run(read_every_page(site_url))
    assert {name: seen["errors"] for name, seen in pages.items() if seen["errors"]} == {}
    assert {name: seen["blocked"] for name, seen in pages.items() if seen["blocked"]} == {}
    drawn = {name: seen["diagrams"] for name, seen in pages.items() if seen["expected"]}
    assert drawn, "no page has a diagram: the check checks nothing"
    for name, sizes in drawn.items():
        assert len(sizes) == pages[name]["expected"], (name, sizes)
        assert all(size is not None for size in sizes), f"{name}: a diagram was not drawn"
        assert min(sizes) >= MIN_TEXT_PX, f"{name}: text of {min(sizes):.1f} px in {sizes}"
    print({name: [round(size, 1) for size in sizes] for name, sizes in drawn.items()})


def test_search_finds_what_users_look_for(site_url: str) -> None:
    assert asyncio.run(first_hits(site_url)) == SEARCHES
