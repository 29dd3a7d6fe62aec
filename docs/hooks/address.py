"""mkdocs hook: the template's git address, set once, in mkdocs.yml's
`extra.template_address`: shown wherever a page says `<this repository>` (so its commands
run as written), and the header's link to the repository.

Empty, the pages keep the placeholder and say what it stands for.
"""

import sys
from pathlib import Path
from typing import Any

TEMPLATE_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(TEMPLATE_ROOT))  # the template's own extensions, which copier loads

from extensions.context import repository_page  # noqa: E402 - after the path it needs

PLACEHOLDER = "<this repository>"


def address(config: Any) -> str:
    return str(config.extra.get("template_address") or "")


def on_config(config: Any, **_: Any) -> Any:
    if (page := repository_page(address(config))) and not config.repo_url:
        config.repo_url = page
    return config


def on_page_markdown(markdown: str, config: Any, **_: Any) -> str:
    return markdown.replace(PLACEHOLDER, address(config)) if address(config) else markdown
