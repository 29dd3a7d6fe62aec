"""`make migration message="add orders"`: a revision of the project's own, numbered and named.

The template's revisions are bare numbers (`0001`, `0002`, ...). The project's take the
next number after every revision file there is, and their name: `0005_add_orders`, in
`migrations/versions/rev_0005_add_orders.py`. So `ls` and `alembic history` read in
order, and the two kinds never collide: the template's ids have no name. Alembic's
post-write hooks (alembic.ini) run ruff on the new file, so it passes `make lint` as
written.

After a template update brought revisions of its own, the template's chain and the
project's are two heads: they are merged first (a revision of its own, numbered the same
way, applied at once), so that the new revision follows both.
"""

import re
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from app.db.migrate import ALEMBIC_INI

VERSIONS = ALEMBIC_INI.parent / "migrations" / "versions"
# alembic_version keeps an id in 32 characters: four digits, "_", and the name.
MAX_ID_LENGTH = 32
MERGE_MESSAGE = "merge the template's revisions and the project's"


def revision_name(message: str) -> str:
    """The message in lower case, words joined by "_": what the id and file are named."""
    return re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")


def next_id(message: str, versions: Path = VERSIONS) -> str:
    """The number after the highest of the revision files, and the message's name."""
    numbers = [
        int(found[1])
        for path in versions.glob("rev_*.py")
        # Four digits, then the name or nothing: not the random ids of older revisions.
        if (found := re.match(r"rev_(\d{4})(?:_|\.py$)", path.name))
    ]
    number = f"{max(numbers, default=0) + 1:04d}"
    return f"{number}_{revision_name(message)}"[:MAX_ID_LENGTH].rstrip("_")


def new_revision(message: str, config: Config) -> None:
    if len(ScriptDirectory.from_config(config).get_heads()) > 1:
        command.merge(config, "heads", message=MERGE_MESSAGE, rev_id=next_id("merge heads"))
        command.upgrade(config, "heads")
    command.revision(config, message=message, autogenerate=True, rev_id=next_id(message))


def main() -> None:
    message = " ".join(sys.argv[1:])
    if not revision_name(message):
        raise SystemExit('Name the revision: make migration message="add orders"')
    new_revision(message, Config(str(ALEMBIC_INI)))


if __name__ == "__main__":
    main()
