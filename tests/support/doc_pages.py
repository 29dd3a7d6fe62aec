"""What a documentation page shows, as the tests read it: its shell commands, its tables."""

import re
from pathlib import Path

# The PostgreSQL server the pages' commands name; the tests that run them rewrite it.
SHOWN_SERVER_URL = "postgresql://postgres@localhost:5432/postgres"
# The git identity of the reader who follows a page, for its commits.
READER_GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Reader",
    "GIT_AUTHOR_EMAIL": "reader@example.com",
    "GIT_COMMITTER_NAME": "Reader",
    "GIT_COMMITTER_EMAIL": "reader@example.com",
}

# A fenced block of shell commands: ```bash ... ```.
_BASH_BLOCK = re.compile(r"^```bash\n(.*?)^```$", re.S | re.M)


def bash_blocks(page: Path) -> list[list[str]]:
    """Each ```bash block of a page, as its command lines.

    A line ending in a backslash is joined to the next, as the shell would; blank lines
    are dropped. Comments stay: the shell ignores them, and some say what to expect."""
    blocks = []
    for block in _BASH_BLOCK.findall(page.read_text()):
        joined = re.sub(r"\\\n\s*", "", block)
        blocks.append([line.strip() for line in joined.splitlines() if line.strip()])
    return blocks


def commands(line: str) -> list[str]:
    """The commands of one line: its comment cut off, then split at `&&`."""
    code = re.sub(r"\s+#\s.*$", "", line)
    return [part.strip() for part in code.split("&&") if part.strip()]


def table(text: str) -> tuple[list[str], list[list[str]]]:
    """The first Markdown table in `text`: its header and body rows, cells without backticks."""
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    cells = [[cell.strip().strip("`") for cell in line.strip("|").split("|")] for line in lines]
    return (cells[0], cells[1:]) if cells else ([], [])


def sections(page: str) -> dict[str, str]:
    """The text under each `## `name`` heading of a page, by name, its lines joined."""
    found: dict[str, str] = {}
    for part in re.split(r"^## ", page, flags=re.M)[1:]:
        heading, _, body = part.partition("\n")
        found[heading.strip().strip("`")] = " ".join(body.split())
    return found
