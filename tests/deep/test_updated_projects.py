"""`copier update` of a team's project: its edits kept, its conflicts refused, new answers
taken, and the project passing its own checks afterwards.

Each test works on a temporary git copy of this template whose releases are real tags, as
users' projects see them, and on a rendered project committed to its own repository (the
fixtures `template_repo` and `project`).
"""

import shutil
from pathlib import Path

import pytest

from tests.support.commands import run
from tests.support.databases import REDIS_URL, database_url
from tests.support.environment import TEMPLATE_ROOT, InstalledProject
from tests.support.git_releases import (
    V2,
    commit_all,
    data_options,
    git,
    recorded_answers,
    release,
    update,
)
from tests.support.trees import conflicts, replace_once

# A user's feature, laid out as in a rendered project: new files copied over it.
USER_EDITS = TEMPLATE_ROOT / "tests/user_edits"
# The rendered tests of what the update and the team's edits touch: the team's notes, the
# migrations (its revision beside the template's), the settings and .env.example (both
# sides changed config.py), and the access tokens (the team shortened them).
TOUCHED_BY_THE_UPDATE = (
    "tests/test_notes.py",
    "tests/test_migrations.py",
    "tests/test_settings.py",
    "tests/test_env_example.py",
    "tests/test_access_tokens.py",
)
# The rendered tests of what switching the rate-limit store changes.
SWITCHED_BY_THE_STORE = (
    "tests/test_rate_limit.py",
    "tests/test_rate_limit_redis.py",
    "tests/test_settings.py",
    "tests/test_env_example.py",
    "tests/test_health.py",
)
# A rendered file the user deletes; an update must not bring it back.
DELETED_BY_USER = ".github/dependabot.yml"


def check_merged(project: InstalledProject, tests: tuple[str, ...], **services: str) -> None:
    """What the rendered CI checks, through its Makefile, of the merged files: conflicts,
    lint and types, every file; and the rendered tests of what the update touched.

    The whole suite runs elsewhere, on a project nothing merged into (SQLite in
    deep/test_getting_started.py and deep/test_first_resource.py, PostgreSQL there and
    in deep/test_ci_jobs.py); what a merge breaks, lint, types and these tests reach.
    The migrations job runs on PostgreSQL (check_migrations).
    """
    project.run("uv", "sync", "--locked")
    git("add", "-A", cwd=project.path)  # staged, as before a commit: the hooks see new files
    project.run("make", "conflicts", "lint", **services)
    project.run("uv", "run", "pytest", *tests, **services)


def check_migrations(project: InstalledProject, database: str) -> None:
    """The rendered CI's migrations job: up, down to nothing, up again, and no model drift."""
    for command in (
        ("make", "migrate"),
        ("uv", "run", "alembic", "downgrade", "base"),
        ("make", "migrate"),
        ("uv", "run", "alembic", "check"),
    ):
        project.run(*command, DATABASE_URL=database_url(database))


def make_user_edits(project: Path) -> None:
    """What a team does after copying: a feature across every layer, a setting, the README."""
    # The team's model is a module of app/models/, which imports every module itself.
    shutil.copytree(USER_EDITS, project, dirs_exist_ok=True)
    router = project / "app/api/v1/router.py"
    replace_once(router, "import auth, users", "import auth, notes, users")
    replace_once(
        router,
        "api_router.include_router(users.router)\n",
        "api_router.include_router(users.router)\napi_router.include_router(notes.router)\n",
    )
    replace_once(
        project / "app/core/config.py",
        "access_token_expire_minutes: int = Field(default=30,",
        "access_token_expire_minutes: int = Field(default=10,",
    )
    # A changed default is documented too: the project's own test_env_example insists.
    replace_once(
        project / ".env.example", "ACCESS_TOKEN_EXPIRE_MINUTES=30", "ACCESS_TOKEN_EXPIRE_MINUTES=10"
    )
    replace_once(
        project / "README.md",
        "A FastAPI service on PostgreSQL",
        "Our team's notes service: a FastAPI service on PostgreSQL",
    )
    readme = project / "README.md"
    readme.write_text(readme.read_text() + "\n## Notes API\n\n`/api/v1/notes`: private notes.\n")
    # A rendered file the team does not want.
    (project / DELETED_BY_USER).unlink()


def change_the_template(repo: Path) -> None:
    """A release's worth of changes, some in files the user also edited (other lines)."""
    template = repo / "template"
    replace_once(
        template / "app/core/config.py",
        '{"change-me", "changeme", "secret", "your-secret-key", "dev-secret"}',
        '{"change-me", "changeme", "secret", "your-secret-key", "dev-secret", "password"}',
    )
    replace_once(
        template / "README.md.jinja",
        "## Development\n",
        f"## Development\n\nTargets were reviewed in {V2}.\n",
    )
    # A new local setting: it must not reach the project's .env, rendered once.
    env = template / ".env.jinja"
    env.write_text(env.read_text() + "LOG_FORMAT=console\n")
    (template / "SECURITY.md.jinja").write_text(
        "# Security\n\nReport vulnerabilities to {{ author_email }}.\n"
    )
    replace_once(
        template / "Makefile",
        "\nmigrate: ##",
        f"\n# {V2}: migrations run at start too.\nmigrate: ##",
    )


