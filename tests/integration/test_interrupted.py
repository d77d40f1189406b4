"""A run killed half-way is fixed by running again: site.yml.

site.yml is started as a user would and killed (SIGKILL to its whole process
group, modules in flight included) at the second task of each role in turn;
every restart gets one role further. The final, uninterrupted run completes,
and the env then holds exactly one of everything. teardown.yml killed half-way
is in test_interrupted_teardown.py (its own file, so another worker runs it).
"""

from __future__ import annotations

import pytest

from tests.integration.helpers import assert_no_change, deploy, new_env, run_and_kill, run_playbook, teardown
from tests.integration.stack import expected_counts, nothing_left, resource_counts

pytestmark = pytest.mark.slow

ROLES = ["network", "streaming", "database", "secrets", "ecs", "monitoring"]


def test_deploy_killed_in_every_role_then_rerun(endpoint, aws):
    name = new_env("kill")
    for role in ROLES:
        assert run_and_kill(endpoint, "site.yml", name, role), f"the run never reached the {role} role"
    deploy(endpoint, name)
    assert resource_counts(aws, name) == expected_counts()
    assert_no_change(run_playbook(endpoint, "site.yml", name))
    teardown(endpoint, name)
    assert nothing_left(aws, name) == {}
