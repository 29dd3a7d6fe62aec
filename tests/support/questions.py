"""The template's questions, read from copier.yml: the one source that the render matrix,
the template CI's matrix, the deep variants and the questions page are checked against.

Each `*_gaps` function returns what its place lacks for the questions it is given (empty
when nothing is missing), so a test can show it catching a question that is not yet there
(tests/render/test_adding_a_question.py)."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.support.doc_pages import sections, table
from tests.support.environment import TEMPLATE_ROOT

# The types copier knows, and the one it infers from a default's Python type (else yaml).
TYPES = ("str", "int", "float", "bool", "json", "yaml", "path")
INFERRED = {"bool", "int", "float", "str"}


@dataclass(frozen=True)
class Question:
    name: str
    type: str
    default: Any
    # Each value that renders a different project: every choice, both sides of a bool.
    # Free answers (text, numbers, YAML without choices) have none.
    values: tuple[Any, ...]
    multiselect: bool = False
    # Asked only `when` other answers call for it, so not always recorded.
    conditional: bool = False

    @property
    def computed(self) -> bool:
        """A default copier works out from other answers, described rather than shown."""
        return isinstance(self.default, str) and "{{" in self.default


def shown(value: Any) -> str:
    """A value as copier.yml, the workflows and the pages write it: `true`, `3.14`, `memory`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _choice_values(name: str, choices: Any) -> list[Any]:
    # copier takes a list of values, a mapping of labels to values, or a list of
    # [label, value] pairs; a value may be {value: ..., validator: ...}.
    if isinstance(choices, str):
        raise ValueError(f"{name}: choices computed by Jinja; list them in copier.yml")
    pairs = list(choices.items()) if isinstance(choices, dict) else choices
    values = []
    for choice in pairs:
        value = choice[1] if isinstance(choice, list | tuple) else choice
        values.append(value["value"] if isinstance(value, dict) else value)
    return values


def _question(name: str, spec: Any) -> Question:
    if not isinstance(spec, dict):  # `name: default`, copier's short form
        spec = {"default": spec}
    default = spec.get("default")
    inferred = type(default).__name__
    kind = spec.get("type") or (inferred if inferred in INFERRED else "yaml")
    if kind not in TYPES:
        raise ValueError(f"{name}: copier has no type {kind!r}")
    multiselect = bool(spec.get("multiselect"))
    if "choices" in spec:
        values = _choice_values(name, spec["choices"])
        if multiselect:  # each choice taken alone
            values = [[value] for value in values]
    elif kind == "bool":
        values = [False, True]
    else:
        values = []
    return Question(name, kind, default, tuple(values), multiselect, "when" in spec)


def read_questions_of(specs: Mapping[str, Any]) -> dict[str, Question]:
    """The questions of copier.yml's mapping, in the order copier asks them."""
    return {name: _question(name, spec) for name, spec in specs.items() if name[0] != "_"}


def read_questions(copier_yml: Path = TEMPLATE_ROOT / "copier.yml") -> dict[str, Question]:
    return read_questions_of(yaml.safe_load(copier_yml.read_text()))


QUESTIONS = read_questions()


def with_values(questions: Mapping[str, Question]) -> dict[str, Question]:
    """The questions whose answer picks one of a few projects: the ones to render each way."""
    return {name: question for name, question in questions.items() if question.values}


def render_cases(questions: Mapping[str, Question]) -> dict[str, dict[str, Any]]:
    """One render per value of every such question, with ids such as `ci_provider=none`."""
    return {
        f"{name}={shown(value)}": {name: value}
        for name, question in with_values(questions).items()
        for value in question.values
    }


# --- The places a new question must reach, each with what checks it -------------------------


def render_matrix_gaps(questions: Mapping[str, Question], expected: Mapping[str, Any]) -> list[str]:
    """Render cases without a row of `EXPECTED` (tests/render/test_render.py), and rows
    for values no question has any more."""
    cases = render_cases(questions)
    return [f"no EXPECTED row for {case}" for case in cases if case not in expected] + [
        f"EXPECTED row {case} is no answer's" for case in expected if case not in cases
    ]


