"""Releases: the changelog names each version once, newest first, and every migration's."""

import re

import yaml
from packaging.version import Version

from tests.support.environment import TEMPLATE_ROOT

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


def test_the_changelog_lists_releases_newest_first_under_unreleased() -> None:
    assert changelog_headings()[0] == "## Unreleased"
    versions = released_versions()
    assert versions
    assert versions == sorted(versions, reverse=True)
    assert len(set(versions)) == len(versions)


def test_every_migration_belongs_to_a_released_version() -> None:
    config = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text())
    released = set(released_versions())
    for migration in config["_migrations"]:
        assert Version(migration["version"]) in released, migration
