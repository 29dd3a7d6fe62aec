"""docs/security-model.md names a test for each guarantee: every one of them must exist."""

import ast
import re

from tests.conftest import PROJECT_ROOT

SECURITY_MODEL = PROJECT_ROOT / "docs/security-model.md"
REFERENCE = re.compile(r"`tests/(\w+\.py)::(\w+)`")
NOT_APPLICABLE = "(none)"


def rows() -> list[str]:
    """The guarantee rows of the document's tables (not their header or separator lines)."""
    lines = SECURITY_MODEL.read_text().splitlines()
    return [
        line
        for line in lines
        if line.startswith("| ") and not line.startswith(("| Guarantee", "|---"))
    ]


def defined_tests(module: str) -> set[str]:
    """The test functions a module of the suite defines (pytest collects these names)."""
    tree = ast.parse((PROJECT_ROOT / "tests" / module).read_text())
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
    }


def test_every_guarantee_names_one_test_that_exists() -> None:
    guarantees = rows()
    assert len(guarantees) >= 40, "the tables were not found"
    for row in guarantees:
        references = REFERENCE.findall(row)
        if not references:
            assert row.rstrip(" |").endswith(NOT_APPLICABLE), f"no test named: {row}"
            continue
        assert len(references) == 1, f"one test per guarantee: {row}"
        [(module, name)] = references
        assert (PROJECT_ROOT / "tests" / module).is_file(), f"no such module: {module}"
        assert name in defined_tests(module), f"no such test: tests/{module}::{name}"
