"""A container engine of the tests' own, and the base image the Dockerfile names, made here.

The engine is Debian's dockerd, started with no bridge, no iptables rules and no IP
forwarding, on a data root, exec root, pidfile and socket of its own: no other daemon is
touched, and it is stopped at the end. Containers run with `--network host` and talk only
to 127.0.0.1. No registry is reachable here, so the image the Dockerfile's `FROM` names is
made locally from Debian (debootstrap) and tagged with that name; the Dockerfile itself is
built as it is.
"""

import contextlib
import fcntl
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.commands import run

# What the engine needs, by the file each package brings. Debian's own client: its BuildKit
# builds without the buildx plugin, which another `docker` on PATH may want.
DOCKER = "/usr/bin/docker"
PACKAGES = {
    "/usr/sbin/dockerd": "docker.io",
    DOCKER: "docker.io",
    "/usr/sbin/debootstrap": "debootstrap",
}
# Images, the build cache and the base image's root file system outlive a run: the first run
# on a machine pays for debootstrap (about a minute), later ones reuse it.
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "template-engine"
# The Debian release of the stand-in base image, and the packages the Dockerfile uses from it:
# Python and pip (the builder installs uv with pip), and the CA certificates.
SUITE = "trixie"
BASE_PACKAGES = "python3,python3-pip,python-is-python3,ca-certificates"
# These machines reach package indexes through a TLS proxy whose CA lives here; the base
# image trusts it too, so that the unchanged Dockerfile can install from PyPI.
LOCAL_CAS = Path("/usr/local/share/ca-certificates")
SECONDS_TO_START = 60.0


def ensure_packages() -> None:
    """Install docker.io and debootstrap from Debian's packages when missing."""
    missing = sorted({package for path, package in PACKAGES.items() if not Path(path).exists()})

    if not missing:
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-qq"], cwd=Path("/"), env=env, timeout=600)
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing]
    run(install, cwd=Path("/"), env=env, timeout=900)


@dataclass
class Engine:
    """A running dockerd, reached through its own socket."""

    socket: Path

    def env(self) -> dict[str, str]:
        return {**os.environ, "DOCKER_HOST": f"unix://{self.socket}", "DOCKER_BUILDKIT": "1"}

    def docker(
        self, *arguments: str, timeout: float = 300, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return run(
            [DOCKER, *arguments], cwd=Path("/"), env=self.env(), timeout=timeout, check=check
        )

    def start(self, log: Path, *arguments: str) -> subprocess.Popen[bytes]:
        """`docker run ARGUMENTS` attached, its output to `log`: the process lives as long
        as the container and exits with its status, as a service process would."""
        with log.open("wb") as output:
            return subprocess.Popen(
                [DOCKER, "run", *arguments],
                env=self.env(),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def has_image(self, name: str) -> bool:
        return self.docker("image", "inspect", name, check=False).returncode == 0

    def health(self, container: str) -> str:
        """What the image's HEALTHCHECK last said: starting, healthy or unhealthy."""
        return self.docker("inspect", "--format={{.State.Health.Status}}", container).stdout.strip()


@contextlib.contextmanager
def engine(log: Path) -> Iterator[Engine]:
    """dockerd on a data root of its own (one daemon at a time: a lock), until the block ends."""
    ensure_packages()
    data_root = CACHE / "data-root"
    data_root.mkdir(parents=True, exist_ok=True)
    with (CACHE / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        # A short path: a unix socket's path has a limit of about 100 bytes.
        exec_root = Path(tempfile.mkdtemp(prefix="engine-", dir="/tmp"))
        socket = exec_root / "docker.sock"
        command = [
            "/usr/sbin/dockerd",
            "--bridge=none",
            "--iptables=false",
            "--ip6tables=false",
            "--ip-forward=false",
            "--ip-masq=false",
            f"--data-root={data_root}",
            f"--exec-root={exec_root}",
            f"--pidfile={exec_root / 'docker.pid'}",
            f"--host=unix://{socket}",
        ]
        with log.open("wb") as output:
            daemon = subprocess.Popen(
                command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )
        running = Engine(socket)
        try:
            deadline = time.monotonic() + SECONDS_TO_START
            while running.docker("version", check=False, timeout=10).returncode != 0:
                if daemon.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"dockerd did not start:\n{log.read_text()}")
                time.sleep(0.5)
            yield running
        finally:
            # Containers first (each test removes its own; this is for a failed one).
            leftovers = running.docker("ps", "-aq", check=False).stdout.split()
            if leftovers:
                running.docker("rm", "-f", *leftovers, check=False)
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(daemon.pid, signal.SIGKILL)
                daemon.wait()
            shutil.rmtree(exec_root, ignore_errors=True)


def from_images(dockerfile: Path) -> set[str]:
    """The images a Dockerfile's stages start from (not its own stages)."""
    stages: set[str] = set()
    images: set[str] = set()
    for match in re.finditer(
        r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", dockerfile.read_text(), re.M | re.I
    ):
        if match[1] not in stages:
            images.add(match[1])
        if match[2]:
            stages.add(match[2])
    return images


def apt_mirror() -> str:
    """The Debian mirror this machine's apt uses."""
    sources = Path("/etc/apt/sources.list.d/debian.sources")
    if sources.exists():
        found = re.search(r"^URIs:\s*(\S+)", sources.read_text(), re.M)
        if found:
            return found[1]
    return "http://deb.debian.org/debian"


def base_root_archive() -> Path:
    """A tar of a minimal Debian with its Python, trusting this machine's CAs (made once)."""
    archive = CACHE / f"base-{SUITE}.tar"
    if archive.exists():
        return archive
    root = Path(tempfile.mkdtemp(prefix="base-", dir=CACHE))
    try:
        bootstrap = ["debootstrap", "--variant=minbase", f"--include={BASE_PACKAGES}"]
        run([*bootstrap, SUITE, str(root), apt_mirror()], cwd=CACHE, timeout=900)
        # pip in the builder installs into the image's Python, as it does in python:*-slim.
        for marker in root.glob("usr/lib/python3*/EXTERNALLY-MANAGED"):
            marker.unlink()
        for certificate in LOCAL_CAS.glob("*.crt"):
            shutil.copy(certificate, root / "usr/local/share/ca-certificates" / certificate.name)
        run(["chroot", str(root), "update-ca-certificates"], cwd=CACHE)
        partial = archive.with_suffix(".partial")
        run(["tar", "-C", str(root), "-cf", str(partial), "."], cwd=CACHE, timeout=300)
        partial.rename(archive)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return archive


def make_base_images(running: Engine, dockerfile: Path) -> list[str]:
    """Tag the stand-in base image with every name the Dockerfile's FROM lines use."""
    names = sorted(from_images(dockerfile))
    for name in names:
        if running.has_image(name):
            continue
        # The environment python:*-slim sets, which the Dockerfile builds on ($PATH).
        changes = [
            "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "ENV LANG=C.UTF-8",
            "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
            'CMD ["python3"]',
        ]
        with base_root_archive().open("rb") as archive:
            subprocess.run(
                [DOCKER, "import", *(f"--change={change}" for change in changes), "-", name],
                stdin=archive,
                env=running.env(),
                check=True,
                capture_output=True,
                timeout=300,
            )
    return names
