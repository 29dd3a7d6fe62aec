"""The processes a bench run starts: the rendered service and the two baselines."""

import os
import subprocess
import time
from pathlib import Path

import httpx

from tests.support.environment import InstalledProject
from tests.support.service_processes import Service, free_port, wait_until_live

BASELINES = Path(__file__).resolve().parent / "baselines"


def start_baseline(
    project: InstalledProject, module: str, log: Path, *, access_log: bool = True, **settings: str
) -> Service:
    """A baseline app of bench/baselines, served by uvicorn from the rendered project's
    environment (the same FastAPI, pydantic, asyncpg and python-jose), with uvicorn's
    defaults (httptools, its access log, unless `access_log` is false), as a plain FastAPI
    app is run."""
    port = free_port()
    venv = project.path / ".venv"
    env = project.env(PYTHONPATH=str(BASELINES), **settings)
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                str(venv / "bin/uvicorn"),
                f"{module}:app",
                "--port",
                str(port),
                "--http",
                "httptools",
                *([] if access_log else ["--no-access-log"]),
            ],
            cwd=BASELINES,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    service = Service(f"http://127.0.0.1:{port}", process, log)
    wait_until_live(service) if module == "bare" else wait_for_port(service)
    return service


def wait_for_port(service: Service) -> None:
    """The raw app has no /health/live: wait until its /docs answers."""
    for _ in range(150):
        try:
            httpx.get(f"{service.url}/docs", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"{service.url} did not start:\n{service.log.read_text()}")


def server_pid(process: subprocess.Popen[bytes]) -> int:
    """The process serving requests: uvicorn, a child of start.sh, or the process itself."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    return int(children[0]) if children else process.pid


def resident_mebibytes(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def cores() -> int:
    return os.cpu_count() or 1
