"""A run killed half-way is fixed by running again: site.yml, then teardown.yml, on one env.

Each run is started as a user would and killed (SIGKILL to its whole process
group, modules in flight included) half-way through one role: at its first
task after it made (or removed) something (helpers.run_and_kill). The next
run selects that role again plus the next one: it has to finish what the
killed run left half-done, and is then killed in the next role. The final,
uninterrupted run of all six roles completes; the env then holds exactly one
of everything and a re-run changes nothing. The teardown test, next in the
file, does the same backwards on that env, and nothing of it is left.
"""

from __future__ import annotations

import pytest

from tests.integration.helpers import assert_no_change, deploy, new_env, run_and_kill, run_playbook, teardown
from tests.integration.stack import expected_counts, nothing_left, resource_counts

pytestmark = pytest.mark.slow

ROLES = ["network", "streaming", "database", "secrets", "ecs", "monitoring"]


@pytest.fixture(scope="module")
def env_name():
    return new_env("kill")


def test_deploy_killed_in_every_role_then_rerun(endpoint, aws, env_name):
    previous = []
    for role in ROLES:
        killed = run_and_kill(endpoint, "site.yml", env_name, role, roles=[*previous, role])
        assert killed, f"the run never reached the {role} role"
        previous = [role]
    deploy(endpoint, env_name)
    assert resource_counts(aws, env_name) == expected_counts()
    assert_no_change(run_playbook(endpoint, "site.yml", env_name))


def test_teardown_killed_in_every_role_then_rerun(endpoint, aws, env_name):
    if nothing_left(aws, env_name) == {}:
        deploy(endpoint, env_name)  # run alone (-k): build what the deploy test leaves
    # teardown walks the roles backwards: killed in each of them but the network, which the last run removes
    previous = []
    for role in reversed(ROLES[1:]):
        killed = run_and_kill(endpoint, "teardown.yml", env_name, role, roles=[*previous, role])
        assert killed, f"teardown never reached the {role} role"
        previous = [role]
    teardown(endpoint, env_name)
    assert nothing_left(aws, env_name) == {}
