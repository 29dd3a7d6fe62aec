"""A team's own Alembic revisions beside the template's, across a real `copier update`.

The update starts where teams are: at the newest release CHANGELOG.md records, rendered
from the commit of this repository's history that wrote its heading, with a revision the
team wrote itself (`make migration`) for a table of its own. It lands on the working tree,
whose template revisions branch from the same parent as the team's: two heads, until the
team's next `make migration` merges them.
"""

import re
import shutil
from pathlib import Path

import pytest

from tests.support.commands import run
from tests.support.databases import create_database, database_url, drop_database, psql
from tests.support.environment import TEMPLATE_ROOT, InstalledProject
from tests.support.git_releases import (
    commit_all,
    copy_and_commit,
    copy_template_files,
    git,
    recorded_answers,
    release,
    update,
)
from tests.support.trees import conflicts, replace_once

NOTE_MODEL = TEMPLATE_ROOT / "tests/user_edits/app/models/note.py"
RELEASE_HEADING = re.compile(r"^## (\d+)\.(\d+)\.(\d+) — ", re.MULTILINE)


def newest_release() -> tuple[str, str]:
    """The newest release CHANGELOG.md records, and the commit that wrote its heading."""
    heading = RELEASE_HEADING.search((TEMPLATE_ROOT / "CHANGELOG.md").read_text())
    assert heading, "CHANGELOG.md records no release"
    version = ".".join(heading.groups())
    commits = git(
        "log", "--format=%H", "-S", f"## {version} — ", "--", "CHANGELOG.md", cwd=TEMPLATE_ROOT
    ).stdout.split()
    assert commits, f"no commit of this clone wrote {version}'s heading (a shallow clone?)"
    return version, commits[-1]  # git log lists the newest first: the last one added it


def template_at(repo: Path, commit: str) -> None:
    """`repo`'s files replaced by this repository's files at `commit`."""
    for path in repo.iterdir():
        if path.name != ".git":
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    archive = repo.parent / "release.tar"
    git("archive", "--format=tar", "-o", str(archive), commit, cwd=TEMPLATE_ROOT)
    run(["tar", "-xf", str(archive), "-C", str(repo)], cwd=repo)
    archive.unlink()


def heads(project: InstalledProject) -> list[str]:
    return project.run("uv", "run", "alembic", "heads").stdout.split("\n")[:-1]


def tables(database: str) -> set[str]:
    listed = psql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'", database)
    return set(listed.split())


@pytest.mark.deep
def test_the_teams_revisions_survive_an_update_from_the_newest_release(
    tmp_path: Path, uv_cache_dir: Path
) -> None:
    version, commit = newest_release()
    major, minor, _ = version.split(".")
    following = f"{major}.{int(minor) + 1}.0"
    repo = tmp_path / "template"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    template_at(repo, commit)
    release(repo, version)
    path = tmp_path / "service"
    copy_and_commit(repo, path, version, uv_cache_dir)
    project = InstalledProject(path, uv_cache_dir)
    project.run("uv", "sync", "--locked")

    existing, fresh = create_database(), create_database()
    try:
        on_existing = {"DATABASE_URL": database_url(existing)}
        on_fresh = {"DATABASE_URL": database_url(fresh)}
        # The team's table, and the revision `make migration` writes for it. A release
        # whose app/models/__init__.py does not import every module of its folder itself
        # (0.7.0 and before) told the team to list the model there.
        shutil.copy2(NOTE_MODEL, path / "app/models/note.py")
        models = path / "app/models/__init__.py"
        listed_by_hand = "iter_modules" not in models.read_text()
        if listed_by_hand:
            replace_once(
                models,
                "from app.models.refresh_token import RefreshToken\n",
                "from app.models.note import Note\n"
                "from app.models.refresh_token import RefreshToken\n",
            )
            replace_once(
                models,
                '__all__ = ["RefreshToken", "User"]',
                '__all__ = ["Note", "RefreshToken", "User"]',
            )
        project.run("make", "migrate", **on_existing)
        project.run("make", "migration", "message=notes", **on_existing)
        project.run("make", "migrate", **on_existing)
        assert "note" in tables(existing)
        assert len(heads(project)) == 1
        commit_all(path, "Notes, with their revision")

        copy_template_files(repo)
        release(repo, following)
        update(path, uv_cache_dir)
        if listed_by_hand:
            # The one conflict of that crossing, resolved as CHANGELOG.md says: the
            # template's file, which finds the team's model by itself.
            assert conflicts(path) == ["app/models/__init__.py"]
            shutil.copy2(TEMPLATE_ROOT / "template/app/models/__init__.py", models)
        assert conflicts(path) == []
        assert recorded_answers(path)["_commit"] == following
        project.run("uv", "sync", "--locked")
        branches = heads(project)

        # The existing database takes the template's new revisions beside the team's; a
        # new one gets both chains; either way the models match the schema.
        for database, env in ((existing, on_existing), (fresh, on_fresh)):
            project.run("make", "migrate", **env)
            project.run("uv", "run", "alembic", "check", **env)
            assert {"note", "user_account", "refresh_token"} <= tables(database)

        # The team's next revision follows every head: one head again.
        replace_once(
            path / "app/models/note.py",
            "    body: Mapped[str] = mapped_column(Text)\n",
            "    body: Mapped[str] = mapped_column(Text)\n"
            "    pinned: Mapped[bool] = mapped_column(default=False)\n",
        )
        project.run("make", "migration", "message=pin notes", **on_existing)
        assert len(heads(project)) == 1, heads(project)
        [revision] = (path / "migrations/versions").glob("rev_*pin_notes.py")
        # Numbered after every revision file and named; formatted as written.
        assert re.fullmatch(r"rev_\d{4}_pin_notes\.py", revision.name), revision.name
        assert "add_column" in revision.read_text() and "pinned" in revision.read_text()
        project.run("uv", "run", "ruff", "check", str(revision))
        project.run("uv", "run", "ruff", "format", "--check", str(revision))
        for database, env in ((existing, on_existing), (fresh, on_fresh)):
            project.run("make", "migrate", **env)
            project.run("uv", "run", "alembic", "check", **env)
            columns = psql(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'note'",
                database,
            )
            assert "pinned" in columns.split(), database
        # And down to nothing and up again, through the merge.
        project.run("uv", "run", "alembic", "downgrade", "base", **on_fresh)
        project.run("make", "migrate", **on_fresh)
        print(f"from {version} ({commit[:7]}): heads after the update {branches}")
    finally:
        drop_database(existing)
        drop_database(fresh)
