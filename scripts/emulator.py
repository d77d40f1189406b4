#!/usr/bin/env python
"""Start, stop and inspect the local AWS emulator (moto server).

    scripts/emulator.py start [--port N] [--profile plain|realistic] [...]
    scripts/emulator.py stop  [--port N]
    scripts/emulator.py status [--port N]

The endpoint is http://127.0.0.1:4566 unless AWS_ENDPOINT_URL names another
loopback address (tests and parallel runs use other ports). State lives in
.emulator/<port>/ beside this repository: a pid file and a log per process.
`start` is idempotent: when the emulator already answers on the port it does
nothing. `stop` ends only the processes whose pid files it wrote.

With --profile realistic, moto listens on a private port and the emulator
proxy (scripts/emulator_proxy.py) takes the public port: it delays resource
states like real AWS, can inject faults and counts every API call.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
STATE_ROOT = Path(os.environ.get("VIDEO_PIPELINE_EMULATOR_STATE", REPO / ".emulator"))
DEFAULT_ENDPOINT = "http://127.0.0.1:4566"
START_TIMEOUT = 60.0


def endpoint_port(endpoint: str) -> tuple[str, int]:
    parsed = urllib.parse.urlparse(endpoint)
    host = parsed.hostname or "127.0.0.1"
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"emulator: refusing to run on non-loopback host {host!r} (AWS_ENDPOINT_URL={endpoint})")
    return host, parsed.port or 80


def answers(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when something on host:port speaks HTTP like moto does."""
    url = f"http://{host}:{port}/moto-api/reset-auth"
    try:
        # A GET on this path is harmless (moto only acts on POST) and cheap.
        with urllib.request.urlopen(url, timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # An exited process that init has not reaped yet still answers kill(0); it is gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


class Emulator:
    """One emulator instance, identified by its public port."""

    def __init__(self, host: str, port: int):
        self.host = host
        self.port = port
        self.state = STATE_ROOT / str(port)

    # pid files: moto.pid (the server) and proxy.pid (realistic profile only)
    def _pidfile(self, name: str) -> Path:
        return self.state / f"{name}.pid"

    def _read_pid(self, name: str) -> int | None:
        try:
            pid = int(self._pidfile(name).read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if pid_alive(pid) else None

    def _spawn(self, name: str, argv: list[str], env: dict | None = None) -> int:
        self.state.mkdir(parents=True, exist_ok=True)
        log = open(self.state / f"{name}.log", "ab")  # noqa: SIM115 - handed to the child
        proc = subprocess.Popen(  # fixed argv
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=REPO,
            env=env,
        )
        self._pidfile(name).write_text(f"{proc.pid}\n")
        return proc.pid

    def _wait_until_answers(self, host: str, port: int, pid: int, what: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if answers(host, port):
                return
            if not pid_alive(pid):
                raise SystemExit(f"emulator: {what} exited during start-up; see {self.state}/{what}.log")
            time.sleep(0.2)
        raise SystemExit(f"emulator: {what} did not answer on {host}:{port} within {START_TIMEOUT:.0f}s")

    def start(self, profile: str, proxy_args: list[str]) -> str:
        if answers(self.host, self.port):
            return f"emulator already running at http://{self.host}:{self.port}"
        self.state.mkdir(parents=True, exist_ok=True)
        bin_dir = Path(sys.executable).parent
        moto_server = bin_dir / "moto_server"
        env = dict(os.environ)
        # moto validates nothing we rely on for these; keep its behaviour stable.
        env.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "false")
        if profile == "plain":
            pid = self._spawn("moto", [str(moto_server), "-H", self.host, "-p", str(self.port)], env)
            self._wait_until_answers(self.host, self.port, pid, "moto")
        else:
            backend_port = free_port()
            pid = self._spawn("moto", [str(moto_server), "-H", "127.0.0.1", "-p", str(backend_port)], env)
            self._wait_until_answers("127.0.0.1", backend_port, pid, "moto")
            proxy = REPO / "scripts" / "emulator_proxy.py"
            argv = [
                sys.executable,
                str(proxy),
                "--listen",
                f"{self.host}:{self.port}",
                "--backend",
                f"http://127.0.0.1:{backend_port}",
                "--counts-file",
                str(self.state / "api-calls.json"),
                *proxy_args,
            ]
            ppid = self._spawn("proxy", argv, env)
            self._wait_until_answers(self.host, self.port, ppid, "proxy")
        (self.state / "profile").write_text(profile + "\n")
        return f"emulator started at http://{self.host}:{self.port} (profile {profile}, state in {self.state})"

    def stop(self) -> str:
        stopped = []
        # Proxy first: on SIGTERM it writes its API-call counts.
        for name in ("proxy", "moto"):
            pid = self._read_pid(name)
            if pid is None:
                self._pidfile(name).unlink(missing_ok=True)
                continue
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while pid_alive(pid) and time.monotonic() < deadline:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, os.WNOHANG)
                time.sleep(0.1)
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
            self._pidfile(name).unlink(missing_ok=True)
            stopped.append(f"{name} (pid {pid})")
        if not stopped:
            return f"emulator not running on port {self.port} (nothing started by this script)"
        return "stopped " + ", ".join(stopped)

    def status(self) -> dict:
        return {
            "endpoint": f"http://{self.host}:{self.port}",
            "answers": answers(self.host, self.port),
            "moto_pid": self._read_pid("moto"),
            "proxy_pid": self._read_pid("proxy"),
            "state_dir": str(self.state),
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["start", "stop", "status"])
    parser.add_argument("--port", type=int, help="public port (default: from AWS_ENDPOINT_URL, else 4566)")
    parser.add_argument(
        "--profile", choices=["plain", "realistic"], default=os.environ.get("EMULATOR_PROFILE", "plain")
    )
    args, proxy_args = parser.parse_known_args(argv)
    if proxy_args and (args.action != "start" or args.profile != "realistic"):
        parser.error(f"unknown arguments: {' '.join(proxy_args)} (proxy options need: start --profile realistic)")

    host, port = endpoint_port(os.environ.get("AWS_ENDPOINT_URL") or DEFAULT_ENDPOINT)
    emulator = Emulator(host, args.port or port)
    if args.action == "start":
        print(emulator.start(args.profile, proxy_args))
    elif args.action == "stop":
        print(emulator.stop())
    else:
        status = emulator.status()
        print(json.dumps(status, indent=2))
        return 0 if status["answers"] else 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
