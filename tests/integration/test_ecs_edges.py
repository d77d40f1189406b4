"""The ecs role without a deployed env: bad sizes, missing prerequisites, check mode and a half-built teardown.

Kept apart from test_ecs.py (which deploys four roles first) so that a second
worker runs these while the first one deploys.
"""

from __future__ import annotations

import json

from tests.integration.helpers import new_env, run_playbook, teardown
from tests.integration.test_ecs import ECS, PREREQUISITE_ROLES, ecs_changes


def test_bad_sizes_are_refused_before_any_aws_call(endpoint):
    name = new_env("bad")
    for extra, needle in (
        ({"ecs_cpu": 1024, "ecs_memory": 1024}, "ecs_memory"),
        ({"ecs_log_retention_days": 10}, "ecs_log_retention_days"),
        ({"ecs_cpu": 300}, "ecs_cpu"),
    ):
        run = run_playbook(endpoint, "site.yml", name, roles=ECS, extra_vars=extra)
        assert run.rc != 0
        assert needle in run.stdout, run.explain()
        assert "Ask AWS who we are" not in run.stdout


def test_check_mode_without_prerequisites_creates_nothing(endpoint, aws):
    name = new_env("chk")
    run = run_playbook(endpoint, "site.yml", name, roles=ECS, check=True, diff=True)
    assert run.rc == 0 and run.failed == 0, run.explain()
    assert ecs_changes(run) == [f"Cluster video-processing-cluster-{name}"]
    clusters = aws("ecs").describe_clusters(clusters=[f"video-processing-cluster-{name}"])["clusters"]
    assert [c for c in clusters if c["status"] == "ACTIVE"] == []


def test_a_run_without_prerequisites_names_the_roles_to_run(endpoint):
    run = run_playbook(endpoint, "site.yml", new_env("pre"), roles=ECS)
    assert run.rc != 0
    for role in PREREQUISITE_ROLES:
        assert f"run the {role} role first" in run.stdout, run.explain()


def test_teardown_of_a_half_built_env(endpoint, aws):
    name = new_env("half")
    aws("ecs").create_cluster(clusterName=f"video-processing-cluster-{name}")
    aws("iam").create_role(
        RoleName=f"video-processing-exec-role-{name}",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
    )
    aws("iam").put_role_policy(
        RoleName=f"video-processing-exec-role-{name}",
        PolicyName="left-over",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}],
            }
        ),
    )
    run = teardown(endpoint, name, roles=ECS)
    assert sorted(ecs_changes(run)) == sorted(
        [f"Delete the cluster video-processing-cluster-{name}", "Delete the IAM roles and their inline policies"]
    ), run.changed_tasks()
    roles = [r["RoleName"] for r in aws("iam").list_roles()["Roles"]]
    assert f"video-processing-exec-role-{name}" not in roles
    clusters = aws("ecs").describe_clusters(clusters=[f"video-processing-cluster-{name}"])["clusters"]
    assert [c for c in clusters if c["status"] == "ACTIVE"] == []
