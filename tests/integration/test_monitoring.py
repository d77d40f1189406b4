"""The monitoring role against the emulator: SPEC settings, idempotency, check mode, a real change, teardown.

Deploys network + streaming + monitoring only: the alarms and dashboard widgets
on ECS and Aurora metrics must not need the ecs and database roles.
"""

from __future__ import annotations

import json

import pytest

from tests.integration.helpers import assert_no_change, deploy, new_env, run_playbook, teardown

ROLES = ["network", "streaming", "monitoring"]
EMAIL = "video-oncall@example.com"
# dev sizing (every test env is an ephemeral env): profiles/ephemeral.yml
ITERATOR_AGE_MS = 300000.0
ACU_PERCENT = 90.0
DLQ_MESSAGES = 1.0
DESIRED_TASKS = 1.0


def tags_of(tag_list) -> dict:
    return {t["Key"]: t["Value"] for t in tag_list}


def assert_standard_tags(tags: dict, env_name: str):
    assert tags["Project"] == "video-processing"
    assert tags["Environment"] == env_name
    assert tags["ManagedBy"] == "ansible"
    assert tags["Component"] == "monitoring"


CHECK_RUNS = {}


@pytest.fixture(scope="module")
def env_name(endpoint, aws):
    """network + streaming, then monitoring in check mode (kept for a test), then monitoring for real."""
    name = new_env("mon")
    deploy(endpoint, name, roles=["network", "streaming"])
    CHECK_RUNS[name] = run_playbook(
        endpoint,
        "site.yml",
        name,
        roles=["monitoring"],
        extra_vars={"monitoring_alarm_email": EMAIL},
        check=True,
        diff=True,
    )
    CHECK_RUNS[name].left_behind = [topic_arn(aws, name), *alarms_of(aws, name)]
    deploy(endpoint, name, roles=["monitoring"], extra_vars={"monitoring_alarm_email": EMAIL})
    yield name
    run_playbook(endpoint, "teardown.yml", name, roles=ROLES)


def test_check_mode_before_the_first_deploy_reports_and_creates_nothing(env_name):
    """Recorded before the real deploy: every resource would be created, nothing failed, nothing was made."""
    run = CHECK_RUNS[env_name]
    assert run.rc == 0 and run.failed == 0, run.explain()
    changed = run.changed_tasks()
    for task in (
        "alarm topic would be created",
        "Encrypt the alarm topic",
        "Alarms",
        "Tag the alarms",
        "Dashboard",
        "Flow log group",
        "Flow-log delivery role",
    ):
        assert any(task in name for name in changed), f"{task!r} not reported as a change: {changed}"
    assert len([n for n in changed if n.endswith("Alarms")]) == 6
    assert run.left_behind == [None], run.left_behind


@pytest.fixture(scope="module")
def key_arn(env_name, aws):
    return aws("kms").describe_key(KeyId=f"alias/video-processing-{env_name}")["KeyMetadata"]["Arn"]


def topic_arn(aws, env_name):
    arns = [t["TopicArn"] for t in aws("sns").list_topics()["Topics"]]
    found = [a for a in arns if a.split(":")[-1] == f"video-processing-alarms-{env_name}"]
    return found[0] if found else None


def expected_alarms(env_name):
    stream = {"StreamName": f"video-ingestion-stream-{env_name}"}
    return {
        f"video-processing-kinesis-write-throttling-{env_name}": (
            "AWS/Kinesis", "WriteProvisionedThroughputExceeded", "Sum", 0.0, "GreaterThanThreshold", stream,
        ),
        f"video-processing-kinesis-read-throttling-{env_name}": (
            "AWS/Kinesis", "ReadProvisionedThroughputExceeded", "Sum", 0.0, "GreaterThanThreshold", stream,
        ),
        f"video-processing-iterator-age-{env_name}": (
            "AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds", "Maximum", ITERATOR_AGE_MS, "GreaterThanThreshold",
            stream,
        ),
        f"video-processing-dlq-messages-{env_name}": (
            "AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", DLQ_MESSAGES,
            "GreaterThanOrEqualToThreshold", {"QueueName": f"video-processing-dlq-{env_name}"},
        ),
        f"video-processing-ecs-running-tasks-{env_name}": (
            "ECS/ContainerInsights", "RunningTaskCount", "Average", DESIRED_TASKS, "LessThanThreshold",
            {"ClusterName": f"video-processing-cluster-{env_name}",
             "ServiceName": f"video-processing-service-{env_name}"},
        ),
        f"video-processing-aurora-acu-utilization-{env_name}": (
            "AWS/RDS", "ACUUtilization", "Maximum", ACU_PERCENT, "GreaterThanThreshold",
            {"DBClusterIdentifier": f"video-metadata-cluster-{env_name}"},
        ),
    }  # fmt: skip


