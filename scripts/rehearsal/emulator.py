"""Start and stop the rehearsal's emulator: LocalStack in host mode (no Docker) and its OpenSearch engine.

Everything binds 127.0.0.1 on free ports, so parallel runs never collide; :meth:`Emulator.stop` ends
every process it started (LocalStack ignores SIGTERM, so it is killed). Each run keeps LocalStack's
state in a folder of its own (:func:`run_root`), so no stream or table of one run is met by the
next; only packages and caches are shared below the virtualenv. No hosts-file entry is
needed: ``LOCALSTACK_HOST`` makes LocalStack name (and probe) its domains at 127.0.0.1.
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

HERE = Path(__file__).resolve().parent
LOCALSTACK_VERSION = "2026.3.0"

# What LocalStack's community edition lacks offline, and how the rehearsal gets past it. Printed with
# every run so that nobody reads "CREATE_COMPLETE" as "deployed on AWS".
EMULATOR_WORKAROUNDS = (
    ("PROVIDER_OVERRIDE_DYNAMODB=moto", "LocalStack's DynamoDB downloads DynamoDB Local (Java, jars); the "
     "ls-offline plugin serves DynamoDB from the moto that LocalStack bundles"),
    ("LAMBDA_RUNTIME_EXECUTOR=noexec", "the community edition runs functions only in Docker and downloads a "
     "runtime binary at CreateFunction; functions are created but never run there, the rehearsal runs their "
     "code on the host instead"),
    ("OPENSEARCH_CUSTOM_BACKEND", "LocalStack downloads the OpenSearch engine; every domain is served by a "
     "loopback stand-in that answers health green"),
    ("LOCALSTACK_HOST=127.0.0.1:<port>", "domain endpoints and probes use 127.0.0.1, so no hosts-file entry "
     "for localhost.localstack.cloud is needed"),
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait(url: str, deadline_s: float, process: subprocess.Popen, log: Path) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if process.poll() is not None:
            raise RuntimeError(f"the emulator exited with {process.returncode} before it was ready; "
                               f"last lines of {log}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the emulator was not ready at {url} after {deadline_s:.0f} s; last lines of {log}:\n"
                       f"{_tail(log)}")


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass
class Emulator:
    """A running LocalStack with its OpenSearch stand-in; ``endpoint`` is where boto3 clients point."""

    endpoint: str
    workdir: Path
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def log(self) -> Path:
        return self.workdir / "localstack.log"

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                # LocalStack keeps running after SIGTERM: its whole process group is killed, and the helpers
                # it starts in sessions of their own (kinesis-local), found before anything dies.
                helpers = _descendants(process.pid)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                for pid in helpers:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                process.wait(timeout=30)
        self.processes.clear()


def _descendants(pid: int) -> list[int]:
    """The processes ``pid`` started, theirs, and so on (read from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:  # "pid (command) state ppid ...": the command may hold spaces and parentheses
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # ended meanwhile
        children.setdefault(parent, []).append(int(stat.parent.name))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), ()):
            found.append(child)
            queue.append(child)
    return found


# Folders of LocalStack's root that hold packages and caches, not state: shared by every run of one
# virtualenv (kinesis-local is installed from npm on first use and kept), so a run starts fast.
SHARED_FOLDERS = ("var/lib/localstack/lib", "var/lib/localstack/cache")


def run_root(venv: Path, workdir: Path) -> Path:
    """A fresh FILESYSTEM_ROOT for one run, its package and cache folders linked to the virtualenv's."""
    root = workdir / "localstack-root"
    for folder in SHARED_FOLDERS:
        shared = venv / "root" / folder
        shared.mkdir(parents=True, exist_ok=True)
        link = root / folder
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.exists():
            link.symlink_to(shared, target_is_directory=True)
    return root


def localstack_python(venv: Path) -> Path:
    python = venv / "bin" / "python"
    if not python.exists():
        raise RuntimeError(f"no LocalStack virtualenv at {venv}: `make rehearsal-setup` creates it "
                           f"(it needs Python 3.13: pyenv's 3.13 or python3.13 on the PATH)")
    return python


def start(venv: Path, *, workdir: Optional[Path] = None, ready_s: float = 90.0) -> Emulator:
    """LocalStack (from ``venv``) and the OpenSearch stand-in, on free loopback ports."""
    python = localstack_python(venv)
    workdir = workdir or Path(tempfile.mkdtemp(prefix="rehearsal-"))
    emulator = Emulator(endpoint="", workdir=workdir)
    try:
        port_file = workdir / "opensearch.port"
        backend = subprocess.Popen([sys.executable, str(HERE / "opensearch_backend.py"), str(port_file)],
                                   start_new_session=True)
        emulator.processes.append(backend)
        for _ in range(100):
            if port_file.exists() and port_file.read_text():
                break
            time.sleep(0.05)
        port = free_port()
        environment = {
            **os.environ,
            "GATEWAY_LISTEN": f"127.0.0.1:{port}",
            "LOCALSTACK_HOST": f"127.0.0.1:{port}",
            "OPENSEARCH_CUSTOM_BACKEND": f"http://127.0.0.1:{port_file.read_text()}",
            "OPENSEARCH_ENDPOINT_STRATEGY": "path",
            "PROVIDER_OVERRIDE_DYNAMODB": "moto",
            "LAMBDA_RUNTIME_EXECUTOR": "noexec",
            "CFN_PER_RESOURCE_TIMEOUT": "120",
            "DNS_ADDRESS": "0",  # no DNS server on port 53
            "SKIP_SSL_CERT_DOWNLOAD": "1",
            "DISABLE_EVENTS": "1",  # no analytics calls
            "LOCALSTACK_TELEMETRY_DISABLED": "1",
            # Host mode: LocalStack takes any container-like sandbox for Docker and would then keep its
            # files under /var/lib/localstack. Here each run has a root of its own (services keep state
            # there, e.g. kinesis-local's streams), whose package and catalogue folders are shared.
            "OVERRIDE_IN_DOCKER": "0",
            "FILESYSTEM_ROOT": str(run_root(venv, workdir)),
        }
        log = emulator.log
        with open(log, "wb") as out:
            process = subprocess.Popen([str(python), "-m", "localstack.runtime.main"], env=environment,
                                       stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=workdir)
        emulator.processes.append(process)
        emulator.endpoint = f"http://127.0.0.1:{port}"
        _wait(f"{emulator.endpoint}/_localstack/health", ready_s, process, log)
        return emulator
    except BaseException:
        emulator.stop()
        raise
