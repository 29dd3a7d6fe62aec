"""Driving wrk, the C load generator, and reading what it prints."""

import re
import shutil
import statistics
import subprocess
from dataclasses import dataclass
from pathlib import Path

# Each request of a `paced` script takes the next line of a file of bodies, so a request
# that consumes what it sends (a refresh token) never sends it twice.
BODIES_SCRIPT = """
local bodies = {}
for line in io.lines("%(bodies)s") do bodies[#bodies + 1] = line end
local next_body = 0
wrk.method = "%(method)s"
wrk.headers["Content-Type"] = "%(content_type)s"
%(headers)s
request = function()
  next_body = next_body %% #bodies + 1
  return wrk.format(nil, nil, nil, bodies[next_body])
end
"""
FIXED_SCRIPT = """
wrk.method = "%(method)s"
%(headers)s
%(body)s
"""
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


@dataclass(frozen=True)
class Result:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    errors: int


@dataclass(frozen=True)
class Target:
    """What wrk sends: a method and path, headers, and one body or a file of them."""

    path: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None
    bodies: Path | None = None
    content_type: str = "application/json"

    def script(self, folder: Path, name: str) -> Path:
        headers = "\n".join(f'wrk.headers["{key}"] = "{value}"' for key, value in self.headers)
        if self.bodies is not None:
            text = BODIES_SCRIPT % {
                "bodies": self.bodies,
                "method": self.method,
                "content_type": self.content_type,
                "headers": headers,
            }
        else:
            body = ""
            if self.body is not None:
                content_type = f'wrk.headers["Content-Type"] = "{self.content_type}"'
                body = f"wrk.body = [[{self.body}]]\n{content_type}"
            text = FIXED_SCRIPT % {"method": self.method, "headers": headers, "body": body}
        path = folder / f"{name}.lua"
        path.write_text(text)
        return path


def median_result(results: list[Result]) -> Result:
    """The median of each figure over several runs, and the counts summed."""
    return Result(
        requests_per_second=statistics.median(r.requests_per_second for r in results),
        p50_ms=statistics.median(r.p50_ms for r in results),
        p99_ms=statistics.median(r.p99_ms for r in results),
        requests=sum(r.requests for r in results),
        non_2xx=sum(r.non_2xx for r in results),
        errors=sum(r.errors for r in results),
    )


def row(label: str, result: Result) -> str:
    """One result as a line of the bench's report."""
    return (
        f"  {label:<44} {result.requests_per_second:>9.0f}/s  p50 {result.p50_ms:>7.2f} ms"
        f"  p99 {result.p99_ms:>7.2f} ms  non-2xx {result.non_2xx}, errors {result.errors}"
    )


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is missing: apt-get install wrk (bench/run.py installs it as root)")
    return found


def ensure_wrk() -> None:
    """Install wrk from Debian's packages when it is missing and this process may."""
    if shutil.which("wrk") is None and shutil.which("apt-get") is not None:
        # A new machine may have no package lists yet.
        for step in (["update", "-qq"], ["install", "-y", "-qq", "wrk"]):
            subprocess.run(["apt-get", *step], check=False, capture_output=True)
    wrk_path()


def start(
    base_url: str, target: Target, *, connections: int, seconds: float, folder: Path, name: str
) -> subprocess.Popen[str]:
    """Start one wrk run in the background; `finish()` reads its result."""
    command = [
        wrk_path(),
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        "--timeout",
        "10s",
        "-s",
        str(target.script(folder, name)),
        base_url + target.path,
    ]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(process: subprocess.Popen[str]) -> Result:
    output, _ = process.communicate(timeout=600)
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed:\n{output}")
    return parse(output)


def run(base_url: str, target: Target, **options: object) -> Result:
    return finish(start(base_url, target, **options))  # type: ignore[arg-type]


def parse(output: str) -> Result:
    def latency(percent: str) -> float:
        match = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
        if match is None:
            raise RuntimeError(f"no {percent}% latency in wrk's output:\n{output}")
        return float(match[1]) * UNITS[match[2]]

    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    total = re.search(r"^\s+(\d+) requests in", output, re.MULTILINE)
    if rate is None or total is None:
        raise RuntimeError(f"no request rate in wrk's output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return Result(
        requests_per_second=float(rate[1]),
        p50_ms=latency("50"),
        p99_ms=latency("99"),
        requests=int(total[1]),
        non_2xx=int(non_2xx[1]) if non_2xx else 0,
        errors=sum(int(count) for count in errors.groups()) if errors else 0,
    )
