"""The CI files: rendered per provider, valid against their schemas, audited."""

from pathlib import Path

import pytest
import yaml

from tests.support.commands import run
from tests.support.environment import TEMPLATE_ROOT, TOOLS
from tests.support.manifests import dockerfile_value
from tests.support.questions import QUESTIONS
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
STORES = QUESTIONS["rate_limit_store"].values
# The uv version of the Dockerfile's hash-checked requirement.
DOCKERFILE_UV = r"uv==([0-9.]+) --hash=sha256:"


def check_schema(schema: str, *paths: Path) -> None:
    __tracebackhide__ = True
    command = [str(TOOLS / "check-jsonschema"), "--builtin-schema", schema, *map(str, paths)]
    run(command, cwd=TEMPLATE_ROOT)


def audit_workflows(folder: Path) -> None:
    """zizmor without network access; any finding fails, with zizmor's report."""
    __tracebackhide__ = True
    run([str(TOOLS / "zizmor"), "--offline", "--no-progress", str(folder)], cwd=TEMPLATE_ROOT)


@pytest.mark.parametrize("store", STORES)
# Every provider copier.yml offers: a new one without a row here fails with its name.
@pytest.mark.parametrize("provider", QUESTIONS["ci_provider"].values)
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


def test_github_ci_runs_the_uv_of_the_image(render: Render) -> None:
    project = render(ci_provider="github")
    workflow = yaml.safe_load((project / ".github/workflows/ci.yml").read_text())
    setups = [
        step
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if step.get("uses", "").startswith("astral-sh/setup-uv@")
    ]
    assert setups, "no job sets up uv: review this test"
    # Without `version`, setup-uv takes the newest uv of the day, which the image does not run.
    versions = {str(step.get("with", {}).get("version")) for step in setups}
    assert versions == {dockerfile_value(project, DOCKERFILE_UV)}


def test_gitlab_ci_runs_the_uv_of_the_image(render: Render) -> None:
    project = render(ci_provider="gitlab")
    pipeline = yaml.safe_load((project / ".gitlab-ci.yml").read_text())
    installs = [
        command
        for job in pipeline.values()
        if isinstance(job, dict)
        for command in job.get("before_script", [])
        if "install" in command and "uv" in command
    ]
    assert installs, "no job installs uv: review this test"
    assert all(f"uv=={dockerfile_value(project, DOCKERFILE_UV)}" in command for command in installs)
