"""The whole pipeline against the realistic emulator (issue 7).

The proxy (scripts/emulator_proxy.py) keeps Aurora, Kinesis and ECS in their
transitional states for AWS's real times x LATENCY_SCALE and refuses the calls
AWS refuses meanwhile (e.g. CreateDBInstance while the cluster is creating).
So a deploy that passes here with no refused call waited where AWS requires.
"""

from __future__ import annotations

import json
import urllib.request

import boto3
import pytest
from botocore.config import Config

from tests.integration.helpers import assert_no_change, deploy, new_env, run_playbook, teardown
from tests.integration.stack import expected_counts, nothing_left, resource_counts
from tests.integration.test_realistic_emulator import Realistic

pytestmark = [pytest.mark.realistic, pytest.mark.slow]

LATENCY_SCALE = 0.05  # the proxy's default, 1/20 of AWS's times
FAULT_RATE = 0.15


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    emulator = Realistic(tmp_path_factory.mktemp("realistic-stack"), "--latency-scale", str(LATENCY_SCALE))
    yield emulator
    emulator.stop()


@pytest.fixture(scope="module")
def aws_realistic(emu):
    session = boto3.session.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto's dummy credentials
        region_name="us-east-1",
    )
    clients = {}

    def client(service):
        if service not in clients:
            # the test's own reads ride through injected faults like the modules do
            clients[service] = session.client(
                service, endpoint_url=emu.url, config=Config(retries={"mode": "standard", "max_attempts": 10})
            )
        return clients[service]

    return client


def _post(emu, path, data):
    request = urllib.request.Request(emu.url + "/_proxy/" + path, data=json.dumps(data).encode())  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310 - loopback only
        return json.load(resp)


def test_deploy_rerun_teardown_wait_where_aws_requires(emu, aws_realistic):
    name = new_env("real")
    emu.admin("reset-counts", {})
    deploy(emu.url, name)
    counts = emu.admin("counts")
    assert counts["totals"]["refused"] == 0, json.dumps(counts["services"], indent=1)
    assert resource_counts(aws_realistic, name) == expected_counts()

    assert_no_change(run_playbook(emu.url, "site.yml", name))
    teardown(emu.url, name)
    counts = emu.admin("counts")
    assert counts["totals"]["refused"] == 0, json.dumps(counts["services"], indent=1)
    assert nothing_left(aws_realistic, name) == {}


def test_deploy_and_teardown_converge_under_injected_faults(emu, aws_realistic):
    name = new_env("flt")
    _post(emu, "faults", {"rate": FAULT_RATE, "seed": 20261126, "kinds": ["throttle", "5xx", "drop"]})
    try:
        emu.admin("reset-counts", {})
        deploy(emu.url, name)
        injected = emu.admin("counts")["totals"]
        assert resource_counts(aws_realistic, name) == expected_counts()
        teardown(emu.url, name)
        assert nothing_left(aws_realistic, name) == {}
    finally:
        _post(emu, "faults", {"rate": 0})  # faults off (kinds must stay a non-empty list)
    faults = sum(injected.get(kind, 0) for kind in ("throttle", "5xx", "drop"))
    assert faults > 0, f"no fault was injected: {injected}"
