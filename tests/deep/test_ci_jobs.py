"""The rendered CI's jobs that need services: their own commands, read from each provider's
file, run here against PostgreSQL and Redis."""

from collections.abc import Callable

import pytest

from tests.support.ci_jobs import CI_FILE_OF, CI_JOB_READERS, local_variables
from tests.support.commands import run
from tests.support.environment import InstalledProject
from tests.support.variants import DEEP_VARIANTS, Render

# The jobs that need the database (and Redis): their commands run here against the real services.
SERVICE_JOBS = ("test", "migrations")
# A variant with Redis, so that the Redis service and its URL are exercised too.
SERVICE_VARIANT = "everything"

# The jobs already run green here in this session: (commands, variables with the database
# name left out). Both providers' test jobs are often the very same commands; those run once.
_GREEN_JOBS: set[tuple[tuple[str, ...], frozenset[tuple[str, str]]]] = set()


@pytest.mark.deep
@pytest.mark.parametrize("job_name", SERVICE_JOBS)
@pytest.mark.parametrize("provider", CI_JOB_READERS)
def test_ci_job_runs_green_here(
    provider: str,
    job_name: str,
    render: Render,
    installed_project: Callable[[str], InstalledProject],
    fresh_database: str,
) -> None:
    # The CI file of the installed variant's answers; ci_provider changes no other file, so the
    # installed project (synced once per session) runs the commands.
    ci_file = render(**DEEP_VARIANTS[SERVICE_VARIANT], ci_provider=provider) / CI_FILE_OF[provider]
    job = CI_JOB_READERS[provider](ci_file, job_name)
    assert job.commands, f"{provider} job {job_name} runs nothing"
    project = installed_project(SERVICE_VARIANT)
    variables = local_variables(job, fresh_database)
    work = (
        tuple(job.commands),
        frozenset((name, value.replace(fresh_database, "")) for name, value in variables.items()),
    )
    if work in _GREEN_JOBS:
        return  # the same commands with the same settings passed for the other provider
    for command in job.commands:
        # Both providers run each command in a shell that stops at the first failure.
        run(
            ["bash", "-eo", "pipefail", "-c", command],
            cwd=project.path,
            env=project.env(**variables),
        )
    _GREEN_JOBS.add(work)
