"""The whole pipeline against the realistic emulator (issue 7).

The proxy (scripts/emulator_proxy.py) keeps Aurora, Kinesis and ECS in their
transitional states for AWS's real times x 1/20 and refuses the calls
AWS refuses meanwhile (e.g. CreateDBInstance while the cluster is creating).
So a deploy that passes here with no refused call waited where AWS requires.
"""

from __future__ import annotations

import json

import pytest

from tests.integration.helpers import assert_no_change, deploy, new_env, run_playbook, teardown
from tests.integration.stack import expected_counts, nothing_left, resource_counts

pytestmark = [pytest.mark.realistic, pytest.mark.slow]


def test_deploy_rerun_teardown_wait_where_aws_requires(realistic_emu, aws_realistic):
    name = new_env("real")
    realistic_emu.admin("reset-counts", {})
    deploy(realistic_emu.url, name)
    counts = realistic_emu.admin("counts")
    assert counts["totals"]["refused"] == 0, json.dumps(counts["services"], indent=1)
    assert resource_counts(aws_realistic, name) == expected_counts()

    assert_no_change(run_playbook(realistic_emu.url, "site.yml", name))
    teardown(realistic_emu.url, name)
    counts = realistic_emu.admin("counts")
    assert counts["totals"]["refused"] == 0, json.dumps(counts["services"], indent=1)
    assert nothing_left(aws_realistic, name) == {}
