"""The CI files: rendered per provider, valid against their schemas, audited."""

from pathlib import Path

import pytest

from tests.support.commands import run
from tests.support.environment import TEMPLATE_ROOT, TOOLS
from tests.support.variants import Render

# The files each provider renders, with the builtin check-jsonschema schema of each.
CI_FILES: dict[str, dict[str, str]] = {
    "github": {
        ".github/workflows/ci.yml": "vendor.github-workflows",
        ".github/dependabot.yml": "vendor.dependabot",
    },
    "gitlab": {".gitlab-ci.yml": "vendor.gitlab-ci"},
    "none": {},
}
# What any provider may add at the top of the project; the others must leave no trace.
CI_ROOTS = (".github", ".gitlab-ci.yml")
STORES = ("memory", "redis")


def check_schema(schema: str, *paths: Path) -> None:
    __tracebackhide__ = True
    command = [str(TOOLS / "check-jsonschema"), "--builtin-schema", schema, *map(str, paths)]
    run(command, cwd=TEMPLATE_ROOT)


def audit_workflows(folder: Path) -> None:
    """zizmor without network access; any finding fails, with zizmor's report."""
    __tracebackhide__ = True
    run([str(TOOLS / "zizmor"), "--offline", "--no-progress", str(folder)], cwd=TEMPLATE_ROOT)


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize("provider", CI_FILES)
def test_ci_files_follow_provider(provider: str, store: str, render: Render) -> None:
    project = render(ci_provider=provider, rate_limit_store=store)
    assert ci_files(project) == set(CI_FILES[provider])


def ci_files(project: Path) -> set[str]:
    """Every file under the CI roots of a project, relative to it."""
    found = set()
    for root in map(project.joinpath, CI_ROOTS):
        paths = [root] if root.is_file() else root.rglob("*")
        found |= {str(path.relative_to(project)) for path in paths if path.is_file()}
    return found


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize("provider", [provider for provider in CI_FILES if CI_FILES[provider]])
def test_ci_files_match_their_schemas(provider: str, store: str, render: Render) -> None:
    project = render(ci_provider=provider, rate_limit_store=store)
    for path, schema in CI_FILES[provider].items():
        check_schema(schema, project / path)


@pytest.mark.parametrize("store", STORES)
def test_rendered_workflows_have_no_audit_findings(store: str, render: Render) -> None:
    audit_workflows(render(ci_provider="github", rate_limit_store=store) / ".github")


def test_template_workflows_are_valid_and_audited() -> None:
    workflows = sorted((TEMPLATE_ROOT / ".github/workflows").glob("*.yml"))
    assert workflows, "the template's own CI is missing"
    check_schema("vendor.github-workflows", *workflows)
    audit_workflows(TEMPLATE_ROOT / ".github")
