"""docs/security-model.md names a test for each guarantee: every one of them must exist."""

import re
import subprocess
import sys

from tests.conftest import PROJECT_ROOT

SECURITY_MODEL = PROJECT_ROOT / "docs/security-model.md"
REFERENCE = re.compile(r"`(tests/[\w/]+\.py::\w+(?:\[[^\]]+\])?)`")
NOT_APPLICABLE = "(none)"


def rows() -> list[str]:
    """The guarantee rows of the document's tables (not their header or separator lines)."""
    lines = SECURITY_MODEL.read_text().splitlines()
    return [
        line
        for line in lines
        if line.startswith("| ") and not line.startswith(("| Guarantee", "|---"))
    ]


def collected_tests(files: set[str]) -> set[str]:
    """The ids of the tests in `files`, opt-in ones included, as pytest collects them."""
    everything = ["-m", "contract or not contract"]
    collected = subprocess.run(  # noqa: S603 - the files named by the document
        [sys.executable, "-m", "pytest", "--collect-only", "-q", *everything, *sorted(files)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return {line for line in collected.stdout.splitlines() if "::" in line}


def test_every_guarantee_names_one_test_that_exists() -> None:
    guarantees = rows()
    assert len(guarantees) >= 40, "the tables were not found"
    references = [reference for row in guarantees for reference in REFERENCE.findall(row)]
    tests = collected_tests({reference.split("::")[0] for reference in references})
    for row in guarantees:
        references = REFERENCE.findall(row)
        if not references:
            assert row.rstrip(" |").endswith(NOT_APPLICABLE), f"no test named: {row}"
            continue
        assert len(references) == 1, f"one test per guarantee: {row}"
        [reference] = references
        assert any(test == reference or test.startswith(f"{reference}[") for test in tests), (
            f"no such test: {reference}"
        )
