"""Reading and editing file trees: what an update changed, and where it left conflicts."""

import filecmp
from pathlib import Path

from tests.support.commands import run

# Rendered once and never updated (a per-project secret), or git's own state.
NOT_COMPARED = (".env", ".git")
# What copier leaves where an update could not merge: inline markers, or .rej files.
CONFLICT_MARKERS = ("<<<<<<< ", ">>>>>>> ")


def differences(left: Path, right: Path) -> list[str]:
    """Paths whose presence or content differs between two trees."""
    found: list[str] = []

    def walk(comparison: filecmp.dircmp[str], prefix: str) -> None:
        for name in comparison.left_only + comparison.right_only + comparison.diff_files:
            found.append(prefix + name)
        for name, sub in comparison.subdirs.items():
            walk(sub, f"{prefix}{name}/")

    # dircmp reads the contents of any two files whose size or mtime differ, and two
    # renders never share mtimes: every file pair here is compared by content.
    walk(filecmp.dircmp(left, right, ignore=list(NOT_COMPARED)), "")
    return sorted(found)


def conflicts(project: Path) -> list[str]:
    """Files a commit would take that hold conflict markers, and .rej files.

    Only what git sees (tracked, or untracked and not ignored): a .venv is no concern.
    """
    listed = run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=project
    ).stdout
    found: list[str] = []
    for relative in sorted(set(filter(None, listed.split("\0")))):
        path = project / relative
        if not path.is_file():
            continue  # tracked, but deleted by the update
        if path.suffix == ".rej":
            found.append(relative)
            continue
        lines = path.read_bytes().decode("utf-8", errors="replace").splitlines()
        if any(line.startswith(CONFLICT_MARKERS) for line in lines):
            found.append(relative)
    return found


def replace_once(path: Path, old: str, new: str) -> None:
    """Edit a file where `old` occurs exactly once, so an edit never lands by accident."""
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path}"
    path.write_text(text.replace(old, new))
