"""The bench (make bench) runs end to end; in smoke mode, its figures mean nothing."""

import re
import sys
from pathlib import Path

import pytest

from bench.goals import GOALS
from tests.support.commands import run
from tests.support.databases import ADMIN_DATABASE_URL
from tests.support.environment import TEMPLATE_ROOT, project_env

pytestmark = pytest.mark.deep


def test_the_bench_runs_end_to_end_in_smoke_mode(uv_cache_dir: Path) -> None:
    env = project_env(
        uv_cache_dir, PYTHONPATH=str(TEMPLATE_ROOT), TEST_DATABASE_URL=ADMIN_DATABASE_URL
    )
    # --before HEAD: the comparison with an earlier render runs too (HEAD against itself).
    command = [sys.executable, "-m", "bench.run", "--smoke", "--before", "HEAD"]
    result = run(command, cwd=TEMPLATE_ROOT, env=env)
    for section in ("Small tables", "E-mail", "Big tables", "Memory of the worker", "Targets"):
        assert section in result.stdout, result.stdout
    for line in (
        "GET /users/me, baseline without a log",
        "GET /health/live, baseline without a log",
        "POST /auth/refresh, 32 connections, baseline without a log",
        "GET /users/me, now and at HEAD",
        # The e-mail phase: a worker sent through the sink, beside raw SMTP, and each
        # e-mail's delay was measured.
        "POST /auth/password-reset, 32 connections",
        "e-mails/s, one worker",
        "e-mails/s, as many straight by aiosmtplib",
        "202 to acceptance, bursts of 32",
        "202 to acceptance, 32 connections nonstop",
    ):
        assert line in result.stdout, result.stdout
    # Every target of bench/goals.py is checked (with --before, the comparison's too).
    targets = result.stdout.partition("\nTargets")[2]
    checked = re.findall(r"^  (.+?) +-?[\d.]+  \(target ([≥≤] [\d.]+)\)", targets, re.M)
    assert checked == [(goal.label, goal.stated) for goal in GOALS.values()], targets


def test_the_tracing_bench_runs_end_to_end_in_smoke_mode(uv_cache_dir: Path) -> None:
    env = project_env(
        uv_cache_dir, PYTHONPATH=str(TEMPLATE_ROOT), TEST_DATABASE_URL=ADMIN_DATABASE_URL
    )
    result = run([sys.executable, "-m", "bench.tracing", "--smoke"], cwd=TEMPLATE_ROOT, env=env)
    for line in ("tracing, no endpoint / default render", "tracing, exporting / default render"):
        assert result.stdout.count(line) == 2, result.stdout  # /users/me and /health/live
    assert "Answers that were not 2xx, or failed: 0" in result.stdout, result.stdout
