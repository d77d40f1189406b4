"""The emulators the integration tests start: plain moto, or moto behind the realistic proxy.

Each is started by scripts/emulator.py exactly as a developer would
(`start [--profile realistic] --port N ...`), with its state in a tmp dir.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import boto3
from botocore.config import Config

from tests.integration.helpers import REPO


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def emulator(action: str, port: int, state: Path, *args: str) -> str:
    """Run scripts/emulator.py ACTION --port PORT ARGS with its state under `state`; its stdout."""
    env = dict(os.environ, VIDEO_PIPELINE_EMULATOR_STATE=str(state))
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "emulator.py"), action, "--port", str(port), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, f"emulator {action} failed: {proc.stdout}\n{proc.stderr}"
    return proc.stdout


class Realistic:
    """One realistic-profile emulator: its URL, boto3 clients and the counts file."""

    def __init__(self, state: Path, *proxy_args: str, retries: int = 3):
        self.state = state
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.counts_file = state / str(self.port) / "api-calls.json"
        emulator("start", self.port, state, "--profile", "realistic", *proxy_args)
        self._session = boto3.session.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - moto's dummy credentials
            region_name="us-east-1",
        )
        self._config = Config(retries={"mode": "standard", "max_attempts": retries})

    def client(self, service: str):
        return self._session.client(service, endpoint_url=self.url, config=self._config)

    def admin(self, path: str, data: dict | None = None) -> dict:
        """GET /_proxy/<path>, or POST it with `data` as the JSON body."""
        body = None if data is None else json.dumps(data).encode()
        request = urllib.request.Request(self.url + "/_proxy/" + path, data=body)  # noqa: S310 - http://127.0.0.1
        with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310
            return json.load(resp)

    def stop(self) -> dict:
        emulator("stop", self.port, self.state)
        return json.loads(self.counts_file.read_text())
