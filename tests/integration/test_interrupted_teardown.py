"""A teardown killed half-way is finished by running it again: teardown.yml.

teardown.yml is killed (SIGKILL to its whole process group) half-way through
each role it removes (helpers.run_and_kill), one role further each time: each
run selects the role killed last time again plus the next one, so it has to
finish what the killed run left. The final run of all six roles completes and
nothing of the env is left.
"""

from __future__ import annotations

import pytest

from tests.integration.helpers import deploy, new_env, run_and_kill, teardown
from tests.integration.stack import expected_counts, nothing_left, resource_counts
from tests.integration.test_interrupted import ROLES

pytestmark = pytest.mark.slow


def test_teardown_killed_in_every_role_then_rerun(endpoint, aws):
    env_name = new_env("tkill")
    deploy(endpoint, env_name)
    assert resource_counts(aws, env_name) == expected_counts()
    # teardown walks the roles backwards: killed in each of them but the network, which the last run removes
    previous = []
    for role in reversed(ROLES[1:]):
        killed = run_and_kill(endpoint, "teardown.yml", env_name, role, roles=[*previous, role])
        assert killed, f"teardown never reached the {role} role"
        previous = [role]
    teardown(endpoint, env_name)
    assert nothing_left(aws, env_name) == {}
