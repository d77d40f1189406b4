"""The ecs role: SPEC settings read back; re-run, check mode and a real change in place.

The read-backs use the shared full-stack env (conftest.py: stack_env), the
runs the shared env of the "changes" group (changing_env). Its teardown is
test_full_stack.py and extensions/molecule/ecs/; runs without prerequisites,
test_ecs_edges.py.
"""

from __future__ import annotations

import json

import pytest

from tests.integration.helpers import assert_no_change, run_playbook

ECS = ["ecs"]
PREREQUISITE_ROLES = ["network", "streaming", "database", "secrets"]
ACCOUNT = "123456789012"
REGION = "us-east-1"


def ecs_changes(run) -> list[str]:
    """Names of the ecs role's tasks that reported a change, without the role prefix."""
    return [name.split("ecs : ", 1)[1] for name in run.changed_tasks() if name and "ecs : " in name]


def active_revisions(aws, env: str) -> list[str]:
    family = f"video-processing-{env}"
    arns = aws("ecs").list_task_definitions(familyPrefix=family, status="ACTIVE")["taskDefinitionArns"]
    return sorted(
        (a for a in arns if a.rsplit("/", 1)[-1].rsplit(":", 1)[0] == family), key=lambda a: int(a.rsplit(":", 1)[-1])
    )


@pytest.fixture(scope="module")
def env_name(stack_env):
    return stack_env.name


def _service(aws, env):
    found = aws("ecs").describe_services(
        cluster=f"video-processing-cluster-{env}", services=[f"video-processing-service-{env}"], include=["TAGS"]
    )["services"]
    assert len(found) == 1
    return found[0]


def _task_definition(aws, arn):
    return aws("ecs").describe_task_definition(taskDefinition=arn, include=["TAGS"])


def _standard_tags(tags, env, key="key", value="value"):
    as_dict = {t[key]: t[value] for t in tags}
    assert as_dict["Project"] == "video-processing"
    assert as_dict["Environment"] == env
    assert as_dict["ManagedBy"] == "ansible"
    assert as_dict["Component"] == "ecs"


def test_cluster_has_container_insights(env_name, aws):
    clusters = aws("ecs").describe_clusters(
        clusters=[f"video-processing-cluster-{env_name}"], include=["SETTINGS", "TAGS"]
    )["clusters"]
    assert [c["status"] for c in clusters] == ["ACTIVE"]
    assert {s["name"]: s["value"] for s in clusters[0]["settings"]}["containerInsights"] == "enabled"
    _standard_tags(clusters[0]["tags"], env_name)


def test_log_group_retention_and_key(env_name, aws):
    name = f"/ecs/video-processing-{env_name}"
    groups = [
        g for g in aws("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"] if g["logGroupName"] == name
    ]
    assert len(groups) == 1
    assert groups[0]["retentionInDays"] == 7
    key = aws("kms").describe_key(KeyId=f"alias/video-processing-{env_name}")["KeyMetadata"]["Arn"]
    assert groups[0]["kmsKeyId"] == key
    tags = aws("logs").list_tags_for_resource(resourceArn=groups[0]["arn"].rstrip(":*"))["tags"]
    _standard_tags([{"key": k, "value": v} for k, v in tags.items()], env_name)


@pytest.mark.parametrize("role", ["exec-role", "task-role"])
def test_trust_policies(env_name, aws, role):
    found = aws("iam").get_role(RoleName=f"video-processing-{role}-{env_name}")["Role"]
    doc = found["AssumeRolePolicyDocument"]
    if isinstance(doc, str):
        doc = json.loads(doc)
    assert len(doc["Statement"]) == 1
    statement = doc["Statement"][0]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    assert aws("iam").list_attached_role_policies(RoleName=found["RoleName"])["AttachedPolicies"] == []
    _standard_tags(found.get("Tags", []), env_name, "Key", "Value")


def _inline_policy(aws, role, env):
    iam = aws("iam")
    role_name = f"video-processing-{role}-{env}"
    names = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    assert len(names) == 1
    doc = iam.get_role_policy(RoleName=role_name, PolicyName=names[0])["PolicyDocument"]
    return json.loads(doc) if isinstance(doc, str) else doc


def _as_list(value):
    return value if isinstance(value, list) else [value]