def questions_page_gaps(questions: Mapping[str, Question], page: str) -> list[str]:
    """What docs/questions.md lacks: a section per question, showing its default (unless
    computed) and every value."""
    documented = sections(page)
    gaps = []
    for name, question in questions.items():
        if name not in documented:
            gaps.append(f"docs/questions.md has no section `{name}`")
            continue
        shows = [] if question.computed else [question.default]
        values = [value for value in question.values if not question.multiselect]
        for value in [*shows, *values]:
            if f"`{shown(value)}`" not in documented[name]:
                gaps.append(f"docs/questions.md's `{name}` does not show `{shown(value)}`")
    return gaps


def deep_variant_gaps(
    questions: Mapping[str, Question],
    variants: Mapping[str, Mapping[str, Any]],
    not_installed: Mapping[str, str],
) -> list[str]:
    """Questions whose other side no deep variant installs: `everything` must turn each one
    away from its default, unless `NOT_INSTALLED` says why the deep tests cannot."""
    everything = variants["everything"]
    return [
        f"DEEP_VARIANTS['everything'] keeps {name}'s default"
        for name, question in with_values(questions).items()
        if name not in not_installed and everything.get(name, question.default) == question.default
    ]


@dataclass(frozen=True)
class TemplateCi:
    """The template CI's variant job, read the way it runs: each question reaches copier as
    `--data "name=$VARIABLE"`, the variable is the job's env `${{ matrix.column }}`."""

    columns: dict[str, str]  # question name → matrix column
    rows: list[dict[str, Any]]
    gaps: list[str]


MATRIX_VALUE = re.compile(r"^\$\{\{\s*matrix\.(\w+)\s*\}\}$")
DATA_OPTION = re.compile(r'--data "(\w+)=\$(\w+)"')


def template_ci(questions: Mapping[str, Question], workflow: Mapping[str, Any]) -> TemplateCi:
    job = workflow["jobs"]["variant"]
    rows = job["strategy"]["matrix"]["include"]
    render = next(step["run"] for step in job["steps"] if step.get("name") == "Render")
    passed = dict(DATA_OPTION.findall(render))
    columns: dict[str, str] = {}
    gaps = []
    for name in with_values(questions):
        if name not in passed:
            gaps.append(f'template-ci.yml\'s Render step passes no --data "{name}=$..."')
            continue
        source = MATRIX_VALUE.match(str(job["env"].get(passed[name], "")))
        if source is None:
            gaps.append(f"template-ci.yml's env {passed[name]} is not ${{{{ matrix.<column> }}}}")
            continue
        columns[name] = source[1]
        gaps += [f"a matrix row has no {source[1]}: {row}" for row in rows if source[1] not in row]
    for name, column in columns.items():
        taken = {shown(row.get(column)) for row in rows}
        untaken = [shown(value) for value in questions[name].values if shown(value) not in taken]
        gaps += [f"no matrix row takes {name}={value}" for value in untaken]
    return TemplateCi(columns, rows, gaps)


def ci_page_gaps(
    questions: Mapping[str, Question], workflow: Mapping[str, Any], page: str
) -> list[str]:
    """docs/ci.md's table of the template's matrix: a column per question, a row per job."""
    names = list(with_values(questions))
    header, rows = table(page.partition("## The template's own pipeline")[2])
    if header != names:
        return [f"docs/ci.md's matrix columns are {header}, not {names}"]
    ci = template_ci(questions, workflow)
    expected = [
        [shown(row[ci.columns[name]]) if ci.columns.get(name) in row else "?" for name in names]
        for row in ci.rows
    ]
    if rows != expected:
        return [f"docs/ci.md's matrix rows are {rows}, not the workflow's {expected}"]
    return []
