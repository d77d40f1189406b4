"""The whole pipeline: build from empty, summary, re-run, check, teardown.

One env is deployed for the module and reused, in file order, by every test;
the last test tears it down (so the order of the tests matters: pytest keeps
file order, and `--dist loadfile` keeps a file on one worker). Drift and two
envs side by side have files of their own (test_full_stack_drift.py,
test_full_stack_two_envs.py) so that parallel workers share the load.
"""

from __future__ import annotations

import json

from tests.integration.helpers import REPO, assert_no_change, deploy, new_env, run_playbook, teardown
from tests.integration.stack import expected_counts, nothing_left, resource_counts

# prefix of the env the shared `stack` fixture (conftest.py) deploys for this file
ENV_PREFIX = "fs"


def test_empty_to_complete(stack, aws):
    name, first = stack
    assert first.changed > 0
    assert resource_counts(aws, name) == expected_counts()


def test_summary_printed_and_written(stack):
    name, first = stack
    assert f"video-ingestion-stream-{name}" in first.stdout
    summary = json.loads((REPO / "outputs" / f"{name}.json").read_text())
    text = json.dumps(summary)
    for expected in (
        f"video-ingestion-stream-{name}",
        f"video-processing-db-credentials-{name}",
        f"video-processing-api-keys-{name}",
        f"video-processing-cluster-{name}",
        f"video-processing-service-{name}",
        f"video-processing-dlq-{name}",
        f"video-processing-{name}",
    ):
        assert expected in text, f"{expected} missing from outputs/{name}.json"


def test_second_run_changes_nothing(stack, endpoint):
    assert_no_change(run_playbook(endpoint, "site.yml", stack[0]))


def test_check_diff_on_converged_env_changes_nothing(stack, endpoint):
    assert_no_change(run_playbook(endpoint, "site.yml", stack[0], check=True, diff=True))


def test_teardown_removes_everything_and_is_safe_twice(stack, endpoint, aws):
    name = stack[0]
    first = teardown(endpoint, name)
    assert first.changed > 0
    assert nothing_left(aws, name) == {}
    second = teardown(endpoint, name)
    assert second.changed == 0, second.changed_tasks()


def test_teardown_of_a_half_built_env(endpoint, aws):
    name = new_env("half")
    deploy(endpoint, name, roles=["network", "streaming", "database"])
    teardown(endpoint, name)
    assert nothing_left(aws, name) == {}
