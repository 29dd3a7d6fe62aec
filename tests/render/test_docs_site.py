"""The documentation site: it builds strictly, every page is in its navigation, and its
reference pages cover every question of copier.yml and every variable of .env.example."""

import importlib.util
import re
from html import unescape
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest
import yaml

from extensions.context import template_docs
from tests.support.doc_pages import bash_blocks, commands, table
from tests.support.environment import TEMPLATE_ROOT
from tests.support.git_releases import released_versions
from tests.support.questions import QUESTIONS, ci_page_gaps, questions_page_gaps, template_ci
from tests.support.site import nav_pages, site_config
from tests.support.variants import DEEP_VARIANTS, Render

DOCS = TEMPLATE_ROOT / "docs"
REDIS_AND_TRACING = {"rate_limit_store": "redis", "tracing": "opentelemetry"}
KUBERNETES_WITH_REDIS = {"deploy_platform": "kubernetes", "rate_limit_store": "redis"}
# An active line of .env.example whose value is the project's own (an answer, a secret).
FROM_THE_ANSWERS = {
    "DATABASE_URL",
    "SECRET_KEY",
    "CORS_ORIGINS",
    "RATE_LIMIT_STORE",
    "RATE_LIMIT_KEY_PREFIX",
}
VARIABLE = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$")


def test_the_site_builds_strictly(built_site: Path) -> None:
    assert (built_site / "questions/index.html").is_file()
    assert not (built_site / "hooks").exists(), "the build's hooks are not pages"


@pytest.mark.parametrize("store", ["memory", "redis"])
def test_the_security_model_page_names_every_test_of_each_store(
    built_site: Path, render: Render, store: str
) -> None:
    """The page shows the document each variant renders: every guarantee's test is on it,
    and the rows of one store only are marked with it."""
    document = (render(rate_limit_store=store) / "docs/security-model.md").read_text()
    tests = set(re.findall(r"`(tests/\w+\.py::\w+)`", document))
    assert len(tests) >= 40
    page = (built_site / "security-model/index.html").read_text()
    assert sorted(test for test in tests if f"<code>{test}</code>" not in page) == []
    if store == "redis":
        assert "<em>Redis store:</em> With the Redis store, two service processes" in page


def test_every_page_is_in_the_navigation() -> None:
    pages = sorted(str(path.relative_to(DOCS)) for path in DOCS.rglob("*.md"))
    assert sorted(nav_pages(site_config()["nav"])) == pages


def test_every_question_is_documented_with_its_default_and_values() -> None:
    assert questions_page_gaps(QUESTIONS, (DOCS / "questions.md").read_text()) == []


@pytest.fixture(scope="module")
def documented_variables() -> dict[str, str]:
    """Each variable of docs/configuration.md's tables, with its row."""
    rows = re.findall(
        r"^\| `([A-Z][A-Z0-9_]*)` \|(.*)$", (DOCS / "configuration.md").read_text(), re.M
    )
    return dict(rows)


def test_every_variable_is_documented_with_its_default(
    render: Render, documented_variables: dict[str, str]
) -> None:
    named: set[str] = set()
    # The deep variants turn every option both ways: their .env.example files, together,
    # name every variable a project can have.
    for answers in DEEP_VARIANTS.values():
        for line in (render(**answers) / ".env.example").read_text().splitlines():
            if match := VARIABLE.match(line):
                name, value = match[1], match[2]
                named.add(name)
                active = not line.startswith("#")
                if active and name not in FROM_THE_ANSWERS:
                    assert f"`{value}`" in documented_variables.get(name, ""), (name, value)
    assert sorted(named - documented_variables.keys()) == [], "undocumented variables"
    assert sorted(documented_variables.keys() - named) == [], "documented, but read by nothing"


def test_the_ci_page_shows_the_template_pipeline_s_matrix() -> None:
    """Every value of every question is in a row of the template CI's matrix, reaches copier
    in its Render step, and the page's table is that matrix."""
    workflow = yaml.safe_load((TEMPLATE_ROOT / ".github/workflows/template-ci.yml").read_text())
    assert template_ci(QUESTIONS, workflow).gaps == []
    assert ci_page_gaps(QUESTIONS, workflow, (DOCS / "ci.md").read_text()) == []


