"""Releases: the changelog names each version once, newest first, and every migration's."""

import yaml
from packaging.version import Version

from tests.support.environment import TEMPLATE_ROOT
from tests.support.git_releases import changelog_headings, released_versions


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
