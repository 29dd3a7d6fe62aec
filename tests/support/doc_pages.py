"""The shell commands a documentation page shows, as the tests that run them read them."""

import re
from pathlib import Path

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
