"""`copier update` on a project already in git: with no change, nothing; with a new release,
exactly what a fresh copy of it would be.

Each test works on a temporary git copy of this template whose releases are real tags, as
users' projects see them, and on a rendered project committed to its own repository (the
fixtures `template_repo` and `project`).
"""

from pathlib import Path

from tests.support.git_releases import (
    V1,
    V2,
    copier,
    copy_release,
    git,
    recorded_answers,
    release,
    update,
)
from tests.support.trees import differences


def newer_release_available(project: Path, uv_cache_dir: Path) -> bool:
    """`copier check-update --quiet`: exit 2 when a newer release exists, 0 when current."""
    outcome = copier("check-update", "--quiet", cwd=project, uv_cache_dir=uv_cache_dir, check=False)
    assert outcome.returncode in (0, 2), outcome.stdout
    return outcome.returncode == 2


def test_an_update_with_no_template_change_leaves_the_tree_clean(
    project: Path, uv_cache_dir: Path
) -> None:
    assert recorded_answers(project)["_commit"] == V1

    update(project, uv_cache_dir)
    status = git("status", "--porcelain", cwd=project).stdout
    assert status == "", status


def test_an_update_equals_a_fresh_copy_of_the_new_version(
    project: Path, template_repo: Path, tmp_path: Path, uv_cache_dir: Path
) -> None:
    makefile = template_repo / "template" / "Makefile"
    makefile.write_text(makefile.read_text() + f"\n# A line added in {V2}.\n")
    release(template_repo, V2)

    assert newer_release_available(project, uv_cache_dir)
    update(project, uv_cache_dir)
    assert not newer_release_available(project, uv_cache_dir)

    fresh = tmp_path / "fresh"
    copy_release(template_repo, fresh, V2, uv_cache_dir)
    assert recorded_answers(project)["_commit"] == V2
    assert f"# A line added in {V2}." in (project / "Makefile").read_text()
    # Everything compared by content, the answers file and its recorded commit included.
    assert differences(project, fresh) == []
