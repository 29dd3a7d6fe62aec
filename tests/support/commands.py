"""Running a command to completion, its output in the failure report."""

import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path


def run(
    command: Sequence[str],
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run a command; on failure raise with the command and its combined output."""
    __tracebackhide__ = True  # the report shows the command's output, not this helper
    result = subprocess.run(
        list(command),
        cwd=cwd,
        env=None if env is None else dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"`{' '.join(command)}` in {cwd} exited {result.returncode}:\n{result.stdout}"
        )
    return result