def test_policies_name_exact_resources(env_name, aws):
    secrets = {
        s["Name"]: s["ARN"]
        for s in aws("secretsmanager").list_secrets()["SecretList"]
        if s["Name"].endswith(f"-{env_name}") and s["Name"].startswith("video-processing-")
    }
    master = aws("rds").describe_db_clusters(DBClusterIdentifier=f"video-metadata-cluster-{env_name}")["DBClusters"][0][
        "MasterUserSecret"
    ]["SecretArn"]
    key = aws("kms").describe_key(KeyId=f"alias/video-processing-{env_name}")["KeyMetadata"]["Arn"]
    stream = aws("kinesis").describe_stream_summary(StreamName=f"video-ingestion-stream-{env_name}")[
        "StreamDescriptionSummary"
    ]["StreamARN"]
    secret_arns = sorted(
        [
            secrets[f"video-processing-db-credentials-{env_name}"],
            secrets[f"video-processing-api-keys-{env_name}"],
            master,
        ]
    )

    exec_doc = _inline_policy(aws, "exec-role", env_name)
    by_action = {}
    for statement in exec_doc["Statement"]:
        assert statement["Effect"] == "Allow"
        for action in _as_list(statement["Action"]):
            by_action[action] = sorted(_as_list(statement["Resource"]))
    log_arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ecs/video-processing-{env_name}:log-stream:*"
    assert by_action["logs:CreateLogStream"] == [log_arn]
    assert by_action["logs:PutLogEvents"] == [log_arn]
    assert by_action["secretsmanager:GetSecretValue"] == secret_arns
    assert by_action["kms:Decrypt"] == [key]
    # the default image is public (public.ecr.aws): no ECR permission is needed
    assert not [a for a in by_action if a.startswith("ecr:")]

    task_doc = _inline_policy(aws, "task-role", env_name)
    by_action = {}
    for statement in task_doc["Statement"]:
        for action in _as_list(statement["Action"]):
            by_action[action] = (sorted(_as_list(statement["Resource"])), statement.get("Condition"))
    for action in (
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:ListShards",
        "kinesis:DescribeStreamSummary",
    ):
        assert by_action[action] == ([stream], None)
    dlq_url = aws("sqs").get_queue_url(QueueName=f"video-processing-dlq-{env_name}")["QueueUrl"]
    dlq = aws("sqs").get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert by_action["sqs:SendMessage"] == ([dlq], None)
    assert by_action["secretsmanager:GetSecretValue"] == (secret_arns, None)
    assert by_action["kms:Decrypt"] == ([key], None)
    assert by_action["cloudwatch:PutMetricData"] == (
        ["*"],
        {"StringEquals": {"cloudwatch:namespace": "StreamFlix/VideoPipeline"}},
    )
    # "*" only where IAM has no resource type for the action
    for statement in exec_doc["Statement"] + task_doc["Statement"]:
        if "*" in _as_list(statement["Resource"]):
            assert set(_as_list(statement["Action"])) <= {"cloudwatch:PutMetricData", "ecr:GetAuthorizationToken"}


