"""One moto server per test session (per xdist worker), on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import boto3
import pytest

from tests.integration.helpers import REPO


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _emulator(action: str, port: int, state_dir, *args: str) -> str:
    env = dict(os.environ, VIDEO_PIPELINE_EMULATOR_STATE=str(state_dir))
    proc = subprocess.run(  # fixed argv
        [sys.executable, str(REPO / "scripts" / "emulator.py"), action, "--port", str(port), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, f"emulator {action} failed: {proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="session")
def endpoint(tmp_path_factory):
    """URL of a moto server that lives as long as the test session."""
    port = _free_port()
    state = tmp_path_factory.mktemp("emulator")
    _emulator("start", port, state)
    yield f"http://127.0.0.1:{port}"
    _emulator("stop", port, state)


@pytest.fixture(scope="session")
def aws(endpoint):
    """aws("ec2") -> a boto3 client talking to the session's emulator."""
    # moto's fake credentials, never real ones
    session = boto3.session.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106
        region_name="us-east-1",
    )
    cache = {}

    def client(service: str):
        if service not in cache:
            cache[service] = session.client(service, endpoint_url=endpoint)
        return cache[service]

    return client
