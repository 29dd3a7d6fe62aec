"""docs/performance.md states the targets `make bench` checks: the bench's one table of
them (bench/goals.py), row for row."""

from bench.goals import GOALS
from tests.support.doc_pages import table
from tests.support.environment import TEMPLATE_ROOT


def test_the_performance_page_states_the_bench_s_targets() -> None:
    page = (TEMPLATE_ROOT / "docs/performance.md").read_text()
    header, rows = table(page.partition("\n## The targets\n")[2].partition("\n## ")[0])
    assert header[:2] == ["Target", "limit"]
    stated = [(row[0], row[1]) for row in rows]
    assert stated == [(goal.label, goal.stated) for goal in GOALS.values()]
