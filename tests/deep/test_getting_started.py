"""docs/getting-started.md, followed as a reader would: every shell command it shows runs,
in order, in one folder that starts empty, and must succeed.

Only the differences between a reader's machine and this run are rewritten, each named
below; a command a test cannot run is listed with the reason. A new command on the page
runs without any change here, and an entry here that no longer matches the page fails.
"""

import re
import shlex
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.commands import run
from tests.support.databases import ADMIN_DATABASE_URL, database_url
from tests.support.doc_pages import READER_GIT_IDENTITY, SHOWN_SERVER_URL, bash_blocks
from tests.support.environment import TEMPLATE_ROOT, project_env
from tests.support.git_releases import git, released_versions
from tests.support.service_processes import free_port, stop, wait_until_answering

pytestmark = pytest.mark.deep

PAGE = TEMPLATE_ROOT / "docs/getting-started.md"

# Commands shown but not run here, with the reason.
NOT_RUN = {
    "pip install uv": "installs into the machine's Python; this run already has uv",
    "make test": "the same suite on SQLite is the `test` of `make check` in "
    "deep/test_first_resource.py, on this project with the next page's bookmarks added",
    "docker compose up --build": "compose needs a bridge network, which the tests never "
    "create here; deep/test_image.py builds and runs the image on the host's network and "
    "render/test_container_files.py checks the compose file",
    "OTEL_EXPORTER_OTLP_ENDPOINT=http://jaeger:4318 docker compose --profile tracing up "
    "--build": "compose needs a bridge network; deep/test_tracing_export.py exports to a collector",
}

# Commands that serve until stopped: started in the background, waited for at the address
# their comment names, stopped before the next one starts (the reader's Ctrl-C).
SERVING = ("make dev", "scripts/start.sh")

# What a command must print besides succeeding, by the command as the page shows it. (The
# page's curl commands fail by themselves on an error status: `-f`.)
EXPECTED_OUTPUT = {
    "TEST_DATABASE_URL=postgresql://postgres@localhost:5432/postgres make test": (
        "database: PostgreSQL"
    ),
}

# The rendered default variant's own suite runs on PostgreSQL here, and only here; on
# SQLite in deep/test_first_resource.py (deep/test_ci_jobs.py runs the other variant's).
SUITES = {"TEST_DATABASE_URL=postgresql://postgres@localhost:5432/postgres make test"}

# How long a line the page says to copy from a server's output may take to appear there.
LOG_PATIENCE_SECONDS = 10


@dataclass
class Reader:
    """A reader's shell: a working folder, an environment, and what the page rewrote."""

    cwd: Path
    env: dict[str, str]
    # What the page shows -> what runs here: a text, or a function that reads it at the
    # moment of use (what the reader copies from a server's output).
    substitutions: dict[str, str | Callable[[], str]]
    used: set[str] = field(default_factory=set)
    ran: list[str] = field(default_factory=list)
    servers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def rewrite(self, line: str) -> str:
        for shown, here in self.substitutions.items():
            if shown in line:
                self.used.add(shown)
                line = line.replace(shown, here if isinstance(here, str) else here())
        return line

    def shell(self, lines: list[str]) -> str:
        """Run lines as one bash script in the reader's folder; follow its `cd`."""
        script = "\n".join([*map(self.rewrite, lines), 'echo "__cwd__=$PWD"'])
        result = run(["bash", "-euo", "pipefail", "-c", script], cwd=self.cwd, env=self.env)
        output, _, cwd = result.stdout.rpartition("__cwd__=")
        self.cwd = Path(cwd.strip())
        self.ran.extend(lines)
        return output

    def serve(self, line: str, log: Path) -> None:
        """Start a command that serves until stopped, after stopping the last one (the
        reader's Ctrl-C); wait for the address its comment names."""
        for process in self.servers:
            stop(process)
        self.servers.clear()
        command = self.rewrite(line)
        # In the comment: the command itself may name other addresses (CORS_ORIGINS).
        address = re.search(r"#.*?(https?://\S+)", command)
        assert address, f"a serving command names its address in a comment: {line}"
        with log.open("wb") as output:
            process = subprocess.Popen(
                ["bash", "-c", command],
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # stopped as a group: make, uv, the reloader, uvicorn
            )
        self.servers.append(process)
        self.logs.append(log)
        wait_until_answering(process, address[1], log)
        self.ran.append(line)

    def copy_from_server_output(self, pattern: str) -> str:
        """The last match of `pattern` in the running server's output, as the reader would
        copy it: waited for, since the service writes its log lines in batches."""
        deadline = time.monotonic() + LOG_PATIENCE_SECONDS
        while not (found := re.findall(pattern, self.logs[-1].read_text())):
            assert time.monotonic() < deadline, f"no {pattern} in {self.logs[-1].read_text()}"
            time.sleep(0.1)
        return shlex.quote(found[-1])


