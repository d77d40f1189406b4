"""One moto server per test session (per xdist worker), on a free port."""

from __future__ import annotations

import boto3
import pytest
from xdist.scheduler import LoadGroupScheduling

from tests.integration.emulators import Realistic, emulator, free_port
from tests.integration.helpers import STACK_VARS, deploy, new_env, run_playbook


@pytest.fixture(scope="session")
def endpoint(tmp_path_factory):
    """URL of a moto server that lives as long as the test session."""
    port = free_port()
    state = tmp_path_factory.mktemp("emulator")
    emulator("start", port, state)
    yield f"http://127.0.0.1:{port}"
    emulator("stop", port, state)


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


class DeployedEnv:
    """An env deployed once for the tests that share it (a session env's xdist group, or one file)."""

    def __init__(self, endpoint: str, prefix: str, extra_vars: dict, verbosity: int = 0):
        self.endpoint = endpoint
        self.name = new_env(prefix)
        self.extra_vars = extra_vars
        self.first = deploy(endpoint, self.name, extra_vars=extra_vars, verbosity=verbosity)
        self.torn_down = False

    def close(self) -> None:
        if not self.torn_down:
            run_playbook(self.endpoint, "teardown.yml", self.name)


@pytest.fixture(scope="session")
def stack_env(endpoint):
    """All six roles, deployed once at -vvv (test_secrets.py checks that output for leaks), only ever read.

    Every test that takes this fixture runs on one worker, in the "stack" group,
    so the whole SPEC read-back of every role costs one deploy. The group's
    last test (test_full_stack.py) tears it down twice.
    """
    env = DeployedEnv(endpoint, "s", STACK_VARS, verbosity=3)
    yield env
    env.close()


@pytest.fixture(scope="session")
def changing_env(endpoint):
    """All six roles, deployed once for the in-place change tests of every role (the "changes" group).

    Each of those tests puts back what it changed, so the group's last test can
    prove that a run of the whole pipeline then changes nothing.
    """
    env = DeployedEnv(endpoint, "c", STACK_VARS)
    yield env
    env.close()


@pytest.fixture(scope="module")
def stack(endpoint, request):
    """All six roles deployed in a fresh env for one test module, torn down after it.

    The env name starts with the module's ENV_PREFIX. Tests that use it run in
    file order and may change or tear the env down (a file is one xdist group
    unless its tests share a session env); the final teardown then finds nothing.
    """
    env = DeployedEnv(endpoint, request.module.ENV_PREFIX, {})
    yield env
    env.close()


@pytest.fixture(scope="module")
def realistic_emu(tmp_path_factory):
    """A private emulator behind the realistic proxy (AWS's times x 1/20, the default) for one test module."""
    # the tests' own reads ride through injected faults like the modules do
    proxied = Realistic(tmp_path_factory.mktemp("realistic-stack"), "--latency-scale", "0.05", retries=10)
    yield proxied
    proxied.stop()


@pytest.fixture(scope="module")
def aws_realistic(realistic_emu):
    """aws_realistic("rds") -> a boto3 client of the module's realistic emulator."""
    cache = {}

    def client(service: str):
        if service not in cache:
            cache[service] = realistic_emu.client(service)
        return cache[service]

    return client


# Scheduling (`--dist loadgroup --no-loadscope-reorder`, see the Makefile): a
# test that uses a session env joins that env's group, so one worker deploys it
# once; every other test is grouped with its file (module fixtures stay on one
# worker). Groups are handed out in collection order, so the longest chains are
# put first; any other group keeps its place after these.
SESSION_ENV_GROUPS = {"stack_env": "stack", "changing_env": "changes"}
SLOWEST_GROUPS = [
    "test_interrupted",
    "test_realistic_stack",
    "test_realistic_faults",
    "changes",
    "test_interrupted_teardown",
    "stack",
    "test_full_stack_drift",
    "test_prod",
    "test_check_mode",
]


class LongestFirstScheduling(LoadGroupScheduling):
    """xdist's loadgroup, but a group that must wait behind another is a short one.

    An xdist worker runs a test only once it also holds the next one, so a
    worker handed a one-test group (the killed runs, the realistic emulator
    runs: the longest ones) is handed a second group at once, which then waits
    behind the first. xdist gave it the next group in line, i.e. another long
    one, while other workers ran dry at the end. Here that waiting group is
    the last in line (the queue ends with the files outside SLOWEST_GROUPS,
    short ones); the long ones go to workers about to be free.
    """

    def _assign_work_unit(self, node) -> None:
        if self._pending_of(self.assigned_work.get(node, {})) != 1:
            super()._assign_work_unit(node)
            return
        last = next(reversed(self.workqueue))
        self.workqueue.move_to_end(last, last=False)  # super() takes the first in line
        super()._assign_work_unit(node)


def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") == "loadgroup":
        return LongestFirstScheduling(config, log)
    return None


def _group(item) -> str:
    for fixture, group in SESSION_ENV_GROUPS.items():
        if fixture in item.fixturenames:
            return group
    return item.path.stem


@pytest.hookimpl(tryfirst=True)  # before xdist turns the marks into scheduling groups
def pytest_collection_modifyitems(items):
    groups = {item.nodeid: _group(item) for item in items}
    for item in items:
        item.add_marker(pytest.mark.xdist_group(groups[item.nodeid]))

    def rank(item) -> tuple[int, int]:
        group = groups[item.nodeid]
        place = SLOWEST_GROUPS.index(group) if group in SLOWEST_GROUPS else len(SLOWEST_GROUPS)
        # a group's env is torn down by its test marked last_in_group
        return place, 1 if item.get_closest_marker("last_in_group") else 0

    items.sort(key=rank)  # stable: the tests of a group keep their file order