def test_task_definition(env_name, aws):
    revisions = active_revisions(aws, env_name)
    assert len(revisions) == 1
    described = _task_definition(aws, revisions[-1])
    td = described["taskDefinition"]
    _standard_tags(described["tags"], env_name)
    assert td["requiresCompatibilities"] == ["FARGATE"]
    assert td["networkMode"] == "awsvpc"
    assert (td["cpu"], td["memory"]) == ("1024", "2048")
    assert td["executionRoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/video-processing-exec-role-{env_name}"
    assert td["taskRoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/video-processing-task-role-{env_name}"
    assert len(td["containerDefinitions"]) == 1
    container = td["containerDefinitions"][0]
    assert container["image"] == "public.ecr.aws/docker/library/python:3.11-slim"
    # the placeholder worker stays up (the seed's aws-cli image exited at once)
    assert container["command"][:2] == ["python", "-c"] and "while True" in container["command"][2]
    assert container["readonlyRootFilesystem"] is True
    scratch = [v for v in td["volumes"] if v["name"] == "scratch"]
    assert len(scratch) == 1 and not scratch[0].get("host", {}).get("sourcePath")
    scratch_mount = {"sourceVolume": "scratch", "containerPath": "/tmp", "readOnly": False}  # noqa: S108 - the mount
    assert container["mountPoints"] == [scratch_mount]
    log = container["logConfiguration"]
    assert log["logDriver"] == "awslogs"
    assert log["options"]["mode"] == "non-blocking"
    assert log["options"]["awslogs-group"] == f"/ecs/video-processing-{env_name}"
    assert log["options"]["awslogs-region"] == REGION

    env = {e["name"]: e["value"] for e in container["environment"]}
    dlq_url = aws("sqs").get_queue_url(QueueName=f"video-processing-dlq-{env_name}")["QueueUrl"]
    master = aws("rds").describe_db_clusters(DBClusterIdentifier=f"video-metadata-cluster-{env_name}")["DBClusters"][0][
        "MasterUserSecret"
    ]["SecretArn"]
    assert env == {
        "KINESIS_STREAM_NAME": f"video-ingestion-stream-{env_name}",
        "DLQ_URL": dlq_url,
        "AWS_REGION": REGION,
        "DB_SECRET_ARN": master,
    }
    sm = aws("secretsmanager")
    secrets = {s["name"]: s["valueFrom"] for s in container["secrets"]}
    assert secrets == {
        "DB_CONNECTION": sm.describe_secret(SecretId=f"video-processing-db-credentials-{env_name}")["ARN"],
        "DB_MASTER_CREDENTIALS": master,
        "API_KEYS": sm.describe_secret(SecretId=f"video-processing-api-keys-{env_name}")["ARN"],
    }
    # no secret value appears anywhere in the task definition (ARNs inside a
    # secret, e.g. the master secret's in the connection secret, are identifiers)
    text = json.dumps(described, default=str)
    for secret_id in secrets.values():
        value = sm.get_secret_value(SecretId=secret_id)["SecretString"]
        assert value not in text
        for field in json.loads(value).values():
            if isinstance(field, str) and len(field) >= 6 and not field.startswith("arn:"):
                assert field not in text, f"a secret field value is in the task definition: {field[:3]}..."


def test_service(env_name, aws):
    service = _service(aws, env_name)
    assert service["status"] == "ACTIVE"
    assert service["launchType"] == "FARGATE"
    assert service["desiredCount"] == 1
    assert service["taskDefinition"] == active_revisions(aws, env_name)[-1]
    network = service["networkConfiguration"]["awsvpcConfiguration"]
    assert network["assignPublicIp"] == "ENABLED"
    ec2 = aws("ec2")
    subnets = ec2.describe_subnets(Filters=[{"Name": "tag:Environment", "Values": [env_name]}])["Subnets"]
    public = sorted(
        s["SubnetId"]
        for s in subnets
        if {t["Key"]: t["Value"] for t in s.get("Tags", [])}.get("Name")
        in (f"video-processing-public-a-{env_name}", f"video-processing-public-b-{env_name}")
    )
    assert sorted(network["subnets"]) == public and len(public) == 2
    sg = ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [f"video-processing-ecs-sg-{env_name}"]}]
    )["SecurityGroups"]
    assert network["securityGroups"] == [sg[0]["GroupId"]]
    deployment = service["deploymentConfiguration"]
    assert deployment["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    _standard_tags(service["tags"], env_name)


def test_second_run_changes_nothing(changing_env, endpoint, aws):
    env_name = changing_env.name
    before = active_revisions(aws, env_name)
    assert_no_change(run_playbook(endpoint, "site.yml", env_name, roles=ECS))
    assert active_revisions(aws, env_name) == before


def test_check_mode_reports_a_change_without_registering(changing_env, endpoint, aws):
    env_name = changing_env.name
    before = active_revisions(aws, env_name)
    run = run_playbook(
        endpoint, "site.yml", env_name, roles=ECS, check=True, diff=True, extra_vars={"ecs_memory": 4096}
    )
    assert run.rc == 0, run.explain()
    changed = ecs_changes(run)
    assert changed == [
        f"Task definition video-processing-{env_name}",
        f"Service video-processing-service-{env_name}",
    ], changed
    assert active_revisions(aws, env_name) == before


def test_real_change_registers_one_revision_and_rolls_the_service(changing_env, endpoint, aws):
    env_name = changing_env.name
    before = active_revisions(aws, env_name)
    change = {
        "ecs_memory": 4096,
        "ecs_image": "public.ecr.aws/docker/library/python:3.12-slim",
        "ecs_extra_environment": {"LOG_LEVEL": "debug"},
    }
    run = run_playbook(endpoint, "site.yml", env_name, roles=ECS, extra_vars=change)
    assert run.rc == 0 and run.failed == 0, run.explain()
    changed = ecs_changes(run)
    assert changed == [
        f"Task definition video-processing-{env_name}",
        f"Service video-processing-service-{env_name}",
    ], changed
    after = active_revisions(aws, env_name)
    assert len(after) == len(before) + 1
    td = _task_definition(aws, after[-1])["taskDefinition"]
    assert td["memory"] == "4096" and td["cpu"] == "1024"
    container = td["containerDefinitions"][0]
    assert container["image"] == change["ecs_image"]
    assert {e["name"]: e["value"] for e in container["environment"]}["LOG_LEVEL"] == "debug"
    assert _service(aws, env_name)["taskDefinition"] == after[-1]
    # the same change again is a no-op
    assert_no_change(run_playbook(endpoint, "site.yml", env_name, roles=ECS, extra_vars=change))
    assert active_revisions(aws, env_name) == after
    # and back to the defaults: one more revision, the service on it
    back = run_playbook(endpoint, "site.yml", env_name, roles=ECS)
    assert back.rc == 0 and back.failed == 0, back.explain()
    assert ecs_changes(back) == ecs_changes(run), back.changed_tasks()
    latest = active_revisions(aws, env_name)[-1]
    assert _task_definition(aws, latest)["taskDefinition"]["memory"] == "2048"
    assert _service(aws, env_name)["taskDefinition"] == latest
