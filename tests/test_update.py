"""`copier update` on a project already in git: boring, as it should be."""

import filecmp
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import TEMPLATE_ROOT, project_env, run

# What a tagged release of the template holds: the same files copier reads.
TEMPLATE_FILES = ("copier.yml", "extensions", "template")
# Rendered once and never updated (a per-project secret), or git's own state.
NOT_COMPARED = {".git", ".env"}


def git(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run(["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args], cwd=cwd)


@pytest.fixture
def template_repo(tmp_path: Path) -> Path:
    """A git copy of this template with its working files tagged 1.0.0."""
    repo = tmp_path / "template"
    repo.mkdir()
    for name in TEMPLATE_FILES:
        source = TEMPLATE_ROOT / name
        if source.is_dir():
            shutil.copytree(source, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, repo / name)
    git("init", "-q", "-b", "main", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "1.0.0", cwd=repo)
    git("tag", "1.0.0", cwd=repo)
    return repo


def copier(*args: str, cwd: Path, uv_cache_dir: Path) -> None:
    run([sys.executable, "-m", "copier", *args], cwd=cwd, env=project_env(uv_cache_dir))


def copy_and_commit(template: Path, destination: Path, ref: str, uv_cache_dir: Path) -> None:
    copier(
        "copy",
        "--trust",
        "--defaults",
        "--vcs-ref",
        ref,
        str(template),
        str(destination),
        cwd=template.parent,
        uv_cache_dir=uv_cache_dir,
    )
    git("init", "-q", "-b", "main", cwd=destination)
    git("add", "-A", cwd=destination)
    git("commit", "-qm", "rendered", cwd=destination)


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
    walk(filecmp.dircmp(left, right, ignore=sorted(NOT_COMPARED)), "")
    return sorted(found)


def test_an_update_with_no_template_change_leaves_the_tree_clean(
    template_repo: Path, tmp_path: Path, uv_cache_dir: Path
) -> None:
    project = tmp_path / "service"
    copy_and_commit(template_repo, project, "1.0.0", uv_cache_dir)
    copier("update", "--trust", "--defaults", cwd=project, uv_cache_dir=uv_cache_dir)
    status = git("status", "--porcelain", cwd=project).stdout
    assert status == "", status


def test_an_update_equals_a_fresh_copy_of_the_new_version(
    template_repo: Path, tmp_path: Path, uv_cache_dir: Path
) -> None:
    updated = tmp_path / "updated"
    copy_and_commit(template_repo, updated, "1.0.0", uv_cache_dir)
    # A template change, released as 1.1.0.
    makefile = template_repo / "template" / "Makefile"
    makefile.write_text(makefile.read_text() + "\n# A line added in 1.1.0.\n")
    git("commit", "-qam", "1.1.0", cwd=template_repo)
    git("tag", "1.1.0", cwd=template_repo)

    copier("update", "--trust", "--defaults", cwd=updated, uv_cache_dir=uv_cache_dir)
    fresh = tmp_path / "fresh"
    copier(
        "copy",
        "--trust",
        "--defaults",
        "--vcs-ref",
        "1.1.0",
        str(template_repo),
        str(fresh),
        cwd=tmp_path,
        uv_cache_dir=uv_cache_dir,
    )
    assert "# A line added in 1.1.0." in (updated / "Makefile").read_text()
    assert differences(updated, fresh) == []
