"""The documentation site: its configuration as data, its pages, and a strict build."""

import os
from pathlib import Path
from typing import Any

import yaml

from tests.support.commands import run
from tests.support.environment import TEMPLATE_ROOT, TOOLS


class _ConfigLoader(yaml.SafeLoader):
    """mkdocs.yml as data: its `!!python/name:` tags (a fence formatter) are left as None."""


_ConfigLoader.add_multi_constructor("tag:yaml.org,2002:python/", lambda *_: None)


def site_config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.load(
        (TEMPLATE_ROOT / "mkdocs.yml").read_text(), Loader=_ConfigLoader
    )
    return config


def nav_pages(entries: list[Any]) -> list[str]:
    """The Markdown files of a `nav:` list, in order."""
    pages = []
    for entry in entries:
        for value in entry.values() if isinstance(entry, dict) else [entry]:
            pages.extend(nav_pages(value) if isinstance(value, list) else [value])
    return pages


def page_url(markdown: str) -> str:
    """Where the built site serves a page (mkdocs' directory URLs)."""
    stem = markdown.removesuffix(".md")
    return "" if stem == "index" else f"{stem}/"


def build_site(destination: Path) -> None:
    """Build strictly: a broken link, a missing page, an unknown anchor or a failing hook
    fails the build."""
    run(
        [str(TOOLS / "mkdocs"), "build", "--strict", "--site-dir", str(destination)],
        cwd=TEMPLATE_ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},  # no advertisement in the output
    )
