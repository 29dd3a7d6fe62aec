"""mkdocs hook: a page can quote a section of the README that a project renders, so that
the site's deployment steps are the rendered README's own, written once in the template.

A page asks with a comment on a line of its own:

    <!-- rendered README: Deploy on Kubernetes | deploy_platform=kubernetes -->

The hook renders the template (the working tree, answers given after `|`, defaults for the
rest, no tasks) once per set of answers, and puts the section's body there: its headings one
level lower, list items indented as Python-Markdown reads them, and its links to the
project's own files turned into plain text, since the site has no such files."""

import re
import tempfile
import warnings
from pathlib import Path
from typing import Any

import copier

TEMPLATE_ROOT = Path(__file__).resolve().parents[2]
MARKER = re.compile(r"^<!-- rendered README: (?P<section>[^|]+?) \|(?P<answers>[^>]*)-->$", re.M)
# A link to anything but a web address or an anchor: a file of the rendered project.
PROJECT_LINK = re.compile(r"\[([^\]]+)\]\((?!https?://|#)[^)]+\)")

_readmes: dict[str, str] = {}


def rendered_readme(answers: str) -> str:
    """The README of a project rendered from the working tree with these `key=value` answers."""
    if answers not in _readmes:
        data = dict(pair.split("=", 1) for pair in answers.split())
        with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
            # Rendering a working tree with uncommitted changes is what is meant here.
            warnings.simplefilter("ignore")
            copier.run_copy(
                str(TEMPLATE_ROOT),
                folder,
                data=data,
                defaults=True,
                unsafe=True,  # the template's own extensions
                skip_tasks=True,  # no `uv lock`: only the README is read
                vcs_ref="HEAD",  # the working tree, not the newest tag
                quiet=True,
            )
            _readmes[answers] = (Path(folder) / "README.md").read_text()
    return _readmes[answers]


def section(readme: str, title: str) -> str:
    """The body of the README's `## title` section, ready to sit under a page's heading."""
    parts = re.split(r"^## ", readme, flags=re.M)
    bodies = [part.partition("\n")[2] for part in parts if part.partition("\n")[0] == title]
    if len(bodies) != 1:
        raise ValueError(f"the rendered README has no single section {title!r}")
    lines = []
    for line in bodies[0].strip().splitlines():
        if line.startswith("#"):
            line = "#" + line  # one level lower: the page's own heading stands above
        elif line.startswith("   "):
            line = " " + line  # a list item's text: four spaces for Python-Markdown, not three
        lines.append(PROJECT_LINK.sub(r"\1", line))
    return "\n".join(lines)


def on_page_markdown(markdown: str, **_: Any) -> str:
    return MARKER.sub(
        lambda found: section(rendered_readme(found["answers"].strip()), found["section"]),
        markdown,
    )
