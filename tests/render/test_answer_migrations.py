"""copier.yml's `_migrations`: projects copied before a change update across it unharmed."""

import shutil
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.commands import run
from tests.support.environment import TEMPLATE_ROOT
from tests.support.git_releases import (
    copy_and_commit,
    copy_template_files,
    git,
    recorded_answers,
    release,
    update,
)

# deploy_target was renamed deploy_platform in RENAMED_IN; BEFORE is the release before it.
BEFORE, RENAMED_IN = "0.3.0", "0.4.0"
OLD_NAME, NEW_NAME = "deploy_target", "deploy_platform"
RENAME_SCRIPT = TEMPLATE_ROOT / "upgrades" / "rename_answer.py"


def test_the_rename_runs_before_an_update_that_crosses_its_release() -> None:
    config = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text())
    [migration] = [m for m in config["_migrations"] if m["command"][-2:] == [OLD_NAME, NEW_NAME]]
    assert migration["version"] == RENAMED_IN
    assert "before" in migration["when"]
    assert NEW_NAME in config and OLD_NAME not in config


def as_released_before_the_rename(repo: Path) -> None:
    """Turn a copy of the template back into BEFORE, as far as the renamed answer goes."""
    for path in [repo / "copier.yml", *sorted((repo / "template").rglob("*"))]:
        if path.is_file() and OLD_NAME not in path.name:
            text = path.read_text()
            if NEW_NAME in text:
                path.write_text(text.replace(NEW_NAME, OLD_NAME))
    for path in sorted((repo / "template").glob(f"*{NEW_NAME}*")):
        shutil.move(path, path.with_name(path.name.replace(NEW_NAME, OLD_NAME)))


@pytest.mark.parametrize(
    "options",
    [
        pytest.param((), id="copier-update"),
        # What Renovate's copier manager runs.
        pytest.param(("--skip-answered", "--vcs-ref", RENAMED_IN), id="renovate"),
    ],
)
def test_an_update_across_the_rename_keeps_the_teams_choice(
    options: tuple[str, ...], tmp_path: Path, uv_cache_dir: Path
) -> None:
    repo = tmp_path / "template"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    copy_template_files(repo)
    as_released_before_the_rename(repo)
    release(repo, BEFORE)
    project = tmp_path / "service"
    # Not the default: without the migration, the update would bring railway.json back.
    copy_and_commit(repo, project, BEFORE, uv_cache_dir, **{OLD_NAME: "none"})
    assert not (project / "railway.json").exists()
    copy_template_files(repo)
    release(repo, RENAMED_IN)

    update(project, uv_cache_dir, *options)

    answers = recorded_answers(project)
    assert answers[NEW_NAME] == "none"
    assert OLD_NAME not in answers
    assert answers["_commit"] == RENAMED_IN
    # Nothing but the answers file changed: the project is the variant the team chose.
    status = git("status", "--porcelain", cwd=project).stdout
    assert status == " M .copier-answers.yml\n", status


def test_the_rename_leaves_other_answers_alone_and_can_run_twice(tmp_path: Path) -> None:
    answers = tmp_path / ".copier-answers.yml"
    original = f"# Answers\n_commit: {BEFORE}\nci_provider: github\n{OLD_NAME}: none\n"
    answers.write_text(original)
    for _ in range(2):
        run([sys.executable, str(RENAME_SCRIPT), str(answers), OLD_NAME, NEW_NAME], cwd=tmp_path)
        assert answers.read_text() == original.replace(f"{OLD_NAME}:", f"{NEW_NAME}:")
