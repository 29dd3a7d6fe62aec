"""Render once per answer value and check files, syntax, style and recorded answers."""

import ast
import configparser
import os
import re
import sys
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from pytest_copier.plugin import CopierFixture

from tests.support.commands import run
from tests.support.environment import TEMPLATE_ROOT
from tests.support.questions import (
    QUESTIONS,
    deep_variant_gaps,
    render_cases,
    render_matrix_gaps,
)
from tests.support.trees import differences
from tests.support.variants import DEEP_VARIANTS, NOT_INSTALLED, Render

# One render per value of every question that picks among projects (each choice, both sides
# of a bool), with readable ids such as `ci_provider=none`.
CASES = render_cases(QUESTIONS)


@dataclass(frozen=True)
class Expected:
    """Paths that must or must not exist, and text a file must or must not hold."""

    present: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    contains: dict[str, str] = field(default_factory=dict)
    lacks: dict[str, str] = field(default_factory=dict)


# Every render has these, whatever the answers.
COMMON_PATHS = (
    ".copier-answers.yml",
    ".env",
    ".env.example",
    ".gitignore",
    ".pre-commit-config.yaml",
    "Makefile",
    "README.md",
    "alembic.ini",
    "app/__init__.py",
    "app/core/answers.py",
    "pyproject.toml",
    "scripts/start.sh",
    "tests",
    "Dockerfile",
    ".dockerignore",
    "docker-compose.yml",
    "docs/architecture.md",
    "docs/deploying.md",
    "docs/operations.md",
    "docs/security-model.md",
    "uv.lock",
)

GITHUB_FILES = (".github/workflows/ci.yml", ".github/dependabot.yml")
# Rendered only with both Redis and tracing.
REDIS_TRACING = ("app/core/redis_tracing.py", "tests/test_redis_tracing.py")
GITLAB_FILES = (".gitlab-ci.yml",)
# One config file per Railway service: the API's and the worker's.
RAILWAY_FILES = ("railway.json", "railway.worker.json")

EXPECTED: dict[str, Expected] = {
    "python_version=3.14": Expected(contains={"Dockerfile": "python:3.14-slim"}),
    "python_version=3.13": Expected(contains={"Dockerfile": "python:3.13-slim"}),
    "python_version=3.12": Expected(contains={"Dockerfile": "python:3.12-slim"}),
    "python_version=3.11": Expected(contains={"Dockerfile": "python:3.11-slim"}),
    "rate_limit_store=memory": Expected(
        absent=("app/core/redis_store.py", "tests/test_rate_limit_redis.py", *REDIS_TRACING),
        # Documented as a setting only the Redis store reads, commented out.
        lacks={".env.example": "\nREDIS_URL=", "docker-compose.yml": "redis"},
    ),
    "rate_limit_store=redis": Expected(
        present=("app/core/redis_store.py", "tests/test_rate_limit_redis.py"),
        contains={".env.example": "\nREDIS_URL=", "docker-compose.yml": "redis"},
    ),
    "ci_provider=github": Expected(present=GITHUB_FILES, absent=GITLAB_FILES),
    "ci_provider=gitlab": Expected(present=GITLAB_FILES, absent=(".github",)),
    "ci_provider=none": Expected(absent=(".github", *GITLAB_FILES)),
    "deploy_platform=railway": Expected(present=RAILWAY_FILES, absent=("deploy",)),
    "deploy_platform=kubernetes": Expected(
        present=("deploy/kubernetes/kustomization.yaml", "deploy/kubernetes-ingress/ingress.yaml"),
        absent=RAILWAY_FILES,
    ),
    "deploy_platform=none": Expected(absent=(*RAILWAY_FILES, "deploy")),
    "tracing=none": Expected(
        absent=("app/core/tracing.py", "tests/test_tracing.py", *REDIS_TRACING),
        lacks={"pyproject.toml": "opentelemetry", "docker-compose.yml": "jaeger"},
    ),
    "tracing=opentelemetry": Expected(
        present=("app/core/tracing.py", "tests/test_tracing.py"),
        contains={"pyproject.toml": "opentelemetry-sdk", "docker-compose.yml": "jaeger"},
    ),
}

# Jinja that survived rendering: `{{ name`, `{%` or `[[ name ]]`. Not `${{` (a GitHub Actions
# expression), `{{"` (an escaped brace in an f-string), `[[name]]` (a TOML array of tables) or
# `[[ -f x ]]` (a bash test).
LEFTOVER_MARKERS = re.compile(r"(?<!\$)\{\{-?\s*[A-Za-z_]|\{%|\[\[\s+[A-Za-z_][\w.]*\s*(?:\]\]|\|)")
# The rendered service's own Jinja templates (its e-mails), rendered when it sends one.
RUNTIME_TEMPLATES = Path("app/mail/templates")


def rendered_files(project: Path) -> list[Path]:
    return sorted(path for path in project.rglob("*") if path.is_file())


