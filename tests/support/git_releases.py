"""Releases of the template: as CHANGELOG.md lists them, as git tags, and projects copied
from and updated to them."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from packaging.version import Version

from tests.support.commands import run
from tests.support.environment import OFFLINE_LOCK, TEMPLATE_FILES, TEMPLATE_ROOT, project_env

# Two releases of the template, as the update tests make them.
V1, V2 = "1.0.0", "1.1.0"


def git(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run(["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args], cwd=cwd)


def copy_template_files(repo: Path) -> None:
    """Put this template's working files in `repo`, replacing any there."""
    for name in TEMPLATE_FILES:
        source, target = TEMPLATE_ROOT / name, repo / name
        if target.is_dir():
            shutil.rmtree(target)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)


def release(repo: Path, version: str) -> None:
    """Commit the template repository as it is and tag that commit `version`."""
    git("add", "-A", cwd=repo)
    git("commit", "-qm", f"Release {version}", cwd=repo)
    git("tag", version, cwd=repo)


def copier(
    *args: str, cwd: Path, uv_cache_dir: Path, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """The copier CLI of this environment, in an environment free of this repository's."""
    return run(
        [sys.executable, "-m", "copier", *args],
        cwd=cwd,
        env=project_env(uv_cache_dir, **OFFLINE_LOCK),
        check=check,
    )


def data_options(answers: dict[str, str]) -> list[str]:
    return [option for key, value in answers.items() for option in ("--data", f"{key}={value}")]


def copy_release(
    template: Path, destination: Path, ref: str, uv_cache_dir: Path, **answers: str
) -> None:
    """`copier copy` of the release `ref`, with these answers and the defaults for the rest."""
    copier(
        "copy",
        "--trust",
        "--defaults",
        "--vcs-ref",
        ref,
        *data_options(answers),
        str(template),
        str(destination),
        cwd=template.parent,
        uv_cache_dir=uv_cache_dir,
    )


def copy_and_commit(
    template: Path, destination: Path, ref: str, uv_cache_dir: Path, **answers: str
) -> None:
    """A copy of the release `ref` committed to a repository of its own, as teams keep one."""
    copy_release(template, destination, ref, uv_cache_dir, **answers)
    git("init", "-q", "-b", "main", cwd=destination)
    commit_all(destination, "Render the template")


def commit_all(project: Path, message: str) -> None:
    git("add", "-A", cwd=project)
    git("commit", "-qm", message, cwd=project)


def update(project: Path, uv_cache_dir: Path, *options: str) -> None:
    copier("update", "--trust", "--defaults", *options, cwd=project, uv_cache_dir=uv_cache_dir)


def recorded_answers(project: Path) -> dict[str, object]:
    answers: dict[str, object] = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return answers


HEADING = re.compile(r"^## (?P<version>\S+) — (?P<date>\d{4}-\d{2}-\d{2})$")


def changelog_headings() -> list[str]:
    text = (TEMPLATE_ROOT / "CHANGELOG.md").read_text()
    return [line for line in text.splitlines() if line.startswith("## ")]


def released_versions() -> list[Version]:
    versions = []
    for heading in changelog_headings()[1:]:
        match = HEADING.match(heading)
        assert match, f"not '## <version> — <date>': {heading}"
        version = Version(match["version"])  # raises on a non-PEP 440 version
        # Bare and normalized ("0.4.0", not "v0.4.0"), as tags must be for copier and Renovate.
        assert str(version) == match["version"], heading
        versions.append(version)
    return versions
