"""tagged_resources_info against the emulator, and the playbook steps built on it.

Resources are made with boto3 (not the roles), so this test does not depend on
which roles exist: env A gets one of every SPEC resource type, env "A-b" (a name
that starts like A) and env "c-A" (a name that ends like A) get look-alikes that
must not be listed for A. The run summary (playbooks/tasks/summary.yml) and the
teardown sweep (playbooks/tasks/sweep.yml) run in a small play with the facts
preflight would set.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.integration.helpers import REPO, VENV_BIN, ansible_env, new_env, run_playbook

ALL_ROLES = ["network", "streaming", "database", "secrets", "ecs", "monitoring"]

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


def run_module(endpoint, env_name, check=False):
    args = {"environment": env_name}
    argv = [str(VENV_BIN / "ansible"), "localhost", "-m", "streamflix.video_pipeline.tagged_resources_info"]
    argv += ["-a", json.dumps(args)]
    if check:
        argv.append("--check")
    environ = ansible_env(
        endpoint,
        {"ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"},
    )
    # The module takes its endpoint and region from the AWS_* environment, as boto3 does.
    environ["AWS_REGION"] = "us-east-1"
    proc = subprocess.run(argv, cwd=REPO, env=environ, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    data = json.loads(proc.stdout)
    return data["plays"][0]["tasks"][0]["hosts"]["localhost"]


def make_env(aws, env, full=True):
    """Create SPEC-named, tagged resources of one environment; return {(type, name)} expected to be listed."""
    tags = {"Project": "video-processing", "Environment": env, "ManagedBy": "ansible"}
    tag_list = [{"Key": k, "Value": v} for k, v in tags.items()]
    expected = set()

    def spec(resource_type, name):
        return [{"ResourceType": resource_type, "Tags": [*tag_list, {"Key": "Name", "Value": name}]}]

    ec2 = aws("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16", TagSpecifications=spec("vpc", f"video-processing-vpc-{env}"))
    vpc_id = vpc["Vpc"]["VpcId"]
    subnets = []
    for letter, cidr, zone in (("a", "10.9.0.0/20", "us-east-1a"), ("b", "10.9.16.0/20", "us-east-1b")):
        name = f"video-processing-private-{letter}-{env}"
        subnet = ec2.create_subnet(
            VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=zone, TagSpecifications=spec("subnet", name)
        )
        subnets.append(subnet["Subnet"]["SubnetId"])
        expected.add(("ec2:subnet", name))
    igw = ec2.create_internet_gateway(TagSpecifications=spec("internet-gateway", f"video-processing-igw-{env}"))
    ec2.attach_internet_gateway(InternetGatewayId=igw["InternetGateway"]["InternetGatewayId"], VpcId=vpc_id)
    ec2.create_route_table(VpcId=vpc_id, TagSpecifications=spec("route-table", f"video-processing-public-rt-{env}"))
    sg_name = f"video-processing-ecs-sg-{env}"
    ec2.create_security_group(
        GroupName=sg_name, Description="ecs", VpcId=vpc_id, TagSpecifications=spec("security-group", sg_name)
    )
    expected |= {
        ("ec2:vpc", f"video-processing-vpc-{env}"),
        ("ec2:internet-gateway", f"video-processing-igw-{env}"),
        ("ec2:route-table", f"video-processing-public-rt-{env}"),
        ("ec2:security-group", sg_name),
    }

    kinesis_name = f"video-ingestion-stream-{env}"
    aws("kinesis").create_stream(StreamName=kinesis_name, ShardCount=1, Tags=tags)
    expected.add(("kinesis:stream", kinesis_name))
    queue = f"video-processing-dlq-{env}"
    aws("sqs").create_queue(QueueName=queue, tags=tags)
    expected.add(("sqs:queue", queue))
    topic = f"video-processing-alarms-{env}"
    aws("sns").create_topic(Name=topic, Tags=tag_list)
    expected.add(("sns:topic", topic))
    role = f"video-processing-task-role-{env}"
    aws("iam").create_role(RoleName=role, AssumeRolePolicyDocument=TRUST, Tags=tag_list)
    expected.add(("iam:role", role))
    group = f"/ecs/video-processing-{env}"
    aws("logs").create_log_group(logGroupName=group, tags=tags)
    expected.add(("logs:log-group", group))
    ecs_tags = [{"key": k, "value": v} for k, v in tags.items()]
    cluster = f"video-processing-cluster-{env}"
    aws("ecs").create_cluster(clusterName=cluster, tags=ecs_tags)
    expected.add(("ecs:cluster", cluster))
    family = f"video-processing-{env}"
    definition = {"name": "worker", "image": "public.ecr.aws/docker/library/busybox:latest", "memory": 512}
    aws("ecs").register_task_definition(family=family, containerDefinitions=[definition], tags=ecs_tags)
    expected.add(("ecs:task-definition", f"{family}:1"))
    alarm = f"video-processing-dlq-messages-{env}"
    aws("cloudwatch").put_metric_alarm(
        AlarmName=alarm,
        MetricName="ApproximateNumberOfMessagesVisible",
        Namespace="AWS/SQS",
        Statistic="Maximum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        Tags=tag_list,
    )
    expected.add(("cloudwatch:alarm", alarm))
    dashboard = f"video-processing-{env}"
    aws("cloudwatch").put_dashboard(DashboardName=dashboard, DashboardBody=json.dumps({"widgets": []}))
    expected.add(("cloudwatch:dashboard", dashboard))
    if not full:
        return expected

    key = aws("kms").create_key(Tags=[{"TagKey": k, "TagValue": v} for k, v in tags.items()])["KeyMetadata"]
    aws("kms").create_alias(AliasName=f"alias/video-processing-{env}", TargetKeyId=key["KeyId"])
    expected.add(("kms:key", f"alias/video-processing-{env}"))
    rds = aws("rds")
    subnet_group = f"video-metadata-subnets-{env}"
    rds.create_db_subnet_group(
        DBSubnetGroupName=subnet_group, DBSubnetGroupDescription="db", SubnetIds=subnets, Tags=tag_list
    )
    expected.add(("rds:subgrp", subnet_group))
    db_cluster = f"video-metadata-cluster-{env}"
    rds.create_db_cluster(
        DBClusterIdentifier=db_cluster,
        Engine="aurora-postgresql",
        MasterUsername="videoadmin",
        MasterUserPassword="not-a-secret-1",  # emulator only
        DBSubnetGroupName=subnet_group,
        Tags=tag_list,
    )
    expected.add(("rds:cluster", db_cluster))
    secret = f"video-processing-db-credentials-{env}"
    aws("secretsmanager").create_secret(Name=secret, SecretString="{}", Tags=tag_list)
    expected.add(("secretsmanager:secret", secret))
    return expected


@pytest.fixture(scope="module")
def envs(aws):
    a = new_env("tr")
    b = f"{a}-b"  # starts like A: family and log group prefixes must not leak
    c = f"c-{a}"  # ends like A: its alarm name fits A's alarm pattern
    expected = make_env(aws, a)
    make_env(aws, b, full=False)
    aws("cloudwatch").put_metric_alarm(
        AlarmName=f"video-processing-dlq-messages-{c}",
        MetricName="NumberOfMessagesSent",
        Namespace="AWS/SQS",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
        Tags=[{"Key": "Project", "Value": "video-processing"}, {"Key": "Environment", "Value": c}],
    )
    return {"a": a, "b": b, "expected": expected}


def listed(result):
    return {(item["type"], item["name"]) for item in result["resources"]}


def test_lists_exactly_the_environments_resources(endpoint, envs, aws):
    result = run_module(endpoint, envs["a"])
    assert result["changed"] is False
    assert listed(result) == envs["expected"]
    assert result["count"] == len(envs["expected"])
    sources = {item["type"]: item["source"] for item in result["resources"]}
    # moto's tagging API does not index these: only the direct lookups find them
    assert sources["kinesis:stream"] == sources["iam:role"] == sources["rds:subgrp"] == "lookup"
    assert sources["ec2:vpc"] == "both"
    queue = next(item for item in result["resources"] if item["type"] == "sqs:queue")
    assert queue["url"] == aws("sqs").get_queue_url(QueueName=f"video-processing-dlq-{envs['a']}")["QueueUrl"]


def test_the_look_alike_environment_gets_only_its_own(endpoint, envs):
    result = run_module(endpoint, envs["b"], check=True)
    names = {name for _type, name in listed(result)}
    assert names and all(name.endswith(envs["b"]) or name.endswith(f"{envs['b']}:1") for name in names), names
    assert not listed(result) & envs["expected"]


def run_step(endpoint, tmp_path, step, env_name, check=False, **facts):
    """Run playbooks/tasks/<step>.yml alone, with the facts that preflight sets."""
    playbook = tmp_path / f"{step}.yml"
    # Relative template names resolve against the play's directory, as in playbooks/.
    if not (tmp_path / "templates").exists():
        (tmp_path / "templates").symlink_to(REPO / "playbooks" / "templates")
    playbook.write_text(
        "- name: Run one pipeline step\n"
        "  hosts: localhost\n"
        "  gather_facts: false\n"
        "  tasks:\n"
        f"    - name: Step\n      ansible.builtin.import_tasks: {REPO}/playbooks/tasks/{step}.yml\n"
    )
    variables = {
        "video_pipeline_env": env_name,
        "video_pipeline_aws_region": "us-east-1",
        "video_pipeline_profile_name": "ephemeral",
        "video_pipeline_target": "emulator",
        "video_pipeline_account_id": "123456789012",
        "video_pipeline_outputs_dir": str(tmp_path / "outputs"),
        "video_pipeline_all_roles": ALL_ROLES,
        "video_pipeline_ordered_roles": list(reversed(ALL_ROLES)),
        **facts,
    }
    # JSON results keep each message on one line (YAML would fold long ones).
    environ = {"AWS_REGION": "us-east-1", "ANSIBLE_CALLBACK_RESULT_FORMAT": "json"}
    return run_playbook(endpoint, str(playbook), None, extra_vars=variables, check=check, environ=environ)


def test_summary_is_written_once_and_then_left_alone(endpoint, envs, aws, tmp_path):
    # A run of some roles (here: monitoring alone) asks the tagging API what exists;
    # a run of all six builds the summary from what the roles published
    # (test_full_stack.py reads that one).
    a = envs["a"]
    partial = {"video_pipeline_ordered_roles": ["monitoring"]}
    first = run_step(endpoint, tmp_path, "summary", a, **partial)
    assert first.rc == 0 and first.changed >= 1, first.explain()
    written = tmp_path / "outputs" / f"{a}.json"
    summary = json.loads(written.read_text())
    stream = aws("kinesis").describe_stream_summary(StreamName=f"video-ingestion-stream-{a}")
    assert summary["stream"] == {
        "name": f"video-ingestion-stream-{a}",
        "arn": stream["StreamDescriptionSummary"]["StreamARN"],
    }
    cluster = aws("rds").describe_db_clusters(DBClusterIdentifier=f"video-metadata-cluster-{a}")["DBClusters"][0]
    assert summary["database"]["endpoint"] == cluster["Endpoint"]
    assert summary["database"]["reader_endpoint"] == cluster["ReaderEndpoint"]
    assert summary["secrets"] == [f"video-processing-db-credentials-{a}"]
    assert summary["ecs"] == {"cluster": f"video-processing-cluster-{a}", "service": None}
    assert summary["dlq_url"] == aws("sqs").get_queue_url(QueueName=f"video-processing-dlq-{a}")["QueueUrl"]
    assert summary["dashboard"] == f"video-processing-{a}"
    assert summary["console"] is None  # links only for real AWS
    assert "ECS service      not deployed" in first.stdout
    assert f"Kinesis stream   video-ingestion-stream-{a}" in first.stdout

    second = run_step(endpoint, tmp_path, "summary", a, **partial)
    assert second.rc == 0 and second.changed == 0, second.changed_tasks()
    assert json.loads(written.read_text()) == summary


def test_summary_in_check_mode_writes_nothing(endpoint, tmp_path):
    name = new_env("sum")
    run = run_step(endpoint, tmp_path, "summary", name, check=True)
    assert run.rc == 0 and run.changed == 0, run.explain()
    assert "Aurora writer    not deployed" in run.stdout
    assert not (tmp_path / "outputs").exists()


def test_sweep_fails_naming_every_leftover(endpoint, envs, tmp_path):
    b = envs["b"]
    leftovers = run_module(endpoint, b)["resources"]
    assert len(leftovers) > 5
    run = run_step(endpoint, tmp_path, "sweep", b)
    assert run.rc != 0 and run.failed == 1, run.explain()
    assert f"Teardown of {b} left {len(leftovers)} resource(s) behind" in run.stdout
    for item in leftovers:
        assert f"{item['type']} {item['name']} {item['arn']}" in run.stdout


def test_sweep_passes_on_an_empty_environment_and_removes_the_summary(endpoint, tmp_path):
    name = new_env("swp")
    (tmp_path / "outputs").mkdir()
    (tmp_path / "outputs" / f"{name}.json").write_text("{}\n")
    run = run_step(endpoint, tmp_path, "sweep", name)
    assert run.rc == 0 and run.failed == 0, run.explain()
    assert "TASK [List what is left of" in run.stdout
    assert not (tmp_path / "outputs" / f"{name}.json").exists()


def test_sweep_is_skipped_after_a_partial_teardown(endpoint, envs, tmp_path):
    run = run_step(endpoint, tmp_path, "sweep", envs["b"], video_pipeline_ordered_roles=["network"])
    assert run.rc == 0, run.explain()
    assert "Sweep skipped: this teardown covered only network" in run.stdout
    assert "TASK [List what is left of" not in run.stdout


def test_deleting_moves_resources_out_of_the_count(endpoint, envs, aws):
    """Pending deletions and kept snapshots are reported apart and do not count."""
    a = envs["a"]
    key_id = aws("kms").describe_key(KeyId=f"alias/video-processing-{a}")["KeyMetadata"]["KeyId"]
    aws("kms").schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    aws("secretsmanager").delete_secret(SecretId=f"video-processing-db-credentials-{a}", RecoveryWindowInDays=7)
    aws("rds").create_db_cluster_snapshot(
        DBClusterIdentifier=f"video-metadata-cluster-{a}", DBClusterSnapshotIdentifier=f"final-{a}"
    )
    aws("ecs").deregister_task_definition(taskDefinition=f"video-processing-{a}:1")
    aws("sqs").delete_queue(QueueUrl=aws("sqs").get_queue_url(QueueName=f"video-processing-dlq-{a}")["QueueUrl"])

    result = run_module(endpoint, a)
    gone = {
        ("kms:key", f"alias/video-processing-{a}"),
        ("secretsmanager:secret", f"video-processing-db-credentials-{a}"),
        ("ecs:task-definition", f"video-processing-{a}:1"),
        ("sqs:queue", f"video-processing-dlq-{a}"),
    }
    assert listed(result) == envs["expected"] - gone
    pending = {(item["type"], item["name"]) for item in result["pending_deletion"]}
    assert pending == {
        ("kms:key", f"alias/video-processing-{a}"),
        ("secretsmanager:secret", f"video-processing-db-credentials-{a}"),
    }
    retained = {(item["type"], item["id"]) for item in result["retained"]}
    assert ("rds:cluster-snapshot", f"final-{a}") in retained
    assert ("ecs:task-definition", f"video-processing-{a}:1") in retained


def test_an_unknown_environment_has_nothing(endpoint):
    result = run_module(endpoint, new_env("none"))
    assert result["count"] == 0 and result["resources"] == []
