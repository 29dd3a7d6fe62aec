"""mkdocs hook: the site's security-model page shows the document every rendered project
carries, `template/docs/security-model.md.jinja`, rendered for both rate-limit stores.

The rows stay written once, in the template; a row that only one store renders is marked
with that store."""

import difflib
from pathlib import Path
from typing import Any

import jinja2

SOURCE = Path(__file__).resolve().parents[2] / "template/docs/security-model.md.jinja"
PAGE = "security-model.md"
# Where the page takes the rendered document.
MARKER = "<!-- the rendered security model -->"


def rendered(*, use_redis: bool) -> list[str]:
    # Strict: a variable the hook does not set fails the build instead of rendering empty.
    # No autoescape: this is Markdown, as copier renders it.
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    text = environment.from_string(SOURCE.read_text()).render(use_redis=use_redis)
    return text.splitlines()


def marked(line: str, store: str) -> str:
    return f"| *{store} store:* {line.removeprefix('| ')}" if line.startswith("| ") else line


def both_stores() -> str:
    """The document's body (its title left to the page) with each store's own rows marked."""
    memory, redis = rendered(use_redis=False), rendered(use_redis=True)
    merged: list[str] = []
    matcher = difflib.SequenceMatcher(a=memory, b=redis, autojunk=False)
    for tag, m_start, m_end, r_start, r_end in matcher.get_opcodes():
        if tag == "equal":
            merged += memory[m_start:m_end]
        else:
            merged += [marked(line, "Memory") for line in memory[m_start:m_end]]
            merged += [marked(line, "Redis") for line in redis[r_start:r_end]]
    title, *body = merged
    assert title.startswith("# "), f"{SOURCE} no longer starts with its title"
    return "\n".join(body)


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    if page.file.src_uri != PAGE:
        return markdown
    if MARKER not in markdown:
        raise ValueError(f"docs/{PAGE} lost its marker {MARKER}")
    return markdown.replace(MARKER, both_stores())
