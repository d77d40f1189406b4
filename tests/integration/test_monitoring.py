"""The monitoring role: SPEC settings read back, a threshold change in place, bad input, an empty env.

The read-backs use the shared full-stack env (conftest.py: stack_env), the
change the shared env of the "changes" group (changing_env). That the alarms
and dashboard on ECS and Aurora metrics need neither the ecs nor the database
role is extensions/molecule/monitoring/ (network + streaming + monitoring);
check mode before the first deploy is test_check_mode.py.
"""

from __future__ import annotations

import json

import pytest

from tests.integration.helpers import ALARM_EMAIL, new_env, run_playbook

EMAIL = ALARM_EMAIL  # the shared envs are deployed with it
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


@pytest.fixture(scope="module")
def env_name(stack_env):
    return stack_env.name


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
    by_sid = {s["Sid"]: s for s in document["Statement"]}
    group_arn = f"arn:aws:logs:us-east-1:{account}:log-group:{group_name}"
    assert set(by_sid["WriteVpcFlowLogGroup"]["Resource"]) == {group_arn, f"{group_arn}:*"}
    assert by_sid["DescribeLogGroupsHasNoResourceLevelPermissions"]["Action"] == "logs:DescribeLogGroups"
    assert by_sid["DescribeLogGroupsHasNoResourceLevelPermissions"]["Resource"] == "*"
    assert len(by_sid) == 2


def test_threshold_change_is_applied(changing_env, endpoint, aws):
    """A real change: a tighter iterator-age threshold (and no e-mail) reaches the alarm and the dashboard."""
    env_name = changing_env.name
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

    # and back: the profile's threshold and the e-mail subscription again
    back = run_playbook(endpoint, "site.yml", env_name, roles=["monitoring"], extra_vars=changing_env.extra_vars)
    assert back.rc == 0 and back.failed == 0, back.explain()
    alarm = alarms_of(aws, env_name)[f"video-processing-iterator-age-{env_name}"]
    assert alarm["Threshold"] == ITERATOR_AGE_MS
    endpoints = [
        s["Endpoint"]
        for s in aws("sns").list_subscriptions_by_topic(TopicArn=topic_arn(aws, env_name))["Subscriptions"]
    ]
    assert endpoints == [EMAIL]


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