def alarms_of(aws, env_name):
    found = aws("cloudwatch").describe_alarms(AlarmNamePrefix="video-processing-")["MetricAlarms"]
    return {a["AlarmName"]: a for a in found if a["AlarmName"].endswith(f"-{env_name}")}


def test_topic_is_encrypted_tagged_and_subscribed(env_name, aws, key_arn):
    sns = aws("sns")
    arn = topic_arn(aws, env_name)
    assert arn, "alarm topic missing"
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["KmsMasterKeyId"] == key_arn
    assert_standard_tags(tags_of(sns.list_tags_for_resource(ResourceArn=arn)["Tags"]), env_name)
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [("email", EMAIL)]


def test_alarms(env_name, aws):
    arn = topic_arn(aws, env_name)
    alarms = alarms_of(aws, env_name)
    expected = expected_alarms(env_name)
    assert set(alarms) == set(expected)
    for name, (namespace, metric, statistic, threshold, comparison, dimensions) in expected.items():
        alarm = alarms[name]
        assert alarm["Namespace"] == namespace, name
        assert alarm["MetricName"] == metric, name
        assert alarm["Statistic"] == statistic, name
        assert alarm["Threshold"] == threshold, name
        assert alarm["ComparisonOperator"] == comparison, name
        assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]} == dimensions, name
        assert alarm["AlarmActions"] == [arn], name
        assert alarm["OKActions"] == [arn], name
        tags = aws("cloudwatch").list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]
        assert_standard_tags(tags_of(tags), env_name)
        # runbook style: one sentence that says what to check or do
        description = alarm["AlarmDescription"]
        assert description.endswith(".") and description.count(". ") == 0, description
        assert any(word in description for word in ("check", "read", "fix")), description


def test_dashboard_shows_stream_dlq_ecs_and_aurora(env_name, aws):
    body = json.loads(aws("cloudwatch").get_dashboard(DashboardName=f"video-processing-{env_name}")["DashboardBody"])
    metrics = [
        tuple(line[:2]) + tuple(x for x in line[2:] if isinstance(x, str))
        for widget in body["widgets"]
        if widget["type"] == "metric"
        for line in widget["properties"]["metrics"]
    ]
    names = {value for line in metrics for value in line}
    for name in (
        f"video-ingestion-stream-{env_name}",
        f"video-processing-dlq-{env_name}",
        f"video-processing-cluster-{env_name}",
        f"video-processing-service-{env_name}",
        f"video-metadata-cluster-{env_name}",
    ):
        assert name in names, f"{name} is on no dashboard widget"
    namespaces = {line[0] for line in metrics}
    assert {"AWS/Kinesis", "AWS/SQS", "ECS/ContainerInsights", "AWS/RDS"} <= namespaces
    alarm_widgets = [w for w in body["widgets"] if w["type"] == "alarm"]
    assert len(alarm_widgets) == 1
    listed = {arn.split(":alarm:")[1] for arn in alarm_widgets[0]["properties"]["alarms"]}
    assert listed == set(expected_alarms(env_name))


def test_flow_logs(env_name, aws, key_arn):
    ec2, logs, iam = aws("ec2"), aws("logs"), aws("iam")
    group_name = f"/vpc/video-processing-{env_name}"
    role_name = f"video-processing-flowlogs-role-{env_name}"
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [f"video-processing-vpc-{env_name}"]}])["Vpcs"]
    assert len(vpcs) == 1
    flow_logs = ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpcs[0]["VpcId"]]}])["FlowLogs"]
    assert len(flow_logs) == 1
    flow_log = flow_logs[0]
    assert flow_log["TrafficType"] == "ALL"
    assert flow_log["LogDestinationType"] == "cloud-watch-logs"
    assert flow_log["LogGroupName"] == group_name
    role = iam.get_role(RoleName=role_name)["Role"]
    assert flow_log["DeliverLogsPermissionArn"] == role["Arn"]
    assert_standard_tags(tags_of(flow_log["Tags"]), env_name)

    (group,) = [
        g
        for g in logs.describe_log_groups(logGroupNamePrefix=group_name)["logGroups"]
        if g["logGroupName"] == group_name
    ]
    assert group["kmsKeyId"] == key_arn
    assert group["retentionInDays"] == 7  # the ECS log group's retention in the dev-sized profile
    assert_standard_tags(logs.list_tags_log_group(logGroupName=group_name)["tags"], env_name)

    account = role["Arn"].split(":")[4]
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": account}
    assert_standard_tags(tags_of(iam.list_role_tags(RoleName=role_name)["Tags"]), env_name)
    assert iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"] == []
    (policy_name,) = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"]
    resources = {
        r for s in document["Statement"] for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])
    }
    group_arn = f"arn:aws:logs:us-east-1:{account}:log-group:{group_name}"
    assert resources == {group_arn, f"{group_arn}:*"}


