"""Fixtures shared by the fast (render/) and deep (deep/) tests, and the order they run in."""

import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from plumbum import local
from pytest_copier.plugin import CopierFixture

from tests.support.databases import ADMIN_DATABASE_URL, REDIS_URL, create_database, drop_database
from tests.support.environment import OFFLINE_LOCK, TEMPLATE_FILES, InstalledProject
from tests.support.git_releases import V1, copy_and_commit, copy_template_files, git, release
from tests.support.machine import missing_for_deep_tests
from tests.support.site import build_site
from tests.support.variants import DEEP_VARIANTS, Render

# Where the tests marked `deep` live, and only they: the folder and `-m deep` say the same.
DEEP_TESTS = Path(__file__).parent / "deep"

# A user's feature for the update tests to copy into rendered projects: not tests of this repo.
collect_ignore = ["user_edits"]


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [f"deep tests use TEST_DATABASE_URL={ADMIN_DATABASE_URL} TEST_REDIS_URL={REDIS_URL}"]


def pytest_collection_finish(session: pytest.Session) -> None:
    """Before the first deep test: PostgreSQL and Redis started where they are installed,
    or the run stopped with one line naming what is missing (tests/support/machine.py)."""
    deep = any(item.get_closest_marker("deep") for item in session.items)
    if not deep or session.config.option.collectonly:
        return
    if missing := missing_for_deep_tests():
        pytest.exit("the deep tests need: " + "; ".join(missing), returncode=4)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    misplaced = [
        item.nodeid
        for item in items
        if (item.get_closest_marker("deep") is not None) != item.path.is_relative_to(DEEP_TESTS)
    ]
    if misplaced:
        raise pytest.UsageError(f"deep tests belong in tests/deep/, and only they: {misplaced}")
    # Fast checks first: a broken render is reported before minutes of installs.
    items.sort(key=lambda item: item.get_closest_marker("deep") is not None)


@pytest.fixture(scope="session")
def copier_template_paths() -> list[str]:
    # What copier reads when rendering; copying only these keeps .venv and caches out of
    # pytest-copier's temporary git copy of the template.
    return list(TEMPLATE_FILES)


@pytest.fixture(scope="session")
def session_copier(copier_template: Path, sessionpatch: pytest.MonkeyPatch) -> CopierFixture:
    """pytest-copier's `copier` fixture, for renders shared by several tests."""
    return CopierFixture(template=copier_template, defaults={}, monkeypatch=sessionpatch)


@pytest.fixture(scope="session")
def render(session_copier: CopierFixture, tmp_path_factory: pytest.TempPathFactory) -> Render:
    """A project rendered with some answers, once per set of answers for the whole run.

    Tests only read these projects; a test that changes files renders a project of its own.
    """
    projects: dict[str, Path] = {}

    def rendered(**answers: Any) -> Path:
        key = json.dumps(answers, sort_keys=True)
        if key not in projects:
            folder = tmp_path_factory.mktemp("render")
            projects[key] = session_copier.copy(folder / "service", **answers).path
        return projects[key]

    return rendered


@pytest.fixture(scope="session")
def uv_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One uv cache for every install in the run, so each variant after the first is cheap."""
    if configured := os.environ.get("UV_CACHE_DIR"):
        return Path(configured)
    # Beside pytest's numbered basetemps rather than inside one, so it outlives this run too.
    cache = tmp_path_factory.getbasetemp().parent / "uv-cache"
    cache.mkdir(parents=True, exist_ok=True)
    return cache


@pytest.fixture(scope="session", autouse=True)
def locks_from_the_cache(
    session_copier: CopierFixture,
    tmp_path_factory: pytest.TempPathFactory,
    uv_cache_dir: Path,
    sessionpatch: pytest.MonkeyPatch,
) -> None:
    """Every render of the run shares one uv cache and, after the first, locks from it.

    The first render is the variant that asks for every optional package, locked online;
    copier's tasks then run with OFFLINE_LOCK. Only plumbum's environment, which copier's
    tasks read, gets it: installs (`uv sync`) run in subprocesses of os.environ, online.
    """
    sessionpatch.setitem(local.env, "UV_CACHE_DIR", str(uv_cache_dir))
    folder = tmp_path_factory.mktemp("first-lock")
    first = session_copier.copy(folder / "service", **DEEP_VARIANTS["everything"])
    assert (first.path / "uv.lock").exists(), "the first render could not lock: offline?"
    for name, value in OFFLINE_LOCK.items():
        sessionpatch.setitem(local.env, name, value)


@pytest.fixture(scope="session")
def installed_project(
    session_copier: CopierFixture,
    tmp_path_factory: pytest.TempPathFactory,
    uv_cache_dir: Path,
) -> Callable[[str], InstalledProject]:
    """Render a deep variant and `uv sync` it, once per session and variant."""
    projects: dict[str, InstalledProject | Exception] = {}

    def install(variant: str) -> InstalledProject:
        if variant not in projects:
            try:
                projects[variant] = _render_and_sync(variant)
            except Exception as error:  # remembered: a broken variant fails fast afterwards
                projects[variant] = error
        outcome = projects[variant]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def _render_and_sync(variant: str) -> InstalledProject:
        folder = tmp_path_factory.mktemp("deep-" + re.sub(r"\W+", "-", variant))
        rendered = session_copier.copy(folder / "service", **DEEP_VARIANTS[variant])
        project = InstalledProject(rendered.path, uv_cache_dir)
        frozen = ["--frozen"] if (project.path / "uv.lock").exists() else []
        project.run("uv", "sync", *frozen)
        return project

    return install


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The documentation site, built strictly once per run."""
    folder = tmp_path_factory.mktemp("site")
    build_site(folder)
    return folder


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """The name of an empty PostgreSQL database, dropped after the test."""
    name = create_database()
    yield name
    drop_database(name)


# The update tests' starting point, fast (render/test_update.py) and deep
# (deep/test_updated_projects.py) alike.
@pytest.fixture
def template_repo(tmp_path: Path) -> Path:
    """A git copy of this template with its working files released as V1."""
    repo = tmp_path / "template"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    copy_template_files(repo)
    release(repo, V1)
    return repo


@pytest.fixture
def project(template_repo: Path, tmp_path: Path, uv_cache_dir: Path) -> Path:
    """A service copied from V1 with the default answers, committed to its own repository."""
    path = tmp_path / "service"
    copy_and_commit(template_repo, path, V1, uv_cache_dir)
    return path
