"""A throwaway question, added the way docs/contributing.md's "Adding a question" says: each
check that reads the questions from copier.yml catches the place it guards until that
place is filled, and only that place."""

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.render.test_render import EXPECTED
from tests.support.doc_pages import sections
from tests.support.environment import TEMPLATE_ROOT
from tests.support.questions import (
    Question,
    ci_page_gaps,
    deep_variant_gaps,
    questions_page_gaps,
    read_questions,
    read_questions_of,
    render_matrix_gaps,
    template_ci,
)
from tests.support.variants import DEEP_VARIANTS, NOT_INSTALLED

NAME = "audit_log"
THROWAWAY = {NAME: {"type": "bool", "help": "Record who changed what", "default": False}}
# The template CI's matrix column and the variable that carries it to copier.
COLUMN, VARIABLE = "audit", "AUDIT_LOG"


@dataclass
class Places:
    """Copies of the places a question must reach, as the checks read them."""

    expected: dict[str, Any]
    questions_page: str
    variants: dict[str, dict[str, Any]]
    workflow: dict[str, Any]
    ci_page: str

    @classmethod
    def as_they_are(cls) -> "Places":
        workflow = (TEMPLATE_ROOT / ".github/workflows/template-ci.yml").read_text()
        return cls(
            expected=dict(EXPECTED),
            questions_page=(TEMPLATE_ROOT / "docs/questions.md").read_text(),
            variants=copy.deepcopy(DEEP_VARIANTS),
            workflow=yaml.safe_load(workflow),
            ci_page=(TEMPLATE_ROOT / "docs/ci.md").read_text(),
        )


Questions = dict[str, Question]


@dataclass(frozen=True)
class Place:
    """A place as docs/contributing.md names it, its check, and the edit that fills it."""

    named: str
    check: Callable[[Questions, Places], list[str]]
    fill: Callable[[Places], None]


def fill_expected(places: Places) -> None:
    places.expected |= {f"{NAME}=false": "a row", f"{NAME}=true": "a row"}


def fill_questions_page(places: Places) -> None:
    places.questions_page += f"\n## `{NAME}`\n\nDefault `false`. With `true`, ...\n"


def fill_variants(places: Places) -> None:
    places.variants["everything"][NAME] = True


def fill_workflow(places: Places) -> None:
    job = places.workflow["jobs"]["variant"]
    for number, row in enumerate(job["strategy"]["matrix"]["include"]):
        row[COLUMN] = number % 2 == 1
    job["env"][VARIABLE] = f"${{{{ matrix.{COLUMN} }}}}"
    render = next(step for step in job["steps"] if step.get("name") == "Render")
    render["run"] = render["run"].replace(" .", f' --data "{NAME}=${VARIABLE}" .')


def fill_ci_page(places: Places) -> None:
    head, mark, pipeline = places.ci_page.partition("## The template's own pipeline")
    lines = pipeline.splitlines()
    table = [number for number, line in enumerate(lines) if line.startswith("|")]
    cells = [f" `{NAME}` |", "---|"] + [f" {number % 2 == 1} |".lower() for number in range(9)]
    for cell, number in zip(cells, table, strict=False):
        lines[number] += cell
    places.ci_page = head + mark + "\n".join(lines)


# In the order of the page's steps.
PLACES = [
    Place(
        "`EXPECTED` in `tests/render/test_render.py`",
        lambda questions, places: render_matrix_gaps(questions, places.expected),
        fill_expected,
    ),
    Place(
        "`docs/questions.md`",
        lambda questions, places: questions_page_gaps(questions, places.questions_page),
        fill_questions_page,
    ),
    Place(
        "`DEEP_VARIANTS` in `tests/support/variants.py`",
        lambda questions, places: deep_variant_gaps(questions, places.variants, NOT_INSTALLED),
        fill_variants,
    ),
    Place(
        "`.github/workflows/template-ci.yml`",
        lambda questions, places: template_ci(questions, places.workflow).gaps,
        fill_workflow,
    ),
    Place(
        "`docs/ci.md`",
        lambda questions, places: ci_page_gaps(questions, places.workflow, places.ci_page),
        fill_ci_page,
    ),
]


@pytest.fixture
def with_throwaway(tmp_path: Path) -> Questions:
    """copier.yml with the throwaway question at its end (step 1 of the page)."""
    copier_yml = tmp_path / "copier.yml"
    source = (TEMPLATE_ROOT / "copier.yml").read_text()
    copier_yml.write_text(source + "\n" + yaml.safe_dump(THROWAWAY, sort_keys=False))
    return read_questions(copier_yml)


def test_the_page_names_every_place_a_check_guards() -> None:
    steps = sections((TEMPLATE_ROOT / "docs/contributing.md").read_text())["Adding a question"]
    assert [place.named for place in PLACES if place.named not in steps] == []


def test_each_check_catches_the_new_question_until_its_place_is_filled(
    with_throwaway: Questions,
) -> None:
    assert with_throwaway[NAME].values == (False, True), "a bool is rendered both ways"
    places = Places.as_they_are()
    for filled in range(len(PLACES) + 1):
        for number, place in enumerate(PLACES):
            gaps = place.check(with_throwaway, places)
            if number < filled:
                assert gaps == [], f"{place.named} is filled"
            else:
                assert gaps, f"{place.named} is not filled yet, and its check passed"
                assert all(NAME in gap for gap in gaps), gaps
        if filled < len(PLACES):
            PLACES[filled].fill(places)


# Every form copier.yml may give a question: each type, choices as a list, a mapping of
# labels, [label, value] pairs, a value with its own validator, a multiselect, the short form.
FORMS: dict[str, Any] = {
    "text": {"type": "str", "default": "x"},
    "labelled": {"type": "str", "choices": {"A": "a", "B": "b"}, "default": "a"},
    "pairs": {"type": "int", "choices": [["one", 1], ["two", {"value": 2, "validator": ""}]]},
    "listed": {"type": "float", "choices": [0.5, 1.5], "default": 0.5},
    "flag": {"type": "bool", "default": True},
    "inferred_flag": {"default": False},
    "number": {"default": 3},
    "document": {"type": "json", "default": "{}"},
    "several": {"type": "yaml", "choices": [1, "x"], "multiselect": True, "default": [1]},
    "where": {"type": "path", "default": "."},
    "short": 1.5,
    **yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text()),
}


@pytest.mark.parametrize("name", [name for name in FORMS if name[0] != "_"])
def test_the_helper_reads_each_form_as_copier_does(name: str) -> None:
    """Checked against copier's own reading of a question (a private class of the copier
    that uv.lock pins: an upgrade that moves it fails here, not in the checks)."""
    from copier._user_data import AnswersMap, SandboxedEnvironment
    from copier._user_data import Question as CopierQuestion

    spec = FORMS[name] if isinstance(FORMS[name], dict) else {"default": FORMS[name]}
    spec = {key: value for key, value in spec.items() if key not in {"validator", "when"}}
    theirs = CopierQuestion(
        var_name=name, answers=AnswersMap(), context={}, jinja_env=SandboxedEnvironment(), **spec
    )
    ours = read_questions_of({name: FORMS[name]})[name]
    assert ours.type == theirs.get_type_name()
    choices = [theirs.cast_answer(choice.value) for choice in theirs._formatted_choices]
    if ours.type == "bool":
        assert (choices, ours.values) == ([], (False, True))
    elif ours.multiselect:
        assert [value for (value,) in ours.values] == choices
    else:
        assert list(ours.values) == choices