def test_the_ci_page_lists_every_job_of_both_rendered_pipelines(render: Render) -> None:
    workflow = render(ci_provider="github") / ".github/workflows/ci.yml"
    github_jobs = set(yaml.safe_load(workflow.read_text())["jobs"])
    gitlab_file = yaml.safe_load((render(ci_provider="gitlab") / ".gitlab-ci.yml").read_text())
    keywords = {"workflow", "default", "stages", "variables", "include", "image", "cache"}
    gitlab_jobs = {name for name in gitlab_file if name not in keywords and name[0] != "."}
    page = (DOCS / "ci.md").read_text().partition("## The rendered pipeline")[2]
    documented = {row[0] for row in table(page.partition("## ")[0])[1]}
    assert github_jobs == gitlab_jobs == documented


@pytest.mark.parametrize("document", ["README.md", "docs/index.md"])
def test_the_quick_start_is_part_of_getting_started(document: str) -> None:
    """The README's and the home page's quick start show commands of the getting-started
    page, which deep/test_getting_started.py runs: so every command a newcomer copies
    first is run."""
    quick_start = bash_blocks(TEMPLATE_ROOT / document)[0]
    page = {
        command
        for block in bash_blocks(DOCS / "getting-started.md")
        for line in block
        for command in commands(line)
    }
    shown = [command for line in quick_start for command in commands(line)]
    assert len(shown) >= 5
    assert [command for command in shown if command not in page] == []


def test_the_rendered_readme_points_at_pages_that_exist(render: Render) -> None:
    source = (TEMPLATE_ROOT / "template/README.md.jinja").read_text()
    named = re.findall(r'doc_page\("([a-z-]+)"', source)
    assert len(set(named)) >= 9
    assert sorted(name for name in named if not (DOCS / f"{name}.md").is_file()) == []
    # Rendered from a local path, the README names the pages by file.
    assert "authentication (`authentication.md`)" in (render() / "README.md").read_text()


@pytest.mark.parametrize(
    ("source", "commit", "expected"),
    [
        (
            "gh:acme/service-template",
            "0.7.0",
            "https://github.com/acme/service-template/blob/0.7.0/docs",
        ),
        (
            "https://github.com/acme/t.git",
            "0.7.0-3-g1a2b3c4",
            "https://github.com/acme/t/blob/1a2b3c4/docs",
        ),
        (
            "git@gitlab.com:team/sub/t.git",
            "0.7.0",
            "https://gitlab.com/team/sub/t/-/blob/0.7.0/docs",
        ),
        ("gl:team/t", "0.7.0", "https://gitlab.com/team/t/-/blob/0.7.0/docs"),
        ("/home/me/template", "0.7.0", ""),
        ("https://git.example.com/team/t", "0.7.0", ""),
        ("gh:acme/t", None, ""),
    ],
)
def test_the_template_s_pages_are_linked_where_its_host_shows_them(
    source: str, commit: str | None, expected: str
) -> None:
    assert template_docs(source, commit) == expected


ARCHITECTURE_SECTIONS = [
    "Each decision has one place",
    "The life of a request",
    "Units of work",
    "Naming the user",
]


def page_text(html: str) -> str:
    """A built page's text: tags dropped (code is split into highlighted spans), entities read."""
    return unescape(re.sub(r"<[^>]+>", "", html))


@pytest.mark.parametrize(
    ("page", "document", "answers", "titles"),
    [
        ("deploying", "deploying", {}, ["Docker Compose", "Database roles", "Railway"]),
        ("deploying", "deploying", KUBERNETES_WITH_REDIS, ["Kubernetes"]),
        ("operations", "operations", REDIS_AND_TRACING, ["Rate limiting", "Observability"]),
        ("performance", "operations", {"rate_limit_store": "redis"}, ["Performance and tuning"]),
        ("architecture", "architecture", {}, ARCHITECTURE_SECTIONS),
    ],
)
def test_pages_quote_the_documents_a_project_renders(
    built_site: Path,
    render: Render,
    page: str,
    document: str,
    answers: dict[str, str],
    titles: list[str],
) -> None:
    """The site's page shows each section of the rendered project's docs/<document>.md whole."""
    rendered = (render(**answers) / f"docs/{document}.md").read_text()
    text = page_text((built_site / page / "index.html").read_text())
    for title in titles:
        body = rendered.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]
        # Every command and every value it shows: the lines of its shell blocks, its code spans.
        blocks = re.findall(r"```bash\n(.*?)```", body, re.S)
        spans = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", body, flags=re.S))
        shown = [" ".join(line.split()) for line in "\n".join([*blocks, *spans]).splitlines()]
        assert shown, title
        flat = " ".join(text.split())
        assert [line for line in shown if line not in flat] == [], title


