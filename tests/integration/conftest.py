"""One moto server per test session (per xdist worker), on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import boto3
import pytest

from tests.integration.helpers import REPO, deploy, new_env, run_playbook


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


@pytest.fixture(scope="module")
def stack(endpoint, request):
    """All six roles deployed in a fresh env for one test module, torn down after it: (env name, first run).

    The env name starts with the module's ENV_PREFIX. Tests that use it run in
    file order and may change or tear the env down (`--dist loadfile` keeps a
    file on one worker); the final teardown then finds nothing.
    """
    name = new_env(request.module.ENV_PREFIX)
    first = deploy(endpoint, name)
    yield name, first
    run_playbook(endpoint, "teardown.yml", name)


@pytest.fixture(scope="module")
def realistic_emu(tmp_path_factory):
    """A private emulator behind the realistic proxy (AWS's times x 1/20, the default) for one test module."""
    from tests.integration.test_realistic_emulator import Realistic

    # the tests' own reads ride through injected faults like the modules do
    emulator = Realistic(tmp_path_factory.mktemp("realistic-stack"), "--latency-scale", "0.05", retries=10)
    yield emulator
    emulator.stop()


@pytest.fixture(scope="module")
def aws_realistic(realistic_emu):
    """aws_realistic("rds") -> a boto3 client of the module's realistic emulator."""
    cache = {}

    def client(service: str):
        if service not in cache:
            cache[service] = realistic_emu.client(service)
        return cache[service]

    return client


# `--dist loadfile` hands whole files to workers in collection order: the
# files that take longest go first, so no worker starts a long one at the end.
# Measured order (slowest first); any other file keeps its place after these.
SLOWEST_FILES = [
    "test_interrupted.py",
    "test_interrupted_teardown.py",
    "test_realistic_stack.py",
    "test_realistic_faults.py",
    "test_ecs.py",
    "test_full_stack_two_envs.py",
    "test_full_stack.py",
    "test_full_stack_drift.py",
    "test_monitoring.py",
    "test_database.py",
    "test_secrets.py",
    "test_streaming.py",
]


def pytest_collection_modifyitems(items):
    def rank(item) -> int:
        name = item.path.name
        return SLOWEST_FILES.index(name) if name in SLOWEST_FILES else len(SLOWEST_FILES)

    items.sort(key=rank)  # stable: tests keep their file order