# A second run of the role alone changing nothing is molecule's idempotence step
# (extensions/molecule/monitoring/); a second run of all six roles, test_full_stack.py.


def test_check_diff_on_converged_env_changes_nothing(env_name, endpoint):
    run = run_playbook(
        endpoint,
        "site.yml",
        env_name,
        roles=["monitoring"],
        extra_vars={"monitoring_alarm_email": EMAIL},
        check=True,
        diff=True,
    )
    assert_no_change(run)


def test_threshold_change_is_applied(env_name, endpoint, aws):
    """A real change: a tighter iterator-age threshold (and no e-mail) reaches the alarm and the dashboard."""
    run = run_playbook(
        endpoint, "site.yml", env_name, roles=["monitoring"], extra_vars={"monitoring_alarm_iterator_age_ms": 120000}
    )
    assert run.rc == 0 and run.failed == 0, run.explain()
    changed = run.changed_tasks()
    assert any(name.endswith("Alarms") for name in changed), changed
    assert any("Dashboard" in name for name in changed), changed
    assert any("Alarm topic" in name for name in changed), changed  # the e-mail subscription was removed
    alarm = alarms_of(aws, env_name)[f"video-processing-iterator-age-{env_name}"]
    assert alarm["Threshold"] == 120000.0
    assert "120000 ms" in alarm["AlarmDescription"]
    body = json.loads(aws("cloudwatch").get_dashboard(DashboardName=f"video-processing-{env_name}")["DashboardBody"])
    lines = [
        annotation["value"]
        for widget in body["widgets"]
        for annotation in widget["properties"].get("annotations", {}).get("horizontal", [])
    ]
    assert lines == [120000]
    assert aws("sns").list_subscriptions_by_topic(TopicArn=topic_arn(aws, env_name))["Subscriptions"] == []
    # and the other alarms kept their thresholds
    assert alarms_of(aws, env_name)[f"video-processing-aurora-acu-utilization-{env_name}"]["Threshold"] == ACU_PERCENT


@pytest.mark.parametrize(
    ("extra_vars", "message"),
    [
        ({"monitoring_alarm_email": "oncall-at-example"}, "monitoring_alarm_email=oncall-at-example is not an e-mail"),
        ({"monitoring_alarm_iterator_age_ms": -5}, "monitoring_alarm_iterator_age_ms must be a positive number"),
        ({"monitoring_flow_log_retention_days": 8}, "monitoring_flow_log_retention_days=8"),
    ],
)
def test_bad_input_is_refused_before_any_aws_call(endpoint, aws, extra_vars, message):
    name = new_env("bad")
    run = run_playbook(endpoint, "site.yml", name, roles=["monitoring"], extra_vars=extra_vars)
    assert run.rc != 0
    assert message in " ".join(run.stdout.split()), run.explain()
    assert "Call sts get-caller-identity" not in run.stdout  # stopped in preflight, before the first AWS call
    assert topic_arn(aws, name) is None


def test_monitoring_alone_on_empty_env(endpoint, aws):
    """Check mode skips what needs missing prerequisites; a real run names the roles to run first."""
    name = new_env("mo")
    check = run_playbook(endpoint, "site.yml", name, roles=["monitoring"], check=True, diff=True)
    assert check.rc == 0 and check.failed == 0, check.explain()
    assert topic_arn(aws, name) is None
    assert alarms_of(aws, name) == {}
    real = run_playbook(endpoint, "site.yml", name, roles=["monitoring"])
    assert real.rc != 0
    assert "run the network role first" in real.stdout and "run the streaming role first" in real.stdout, real.explain()
    assert topic_arn(aws, name) is None


def test_teardown_twice_leaves_nothing(env_name, endpoint, aws):
    first = teardown(endpoint, env_name, roles=ROLES)
    assert first.changed > 0
    second = teardown(endpoint, env_name, roles=ROLES)
    assert second.changed == 0, second.changed_tasks()
    assert topic_arn(aws, env_name) is None
    assert alarms_of(aws, env_name) == {}
    dashboards = aws("cloudwatch").list_dashboards(DashboardNamePrefix=f"video-processing-{env_name}")
    assert dashboards["DashboardEntries"] == []
    group_name = f"/vpc/video-processing-{env_name}"
    assert aws("logs").describe_log_groups(logGroupNamePrefix=group_name)["logGroups"] == []
    roles = [r["RoleName"] for r in aws("iam").list_roles()["Roles"]]
    assert f"video-processing-flowlogs-role-{env_name}" not in roles
    assert [f for f in aws("ec2").describe_flow_logs()["FlowLogs"] if f["LogGroupName"] == group_name] == []