def docs_hook(name: str = "rendered_project") -> ModuleType:
    """A hook of docs/hooks/, loaded by its path as mkdocs loads it."""
    path = TEMPLATE_ROOT / f"docs/hooks/{name}.py"
    spec = importlib.util.spec_from_file_location(f"{name}_hook", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def page_named(name: str) -> SimpleNamespace:
    return SimpleNamespace(file=SimpleNamespace(src_uri=name))


@pytest.mark.parametrize(
    ("marker", "error"),
    [
        ("<!-- rendered docs/deploying.md: No such section | -->", "no single section"),
        ("<!-- rendered docs/deploying.md: Kubernetes | deploy=kubernetes -->", "no question"),
        ("<!-- rendered docs/deploying.md: Kubernetes -->", "a malformed marker"),
        ("<!-- rendered docs/no-such-page.md: Kubernetes | -->", "has no docs/no-such-page"),
    ],
    ids=["section", "answer", "malformed", "document"],
)
def test_the_docs_hook_fails_on_a_marker_it_cannot_fill_and_names_the_page(
    marker: str, error: str
) -> None:
    with pytest.raises(ValueError, match=rf"^a-page\.md: .*{error}"):
        docs_hook().on_page_markdown(f"# A page\n\n{marker}\n", page=page_named("a-page.md"))


def test_the_docs_hook_leaves_markers_in_code_blocks_alone() -> None:
    page = "# A page\n\n```text\n<!-- rendered docs/deploying.md: Kubernetes | -->\n```\n"
    assert docs_hook().on_page_markdown(page, page=page_named("a-page.md")) == page


def test_the_docs_hook_renders_each_set_of_answers_once() -> None:
    hook = docs_hook()
    assert hook.answers_of(" tracing=none  ci_provider=none") == hook.answers_of(
        "ci_provider=none tracing=none"
    )


@pytest.mark.parametrize(
    ("address", "page"),
    [
        ("gh:acme/service-template", "https://github.com/acme/service-template"),
        ("https://gitlab.com/team/t.git", "https://gitlab.com/team/t"),
        ("", None),
    ],
)
def test_the_template_s_address_is_set_once_for_every_page(address: str, page: str | None) -> None:
    hook = docs_hook("address")
    config = SimpleNamespace(extra={"template_address": address}, repo_url=None)
    assert hook.on_config(config).repo_url == page
    shown = "copier copy --trust <this repository> my-service"
    expected = shown.replace("<this repository>", address) if address else shown
    assert hook.on_page_markdown(shown, config=config) == expected


def test_the_commands_render_the_release_the_pages_describe() -> None:
    """Every `copier copy` a reader copies names the newest release of CHANGELOG.md."""
    newest = str(released_versions()[0])
    shown = [
        (page.name, line)
        for page in [TEMPLATE_ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
        for line in page.read_text().splitlines()
        if line.lstrip().startswith("uvx") and "copier copy" in line
    ]
    assert len(shown) >= 3
    assert [line for line in shown if f"--vcs-ref {newest} " not in line[1]] == []


def test_the_pages_name_the_template_by_the_one_placeholder() -> None:
    """Every page that shows `copier copy` names the template by the placeholder the
    address fills in: no page hard-codes an address of its own."""
    assert "template_address" in site_config()["extra"]
    for page in DOCS.glob("*.md"):
        for line in page.read_text().splitlines():
            if "copier copy" in line and line.lstrip().startswith("uvx"):
                assert "<this repository>" in line, (page.name, line)