@pytest.mark.deep
def test_an_update_applies_the_template_change_and_keeps_every_user_edit(
    project: Path, template_repo: Path, uv_cache_dir: Path, fresh_database: str
) -> None:
    make_user_edits(project)
    commit_all(project, "Add notes; shorter access tokens")
    edited = {
        path: path.read_bytes()
        for path in project.rglob("*")
        if path.is_file() and ".git" not in path.parts
    }
    change_the_template(template_repo)
    release(template_repo, V2)

    update(project, uv_cache_dir)

    assert conflicts(project) == []
    assert recorded_answers(project)["_commit"] == V2
    # The template's change arrived, in new and in user-edited files alike.
    assert (project / "SECURITY.md").read_text().endswith("to backend@example.com.\n")
    assert '"dev-secret", "password"}' in (project / "app/core/config.py").read_text()
    assert f"Targets were reviewed in {V2}." in (project / "README.md").read_text()
    assert (
        f"# {V2}: migrations run at start too.\nmigrate: ##" in (project / "Makefile").read_text()
    )
    # Every user edit is intact: the user's own files byte for byte, edited lines in place.
    for source in USER_EDITS.rglob("*.py"):
        relative = source.relative_to(USER_EDITS)
        assert (project / relative).read_bytes() == source.read_bytes(), relative
    changed_by_update = {
        "app/core/config.py",
        "README.md",
        "Makefile",
        ".copier-answers.yml",
    }
    for path, content in edited.items():
        if str(path.relative_to(project)) not in changed_by_update:
            assert path.read_bytes() == content, path
    config = (project / "app/core/config.py").read_text()
    assert "access_token_expire_minutes: int = Field(default=10," in config
    readme = (project / "README.md").read_text()
    assert "Our team's notes service" in readme
    assert readme.endswith("## Notes API\n\n`/api/v1/notes`: private notes.\n")
    assert not (project / DELETED_BY_USER).exists()
    assert "LOG_FORMAT" not in (project / ".env").read_text()  # and the file is unchanged

    installed = InstalledProject(project, uv_cache_dir)
    check_merged(installed, TOUCHED_BY_THE_UPDATE)
    check_migrations(installed, fresh_database)


# What each conflict mode leaves, and what `make conflicts` (the pre-commit hooks) says of it.
CONFLICT_MODES = {
    "inline": ("README.md", "README.md:5: Merge conflict string '<<<<<<<'"),
    "rej": ("README.md.rej", "README.md.rej"),
}


@pytest.mark.deep
@pytest.mark.parametrize("mode", CONFLICT_MODES)
def test_a_conflicting_edit_is_marked_and_refused_by_the_hooks(
    mode: str, project: Path, template_repo: Path, uv_cache_dir: Path
) -> None:
    left_behind, reported = CONFLICT_MODES[mode]
    installed = InstalledProject(project, uv_cache_dir)
    installed.run("uv", "sync", "--locked")
    installed.run("make", "conflicts")  # a clean render passes

    intro = "A FastAPI service on PostgreSQL"
    replace_once(project / "README.md", intro, "Our FastAPI service on PostgreSQL")
    commit_all(project, "Our wording")
    replace_once(
        template_repo / "template/README.md.jinja", intro, "A FastAPI application on PostgreSQL"
    )
    release(template_repo, V2)

    update(project, uv_cache_dir, "--conflict", mode)

    assert conflicts(project) == [left_behind]
    if mode == "inline":
        readme = (project / "README.md").read_text()
        assert "<<<<<<< before updating\nOur FastAPI service" in readme
        assert "A FastAPI application on PostgreSQL" in readme
    # Before anything is staged: a .rej file is then untracked, which pre-commit's
    # --all-files does not see, and `make conflicts` must refuse it all the same.
    refused = run(["make", "conflicts"], cwd=project, env=installed.env(), check=False)
    assert refused.returncode != 0, refused.stdout
    assert reported in refused.stdout


@pytest.mark.deep
def test_new_answers_on_update_switch_the_variant(project: Path, uv_cache_dir: Path) -> None:
    assert (project / ".github/workflows/ci.yml").exists()

    new_answers = {"rate_limit_store": "redis", "ci_provider": "gitlab"}
    update(project, uv_cache_dir, *data_options(new_answers))

    assert conflicts(project) == []
    answers = recorded_answers(project)
    assert (answers["rate_limit_store"], answers["ci_provider"]) == ("redis", "gitlab")
    assert (project / ".gitlab-ci.yml").exists()
    assert (project / "tests/test_rate_limit_redis.py").exists()
    assert not (project / ".github").exists()
    assert "redis:" in (project / "docker-compose.yml").read_text()
    check_merged(
        InstalledProject(project, uv_cache_dir), SWITCHED_BY_THE_STORE, TEST_REDIS_URL=REDIS_URL
    )
