"""The whole pipeline against the realistic emulator with 15% injected faults (issue 7).

Its own file (and emulator) beside test_realistic_stack.py, so that a second
worker runs it at the same time.

The proxy (scripts/emulator_proxy.py) keeps Aurora, Kinesis and ECS in their
transitional states for AWS's real times x 1/20 and refuses the calls
AWS refuses meanwhile (e.g. CreateDBInstance while the cluster is creating).
So a deploy that passes here with no refused call waited where AWS requires.
"""

from __future__ import annotations

import pytest

from tests.integration.helpers import deploy, new_env, teardown
from tests.integration.stack import expected_counts, nothing_left, resource_counts

pytestmark = [pytest.mark.realistic, pytest.mark.slow]

FAULT_RATE = 0.15


def test_deploy_and_teardown_converge_under_injected_faults(realistic_emu, aws_realistic):
    name = new_env("flt")
    realistic_emu.admin("faults", {"rate": FAULT_RATE, "seed": 20261126, "kinds": ["throttle", "5xx", "drop"]})
    try:
        realistic_emu.admin("reset-counts", {})
        deploy(realistic_emu.url, name)
        injected = realistic_emu.admin("counts")["totals"]
        assert resource_counts(aws_realistic, name) == expected_counts()
        teardown(realistic_emu.url, name)
        assert nothing_left(aws_realistic, name) == {}
    finally:
        realistic_emu.admin("faults", {"rate": 0})  # faults off (kinds must stay a non-empty list)
    faults = sum(injected.get(kind, 0) for kind in ("throttle", "5xx", "drop"))
    assert faults > 0, f"no fault was injected: {injected}"
