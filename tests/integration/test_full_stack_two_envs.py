"""Two complete envs in one account: tearing one down leaves the other intact and converged."""

from __future__ import annotations

from tests.integration.helpers import assert_no_change, deploy, new_env, run_playbook, teardown
from tests.integration.stack import expected_counts, nothing_left, resource_counts

# prefix of the env the shared `stack` fixture (conftest.py) deploys for this file
ENV_PREFIX = "a"


def test_second_env_lives_beside_and_leaves_without_touching_it(stack, endpoint, aws):
    name = stack[0]
    other = new_env("b")
    deploy(endpoint, other)
    assert resource_counts(aws, other) == expected_counts()
    teardown(endpoint, other)
    assert nothing_left(aws, other) == {}
    assert resource_counts(aws, name) == expected_counts()
    assert_no_change(run_playbook(endpoint, "site.yml", name))
