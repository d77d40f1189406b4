"""A teardown killed half-way is finished by running it again.

teardown.yml is killed (SIGKILL to its whole process group) at the second task
of each role it removes, one role further each time; the final run completes
and nothing of the env is left.
"""

from __future__ import annotations

import pytest

from tests.integration.helpers import deploy, new_env, run_and_kill, teardown
from tests.integration.stack import expected_counts, nothing_left, resource_counts
from tests.integration.test_interrupted import ROLES

pytestmark = pytest.mark.slow


def test_teardown_killed_in_every_role_then_rerun(endpoint, aws):
    name = new_env("tkill")
    deploy(endpoint, name)
    assert resource_counts(aws, name) == expected_counts()
    # teardown walks the roles backwards: killed in each of them but the network, which the last run removes
    for role in reversed(ROLES[1:]):
        assert run_and_kill(endpoint, "teardown.yml", name, role), f"teardown never reached the {role} role"
    teardown(endpoint, name)
    assert nothing_left(aws, name) == {}
