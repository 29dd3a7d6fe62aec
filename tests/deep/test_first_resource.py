"""The "Your first resource" page, followed: in a project as getting started leaves it
(the default answers, installed, migrated, committed), each file the page shows is
written, each diff applied with git, and each command run, in the page's order. The
result passes `make check` and its new tests on PostgreSQL, as the page says."""

import re
from pathlib import Path

import pytest
from pytest_copier.plugin import CopierFixture

from tests.support.commands import run
from tests.support.databases import ADMIN_DATABASE_URL
from tests.support.doc_pages import READER_GIT_IDENTITY, SHOWN_SERVER_URL
from tests.support.environment import TEMPLATE_ROOT, InstalledProject

pytestmark = pytest.mark.deep

PAGE = TEMPLATE_ROOT / "docs/first-resource.md"
# A fenced block: its language, the file its title names (if any), and its text.
BLOCK = re.compile(
    r'^```(?P<kind>\w+)(?: title="(?P<path>[^"]+)")?\n(?P<body>.*?)^```$', re.M | re.S
)
# What the page shows -> what runs here.
SUBSTITUTIONS = {SHOWN_SERVER_URL: ADMIN_DATABASE_URL}


def steps() -> list[tuple[str, str | None, str]]:
    return [
        (found["kind"], found["path"], found["body"]) for found in BLOCK.finditer(PAGE.read_text())
    ]


def test_the_first_resource_page_runs_as_shown(
    session_copier: CopierFixture, tmp_path: Path, uv_cache_dir: Path
) -> None:
    path = session_copier.copy(tmp_path / "my-service").path
    project = InstalledProject(path, uv_cache_dir)
    env = project.env(**READER_GIT_IDENTITY)

    def shell(script: str) -> str:
        for shown, here in SUBSTITUTIONS.items():
            script = script.replace(shown, here)
        return run(["bash", "-euo", "pipefail", "-c", script], cwd=path, env=env).stdout

    # Where getting started leaves the reader.
    shell("git init -q && git add -A && git commit -qm 'Render from the template'")
    shell("make install && make migrate")

    written, patched, outputs = [], [], []
    for kind, name, body in steps():
        if kind == "python":
            assert name, f"a Python block names its file: {body[:60]}"
            assert not (path / name).exists(), f"{name} is new on the page, not here"
            (path / name).write_text(body)
            written.append(name)
        elif kind == "diff":
            assert name, f"a diff names its file: {body[:60]}"
            patch = tmp_path / f"{len(patched)}.diff"
            patch.write_text(body)
            run(["git", "apply", "--verbose", str(patch)], cwd=path, env=env)
            patched.append(name)
        else:
            assert kind == "bash", f"a block of {kind} is neither a file, a diff nor commands"
            outputs.append(shell(body))

    assert len(written) == 6 and len(patched) == 3, (written, patched)
    revisions = sorted(p.name for p in (path / "migrations/versions").glob("rev_*.py"))
    assert revisions[-1] == "rev_0005_add_bookmarks.py", revisions
    shown = "\n".join(outputs)
    # `make check`'s suite, the default variant's on SQLite (getting started's `make
    # test`, which deep/test_getting_started.py leaves to this test), then the page's tests
    # on PostgreSQL.
    assert "database: SQLite" in shown and "database: PostgreSQL" in shown, shown
    assert len(re.findall(r"\d+ passed", shown)) == 2, shown
    # Committed, as the page ends: nothing left over.
    assert run(["git", "status", "--porcelain"], cwd=path, env=env).stdout == ""
