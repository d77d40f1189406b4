"""A run killed half-way is fixed by running again: site.yml.

Each run is started as a user would and killed (SIGKILL to its whole process
group, modules in flight included) half-way through one role: at its first
task after it made (or removed) something (helpers.run_and_kill). The next
run selects that role again plus the next one: it has to finish what the
killed run left half-done, and is then killed in the next role. The final,
uninterrupted run (of the last role killed) completes; the env then holds exactly one of
everything and a run of all six roles changes nothing. teardown.yml killed
half-way is test_interrupted_teardown.py (its own file, so that another worker
runs it at the same time).
"""

from __future__ import annotations

import pytest

from tests.integration.helpers import assert_no_change, deploy, new_env, run_and_kill, run_playbook
from tests.integration.stack import expected_counts, resource_counts

pytestmark = pytest.mark.slow

ROLES = ["network", "streaming", "database", "secrets", "ecs", "monitoring"]


def test_deploy_killed_in_every_role_then_rerun(endpoint, aws):
    env_name = new_env("kill")
    previous = []
    for role in ROLES:
        killed = run_and_kill(endpoint, "site.yml", env_name, role, roles=[*previous, role])
        assert killed, f"the run never reached the {role} role"
        previous = [role]
    deploy(endpoint, env_name, roles=previous)
    assert resource_counts(aws, env_name) == expected_counts()
    assert_no_change(run_playbook(endpoint, "site.yml", env_name))
