"""Drift and a neighbour on one complete env (the module's `stack`, conftest.py), in file order.

First --check --diff reports exactly what was changed out of band and a run
repairs it; then a second env is built beside it and torn down; the last run
on the first env, which changes nothing, proves both the repair and that the
neighbour's teardown touched nothing of it.
"""

from __future__ import annotations

from tests.integration.helpers import assert_no_change, deploy, new_env, run_playbook, teardown
from tests.integration.stack import expected_counts, nothing_left, resource_counts

# prefix of the env the shared `stack` fixture (conftest.py) deploys for this file
ENV_PREFIX = "dr"


def _drift(aws, name):
    """Change six settings behind Ansible's back; return a reader of their values."""
    kinesis, rds, logs, cloudwatch, ec2 = aws("kinesis"), aws("rds"), aws("logs"), aws("cloudwatch"), aws("ec2")
    stream = f"video-ingestion-stream-{name}"
    kinesis.update_shard_count(StreamName=stream, TargetShardCount=3, ScalingType="UNIFORM_SCALING")
    kinesis.increase_stream_retention_period(StreamName=stream, RetentionPeriodHours=36)
    cluster = f"video-metadata-cluster-{name}"
    scaling = rds.describe_db_clusters(DBClusterIdentifier=cluster)["DBClusters"][0]["ServerlessV2ScalingConfiguration"]
    rds.modify_db_cluster(
        DBClusterIdentifier=cluster,
        ApplyImmediately=True,
        ServerlessV2ScalingConfiguration={**scaling, "MaxCapacity": 12.0},
    )
    logs.put_retention_policy(logGroupName=f"/ecs/video-processing-{name}", retentionInDays=90)
    sg = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [f"video-processing-ecs-sg-{name}"]}])[
        "SecurityGroups"
    ][0]
    ec2.authorize_security_group_ingress(
        GroupId=sg["GroupId"],
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    alarm_name = f"video-processing-iterator-age-{name}"
    alarm = cloudwatch.describe_alarms(AlarmNames=[alarm_name])["MetricAlarms"][0]
    keep = [
        "AlarmName",
        "AlarmDescription",
        "ActionsEnabled",
        "OKActions",
        "AlarmActions",
        "InsufficientDataActions",
        "MetricName",
        "Namespace",
        "Statistic",
        "Dimensions",
        "Period",
        "EvaluationPeriods",
        "DatapointsToAlarm",
        "ComparisonOperator",
        "TreatMissingData",
    ]
    cloudwatch.put_metric_alarm(**{k: alarm[k] for k in keep if k in alarm}, Threshold=alarm["Threshold"] * 7)

    def read():
        summary = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
        group = ec2.describe_security_groups(GroupIds=[sg["GroupId"]])["SecurityGroups"][0]
        return {
            "shards": summary["OpenShardCount"],
            "retention": summary["RetentionPeriodHours"],
            "max_acu": rds.describe_db_clusters(DBClusterIdentifier=cluster)["DBClusters"][0][
                "ServerlessV2ScalingConfiguration"
            ]["MaxCapacity"],
            "log_retention": logs.describe_log_groups(logGroupNamePrefix=f"/ecs/video-processing-{name}")["logGroups"][
                0
            ]["retentionInDays"],
            "ecs_ingress": len(group["IpPermissions"]),
            "alarm_threshold": cloudwatch.describe_alarms(AlarmNames=[alarm_name])["MetricAlarms"][0]["Threshold"],
        }

    return read, alarm["Threshold"]


def test_drift_is_reported_by_check_and_repaired_by_a_run(stack, endpoint, aws):
    name = stack.name
    read, threshold = _drift(aws, name)
    drifted = read()
    assert drifted == {
        "shards": 3,
        "retention": 36,
        "max_acu": 12.0,
        "log_retention": 90,
        "ecs_ingress": 1,
        "alarm_threshold": threshold * 7,
    }

    check = run_playbook(endpoint, "site.yml", name, check=True, diff=True)
    assert check.rc == 0, check.explain()
    changed = check.changed_tasks()
    # each drifted setting shows up in the role that owns it, and nothing else does
    roles = {task.split(" : ")[0].rsplit(".", 1)[-1] for task in changed}
    assert roles == {"network", "streaming", "database", "ecs", "monitoring"}, changed
    assert 5 <= len(changed) <= 6, changed
    assert read() == drifted, "--check must not change anything"

    repair = run_playbook(endpoint, "site.yml", name)
    assert repair.rc == 0, repair.explain()
    assert read() == {
        "shards": 2,
        "retention": 24,
        "max_acu": 4.0,
        "log_retention": 7,
        "ecs_ingress": 0,
        "alarm_threshold": threshold,
    }


def test_second_env_lives_beside_and_leaves_without_touching_it(stack, endpoint, aws):
    name = stack.name
    other = new_env("b")
    deploy(endpoint, other)
    assert resource_counts(aws, other) == expected_counts()
    teardown(endpoint, other)
    assert nothing_left(aws, other) == {}
    assert resource_counts(aws, name) == expected_counts()
    assert_no_change(run_playbook(endpoint, "site.yml", name))