def segments(block: list[str]) -> Iterator[tuple[bool, list[str]]]:
    """A block's lines to run, in order: each serving command alone (True), the lines
    between them together, in one shell (False)."""
    lines: list[str] = []
    for line in block:
        if line in NOT_RUN:
            continue
        if any(command in line for command in SERVING):
            if lines:
                yield False, lines
            yield True, [line]
            lines = []
        else:
            lines.append(line)
    if lines:
        yield False, lines


@pytest.fixture
def reader(
    template_repo: Path, tmp_path: Path, uv_cache_dir: Path, fresh_database: str
) -> Iterator[Reader]:
    port = free_port()
    home = tmp_path / "reader"
    home.mkdir()
    (tmp_path / "tmp").mkdir()
    env = project_env(
        uv_cache_dir,
        TMPDIR=str(tmp_path / "tmp"),
        PRE_COMMIT_HOME=str(tmp_path / "pre-commit"),
        # `make dev` (uvicorn's default) and scripts/start.sh serve on port 8000; here on a
        # free one, on loopback only.
        UVICORN_PORT=str(port),
        PORT=str(port),
        HOST="127.0.0.1",
        # What the reader types at create-superuser's prompt.
        SUPERUSER_PASSWORD="correct horse battery staple",
        # The reader's git identity, for the page's first commit.
        **READER_GIT_IDENTITY,
    )
    # The page renders the release it describes (`--vcs-ref`): here, the working files
    # are that release.
    git("tag", str(released_versions()[0]), cwd=template_repo)
    substitutions = {
        # The reader answers the questions; this run takes every default.
        "<this repository>": f"--defaults {template_repo}",
        "127.0.0.1:8000": f"127.0.0.1:{port}",
        "postgresql://postgres@localhost:5432/my_service": database_url(fresh_database),
        SHOWN_SERVER_URL: ADMIN_DATABASE_URL,
    }
    shell = Reader(home, env, substitutions)
    # The reader copies the verification link from `make dev`'s output (the console
    # e-mail backend); here it is read from that server's log.
    shell.substitutions["'<paste the verification link here>'"] = lambda: (
        shell.copy_from_server_output(r"http://[^\s\"<]*#token=[\w-]+")
    )
    try:
        yield shell
    finally:
        for process in shell.servers:
            stop(process)


def test_the_getting_started_commands_run_as_shown(reader: Reader, tmp_path: Path) -> None:
    outputs: dict[str, str] = {}
    for block in bash_blocks(PAGE):
        for serving, lines in segments(block):
            if serving:
                reader.serve(lines[0], tmp_path / f"server-{len(reader.ran)}.log")
            else:
                outputs.update(dict.fromkeys(lines, reader.shell(lines)))

    shown = {line for block in bash_blocks(PAGE) for line in block}
    assert sorted(NOT_RUN.keys() - shown) == [], "NOT_RUN names commands the page lost"
    assert sorted(reader.substitutions.keys() - reader.used) == [], "rewrites of nothing"
    served = [command for command in SERVING if not any(command in line for line in reader.ran)]
    assert served == [], "the page lost a server"
    assert sorted(SUITES - set(reader.ran)) == [], "a suite the page lost"
    for line, text in EXPECTED_OUTPUT.items():
        assert line in outputs, f"the page lost `{line}`"
        assert text in outputs[line], (line, outputs[line])
    print(f"ran {len(reader.ran)} commands of {PAGE.name}; not run: {sorted(NOT_RUN)}")
