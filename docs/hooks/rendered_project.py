"""mkdocs hook: a page can quote a section of a document that a project renders, so that
what the site and every rendered project say is written once, in the template.

A page asks with a comment on a line of its own, naming the file, the `## ` section and
the answers:

    <!-- rendered docs/deploying.md: Kubernetes | deploy_platform=kubernetes -->

The hook renders the template (the working tree, answers given after `|`, defaults for the
rest, no tasks) once per set of answers, and puts the section's body there: its headings one
level lower, list items indented as Python-Markdown reads them, and its links to the
project's own files turned into plain text, since the site has no such files.

`<!-- the rendered security model -->` puts there the whole of a project's
docs/security-model.md for both rate-limit stores, the rows of one store only marked."""

import atexit
import difflib
import re
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import copier
import yaml

TEMPLATE_ROOT = Path(__file__).resolve().parents[2]
MARKER = re.compile(
    r"^<!-- rendered (?P<file>\S+): (?P<section>[^|]+?) \|(?P<answers>[^>]*)-->$", re.M
)
SECURITY_MODEL = "<!-- the rendered security model -->"
# A link to anything but a web address or an anchor: a file of the rendered project.
PROJECT_LINK = re.compile(r"\[([^\]]+)\]\((?!https?://|#)[^)]+\)")

# A fenced code block, whole (the split keeps it: one capturing group around it all).
CODE_BLOCK = re.compile(
    r"(^[ \t]*```[^\n]*\n.*?^[ \t]*```[ \t]*$|^[ \t]*~~~[^\n]*\n.*?^[ \t]*~~~[ \t]*$)",
    re.M | re.S,
)
# The questions a marker may answer: copier.yml's keys, but its settings (`_...`).
QUESTIONS = {
    key for key in yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text()) if key[0] != "_"
}

_projects: dict[str, Path] = {}
# Removed when the process ends (mkdocs keeps the hook loaded for the whole serve).
_folder = Path(tempfile.mkdtemp(prefix="rendered-projects-"))
atexit.register(shutil.rmtree, _folder, ignore_errors=True)


def answers_of(text: str) -> str:
    """A marker's `key=value` answers, checked against copier.yml and put in one order, so
    that each distinct set renders once."""
    pairs = text.split()
    if malformed := [pair for pair in pairs if "=" not in pair]:
        raise ValueError(f"answers must be key=value: {malformed}")
    if unknown := sorted({pair.split("=", 1)[0] for pair in pairs} - QUESTIONS):
        raise ValueError(f"copier.yml has no question {', '.join(unknown)}")
    return " ".join(sorted(pairs))


def rendered_project(answers: str) -> Path:
    """A project rendered from the working tree with these `key=value` answers."""
    if answers not in _projects:
        data = dict(pair.split("=", 1) for pair in answers.split())
        folder = Path(tempfile.mkdtemp(dir=_folder))
        with warnings.catch_warnings():
            # Rendering a working tree with uncommitted changes is what is meant here.
            warnings.simplefilter("ignore")
            copier.run_copy(
                str(TEMPLATE_ROOT),
                folder,
                data=data,
                defaults=True,
                unsafe=True,  # the template's own extensions
                skip_tasks=True,  # no `uv lock`: only documents are read
                vcs_ref="HEAD",  # the working tree, not the newest tag
                quiet=True,
            )
        _projects[answers] = folder
    return _projects[answers]


def section(document: str, title: str) -> str:
    """The body of a document's `## title` section, ready to sit under a page's heading."""
    parts = re.split(r"^## ", document, flags=re.M)
    bodies = [part.partition("\n")[2] for part in parts if part.partition("\n")[0] == title]
    if len(bodies) != 1:
        raise ValueError(f"the rendered document has no single section {title!r}")
    lines = []
    for line in bodies[0].strip().splitlines():
        if line.startswith("#"):
            line = "#" + line  # one level lower: the page's own heading stands above
        elif line.startswith("   "):
            line = " " + line  # a list item's text: four spaces for Python-Markdown, not three
        lines.append(PROJECT_LINK.sub(r"\1", line))
    return "\n".join(lines)


def marked(line: str, store: str) -> str:
    return f"| *{store} store:* {line.removeprefix('| ')}" if line.startswith("| ") else line


def security_model_of_both_stores() -> str:
    """The security model's body (its title left to the page), each store's own rows marked."""
    memory, redis = (
        (rendered_project(answers) / "docs/security-model.md").read_text().splitlines()
        for answers in ("rate_limit_store=memory", "rate_limit_store=redis")
    )
    merged: list[str] = []
    matcher = difflib.SequenceMatcher(a=memory, b=redis, autojunk=False)
    for tag, m_start, m_end, r_start, r_end in matcher.get_opcodes():
        if tag == "equal":
            merged += memory[m_start:m_end]
        else:
            merged += [marked(line, "Memory") for line in memory[m_start:m_end]]
            merged += [marked(line, "Redis") for line in redis[r_start:r_end]]
    title, *body = merged
    if not title.startswith("# "):
        raise ValueError("the rendered docs/security-model.md no longer starts with its title")
    return "\n".join(body)


def on_config(config: Any, **_: Any) -> Any:
    # Every build renders afresh, so that `make docs-serve` shows a template edited meanwhile.
    for folder in _projects.values():
        shutil.rmtree(folder, ignore_errors=True)
    _projects.clear()
    return config


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    """Each marker outside code blocks replaced; a marker that cannot be is an error that
    names the page (mkdocs stops the build)."""
    name = page.file.src_uri

    def quoted(found: re.Match[str]) -> str:
        try:
            answers = answers_of(found["answers"])
            document = rendered_project(answers) / found["file"]
            if not document.is_file():
                raise ValueError(f"the rendered project has no {found['file']}")
            return section(document.read_text(), found["section"])
        except ValueError as error:
            raise ValueError(f"{name}: {found[0]}: {error}") from None

    def filled(text: str) -> str:
        for line in text.splitlines():
            if line.startswith("<!-- rendered") and not MARKER.fullmatch(line):
                raise ValueError(f"{name}: a malformed marker: {line}")
        if SECURITY_MODEL in text:
            text = text.replace(SECURITY_MODEL, security_model_of_both_stores())
        return MARKER.sub(quoted, text)

    # Code blocks show markers as examples: only the text between them is filled.
    parts = CODE_BLOCK.split(markdown)
    return "".join(part if CODE_BLOCK.fullmatch(part) else filled(part) for part in parts)
