"""--check --diff before the first deploy reports what would be made and makes nothing.

Two starting points, all six roles each: an empty account, and an env where only
network and streaming exist (so database, ecs and monitoring find what they
need and report what they would create, instead of skipping it).
"""

from __future__ import annotations

import re

from tests.integration.helpers import STACK_VARS, deploy, new_env, run_playbook
from tests.integration.stack import expected_counts, nothing_left, resource_counts

ALARMS = (
    "kinesis-write-throttling",
    "kinesis-read-throttling",
    "iterator-age",
    "dlq-messages",
    "ecs-running-tasks",
    "aurora-acu-utilization",
)
NETWORK_AND_STREAMING = {
    "vpc",
    "subnet",
    "internet_gateway",
    "route_table",
    "security_group",
    "kms_key",
    "kms_alias",
    "kinesis_stream",
    "sqs_queue",
}


def test_on_an_empty_account(endpoint, aws):
    name = new_env("chk")
    run = run_playbook(endpoint, "site.yml", name, check=True, diff=True, extra_vars=STACK_VARS)
    assert run.rc == 0 and run.failed == 0, run.explain()
    changed = run.changed_tasks()
    for role in ("network", "streaming"):
        assert any(task.startswith(f"streamflix.video_pipeline.{role} : ") for task in changed), changed
    # the later roles skip what needs resources check mode did not create, and say nothing is missing
    assert "role first" not in run.stdout, run.explain()
    assert nothing_left(aws, name) == {}


def test_with_network_and_streaming_deployed(endpoint, aws):
    name = new_env("chp")
    deploy(endpoint, name, roles=["network", "streaming"])
    before = resource_counts(aws, name)
    assert {kind: n for kind, n in before.items() if n} == {
        kind: n for kind, n in expected_counts().items() if kind in NETWORK_AND_STREAMING
    }

    run = run_playbook(endpoint, "site.yml", name, check=True, diff=True, extra_vars=STACK_VARS)
    assert run.rc == 0 and run.failed == 0, run.explain()
    changed = run.changed_tasks()
    assert not [task for task in changed if " network : " in task or " streaming : " in task], changed
    for role in ("database", "ecs"):
        assert any(task.startswith(f"streamflix.video_pipeline.{role} : ") for task in changed), changed
    # the secrets hold the cluster's endpoint: with no cluster yet, check mode skips them (and says nothing)
    assert not [task for task in changed if " secrets : " in task], changed
    monitoring = [task for task in changed if task.startswith("streamflix.video_pipeline.monitoring : ")]
    for task in (
        "Alarm topic",  # created encrypted with the pipeline key, in one task
        "Alarms",
        "Dashboard",
        "Flow log group",
        "Flow-log delivery role",
    ):
        assert any(task in name for name in monitoring), f"{task!r} not reported as a change: {monitoring}"
    # one task converges all six alarms: its diff shows each of them created
    alarms_diff = task_output(run.stdout, "streamflix.video_pipeline.monitoring : Alarms")
    for what in ALARMS:
        assert re.search(rf"^\+\s+video-processing-{what}-{name}:", alarms_diff, re.M), alarms_diff
    assert resource_counts(aws, name) == before
    # the env is left to the worker's emulator, which ends with the session


def task_output(stdout: str, task: str) -> str:
    """What the run printed for `task` (its diff and result), up to the next task."""
    _before, _header, rest = stdout.partition(f"TASK [{task}]")
    return rest.split("\nTASK [", 1)[0]