def text_of(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:  # a binary file holds no template syntax worth checking
        return None


def secret_key(project: Path) -> str:
    for line in (project / ".env").read_text().splitlines():
        name, _, value = line.partition("=")
        if name.strip() == "SECRET_KEY":
            return value.strip().strip("'\"")
    raise AssertionError(f"no SECRET_KEY line in {project / '.env'}")


def test_expectations_cover_every_value() -> None:
    assert render_matrix_gaps(QUESTIONS, EXPECTED) == []


def test_the_deep_variants_install_every_value() -> None:
    """`everything` turns each option away from its default, so the default and it, the two
    installs of the deep tests, run both sides of every option."""
    assert deep_variant_gaps(QUESTIONS, DEEP_VARIANTS, NOT_INSTALLED) == []


def test_jinja_suffix_only_on_templated_files() -> None:
    # Plain files stay plain, so they can be read, linted and edited as ordinary code.
    needless = [
        str(path.relative_to(TEMPLATE_ROOT))
        for path in (TEMPLATE_ROOT / "template").rglob("*.jinja")
        if not re.search(r"\{\{|\{%|\{#", path.read_text())
    ]
    assert needless == []


def test_answers_enter_python_through_one_module() -> None:
    """Every other Python file is plain: optional parts are whole files, chosen by name, and
    app/core/answers.py.jinja decides which of them a project uses."""
    templated_python = [
        str(path.relative_to(TEMPLATE_ROOT / "template"))
        for path in (TEMPLATE_ROOT / "template").rglob("*.jinja")
        if re.search(r"\.py(\{% endif %\})?$", path.name.removesuffix(".jinja"))
    ]
    assert templated_python == ["app/core/answers.py.jinja"]


@pytest.mark.parametrize("case", CASES)
def test_files_follow_answers(case: str, render: Render) -> None:
    project = render(**CASES[case])
    expected = EXPECTED[case]
    missing = [path for path in COMMON_PATHS + expected.present if not (project / path).exists()]
    unwanted = [path for path in expected.absent if (project / path).exists()]
    assert (missing, unwanted) == ([], []), "(missing, unexpected) paths"
    for path, text in expected.contains.items():
        assert text in (project / path).read_text(), f"{path} lacks {text!r}"
    for path, text in expected.lacks.items():
        assert text not in (project / path).read_text(), f"{path} holds {text!r}"


@pytest.mark.parametrize("case", CASES)
def test_no_leftover_template_syntax(case: str, render: Render) -> None:
    project = render(**CASES[case])
    leftovers = []
    for path in rendered_files(project):
        relative = path.relative_to(project)
        if path.suffix == ".jinja" or LEFTOVER_MARKERS.search(str(relative)):
            leftovers.append(f"{relative}: name")
        if relative.is_relative_to(RUNTIME_TEMPLATES):
            continue
        text = text_of(path)
        for number, line in enumerate((text or "").splitlines(), start=1):
            if LEFTOVER_MARKERS.search(line):
                leftovers.append(f"{relative}:{number}: {line.strip()}")
    assert leftovers == []


@pytest.mark.parametrize("case", CASES)
def test_ruff_clean(case: str, render: Render) -> None:
    project = render(**CASES[case])
    # This repository's ruff, run from the project so that its own [tool.ruff] config applies;
    # --no-cache keeps the rendered tree as copier left it for the other checks.
    ruff = [sys.executable, "-m", "ruff"]
    run([*ruff, "check", "--no-cache", str(project)], cwd=project, timeout=120)
    run([*ruff, "format", "--check", "--no-cache", str(project)], cwd=project, timeout=120)


@pytest.mark.parametrize("case", CASES)
def test_config_files_parse(case: str, render: Render) -> None:
    project = render(**CASES[case])
    checked = 0
    for path in rendered_files(project):
        if path.suffix == ".toml":
            tomllib.loads(path.read_text())
        elif path.suffix in {".yml", ".yaml"}:
            yaml.safe_load(path.read_text())
        else:
            continue
        checked += 1
    assert checked >= 3, "expected at least pyproject.toml and two YAML files"


@pytest.mark.parametrize("case", CASES)
def test_answers_recorded(case: str, render: Render, copier_template: Path) -> None:
    answers = yaml.safe_load((render(**CASES[case]) / ".copier-answers.yml").read_text())
    for name, value in CASES[case].items():
        assert answers[name] == value
    # Questions without `when` are always asked, so always recorded; update depends on it.
    unconditional = {name for name, question in QUESTIONS.items() if not question.conditional}
    assert unconditional <= set(answers)
    # pytest-copier renders from a git copy of the template tagged 99.99.99.
    assert answers["_commit"] == "99.99.99"
    assert answers["_src_path"] == str(copier_template)


@pytest.mark.parametrize("store", QUESTIONS["rate_limit_store"].values)
def test_redis_dependency_follows_rate_limit_store(store: str, render: Render) -> None:
    pyproject = tomllib.loads((render(rate_limit_store=store) / "pyproject.toml").read_text())
    names = {
        re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower()
        for requirement in pyproject["project"]["dependencies"]
    }
    assert ("redis" in names) == (store == "redis"), sorted(names)


def test_alembic_finds_the_migrations(render: Render) -> None:
    project = render(rate_limit_store="memory")
    # Read script_location as alembic does, so renaming the folder needs no change here.
    config = configparser.ConfigParser(defaults={"here": str(project)})
    config.read(project / "alembic.ini")
    migrations = Path(config.get("alembic", "script_location"))
    if not migrations.is_absolute():
        migrations = project / migrations
    assert (migrations / "env.py").is_file()
    assert list((migrations / "versions").glob("*.py")), "no initial revision"


def test_start_script_is_executable(render: Render) -> None:
    # Containers and the boot test run scripts/start.sh directly.
    assert os.access(render(rate_limit_store="memory") / "scripts/start.sh", os.X_OK)


def test_env_file_is_ignored_and_holds_a_fresh_secret(
    render: Render, copier: CopierFixture, tmp_path: Path
) -> None:
    first = render(rate_limit_store="memory")
    second = copier.copy(tmp_path / "service").path
    assert len(secret_key(first)) >= 32
    assert secret_key(first) != secret_key(second), "every render must generate its own key"
    # Ask git itself, so any pattern style in .gitignore is judged as git would.
    run(["git", "init", "-q"], cwd=second)
    assert run(["git", "check-ignore", "-q", ".env"], cwd=second, check=False).returncode == 0
    example = run(["git", "check-ignore", "-q", ".env.example"], cwd=second, check=False)
    assert example.returncode == 1, ".env.example must stay tracked"


def test_two_renders_with_the_same_answers_differ_only_in_the_secret(
    copier: CopierFixture, tmp_path: Path
) -> None:
    # uv.lock is resolved at render time against the live index, which may publish a
    # release between two renders: both resolve here against the index as of yesterday.
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    # (copier.setenv: copier's tasks read plumbum's copy of the environment.)
    copier.setenv("UV_EXCLUDE_NEWER", (midnight - timedelta(days=1)).isoformat())
    first = copier.copy(tmp_path / "first").path
    second = copier.copy(tmp_path / "second").path
    # Nothing random or time-based in any other file, so updates never churn.
    assert differences(first, second) == []
    env_lines = [(project / ".env").read_text().splitlines() for project in (first, second)]
    unequal = [pair for pair in zip(*env_lines, strict=True) if pair[0] != pair[1]]
    assert [pair[0].partition("=")[0] for pair in unequal] == ["SECRET_KEY"]


@pytest.mark.parametrize("origins", [[], ["https://app.example.com"]], ids=["none", "one"])
def test_cors_origins_answer_reaches_the_answers_module(
    origins: list[str], copier: CopierFixture, tmp_path: Path
) -> None:
    project = copier.copy(tmp_path / "service", cors_origins=origins).path
    module = project / "app/core/answers.py"
    assert list(ast.literal_eval(python_values(module)["CORS_ORIGINS"])) == origins
    assert "http://localhost:3000" not in module.read_text(), "the default origin must be replaced"
    # No list, one origin, many (below): each laid out as the formatter leaves it.
    run([sys.executable, "-m", "ruff", "format", "--check", "--no-cache", str(module)], cwd=project)


def python_values(module: Path) -> dict[str, ast.expr]:
    """The values assigned at the top of a module, by name."""
    return {
        node.targets[0].id if isinstance(node, ast.Assign) else node.target.id: node.value
        for node in ast.parse(module.read_text()).body
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None
    }


def test_awkward_answers_stay_valid_and_formatted(copier: CopierFixture, tmp_path: Path) -> None:
    answers = {
        "project_name": 'The "Quoted" Service',
        "project_description": "It's long: " + "a description that goes on and on " * 5,
        "author_name": 'O\'Brien "Ops"',
        "cors_origins": [f"https://app{number}.example.com:8443" for number in range(6)],
    }
    project = copier.copy(tmp_path / "service", **answers).path
    ruff = [sys.executable, "-m", "ruff"]
    run([*ruff, "check", "--no-cache", str(project)], cwd=project, timeout=120)
    run([*ruff, "format", "--check", "--no-cache", str(project)], cwd=project, timeout=120)
    metadata = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    assert metadata["description"] == answers["project_description"]
    assert metadata["authors"][0]["name"] == answers["author_name"]
    # The Python literals hold exactly the answers.
    values = python_values(project / "app/core/answers.py")
    assert ast.literal_eval(values["PROJECT_NAME"]) == answers["project_name"]
    assert ast.literal_eval(values["PROJECT_DESCRIPTION"]) == answers["project_description"]
    assert list(ast.literal_eval(values["CORS_ORIGINS"])) == answers["cors_origins"]
