"""prod keeps its data: deletion protection, a final snapshot and a DLQ with messages stop a teardown.

One env named prod (the prod profile: writer + reader, enhanced monitoring,
Performance Insights, deletion protection, final snapshot) with the three
roles that hold data's prerequisites and data: network, streaming, database.
Its teardown is refused before the first delete while any guard holds (all of them
named at once), then told to go.
"""

from __future__ import annotations

import json
import re
import textwrap

import pytest
import yaml

from tests.integration.helpers import deploy, run_playbook, teardown
from tests.integration.test_database import cluster_of, instances_of, key_arn, private_subnets, role_exists

ROLES = ["network", "streaming", "database"]
CONFIRM = {"confirm_teardown": "prod"}


def task_result(task_output: str) -> dict:
    """The result a task printed at -v or more ("changed: [localhost] => " then YAML indented by 4)."""
    lines = task_output.split(" => \n", 1)[1].splitlines()
    block = []
    for line in lines:
        if line and not line.startswith("    "):
            break
        block.append(line)
    return yaml.safe_load(textwrap.dedent("\n".join(block)))


def queue_urls(aws):
    return [u for u in aws("sqs").list_queues().get("QueueUrls", []) if u.endswith("-dlq-prod")]


@pytest.fixture(scope="module")
def prod(endpoint):
    """The three roles deployed as prod, at -vvv.

    -vvv shows each module's arguments: the emulator ignores Performance
    Insights, so what the role asked for is read from the run itself.
    """
    return deploy(endpoint, "prod", roles=ROLES, verbosity=3)


def test_database_is_protected_monitored_and_has_a_reader(prod, aws):
    cluster = cluster_of(aws, "prod")
    assert cluster["DeletionProtection"] is True
    assert cluster["BackupRetentionPeriod"] == 7
    assert cluster["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 0.5, "MaxCapacity": 16.0}

    # writer in the first AZ, reader in the second; monitoring and PI on both
    subnets = private_subnets(aws, "prod")
    instances = sorted(instances_of(aws, "prod"), key=lambda i: i["DBInstanceIdentifier"])
    assert [i["DBInstanceIdentifier"] for i in instances] == [f"video-metadata-instance-{n}-prod" for n in (1, 2)]
    assert [i["AvailabilityZone"] for i in instances] == [s["AvailabilityZone"] for s in subnets]
    role = aws("iam").get_role(RoleName="video-metadata-monitoring-role-prod")["Role"]
    for instance in instances:
        assert instance["DBInstanceClass"] == "db.serverless"
        assert instance["MonitoringInterval"] == 60
        assert instance["MonitoringRoleArn"] == role["Arn"]
    # what the instances task set on each instance it created (its result, shown at -vvv)
    instance_task = prod.stdout.split("TASK [streamflix.video_pipeline.database : Instances of")[1].split("\nTASK [")[0]
    result = task_result(instance_task)
    assert result["created"] == [f"video-metadata-instance-{n}-prod" for n in (1, 2)]
    for instance in result["instances"]:
        assert instance["performance_insights_enabled"] is True
        assert instance["performance_insights_kms_key_id"] == key_arn(aws, "prod")
        assert instance["performance_insights_retention_period"] == 7
    trust = role["AssumeRolePolicyDocument"]
    if isinstance(trust, str):
        trust = json.loads(trust)
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "monitoring.rds.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    assert aws("iam").list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"] == []
    policy = aws("iam").get_role_policy(RoleName=role["RoleName"], PolicyName="enhanced-monitoring")["PolicyDocument"]
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert actions == {
        "logs:CreateLogGroup",
        "logs:PutRetentionPolicy",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "logs:DescribeLogStreams",
        "logs:GetLogEvents",
    }


def vpc_ids(aws):
    vpcs = aws("ec2").describe_vpcs(Filters=[{"Name": "tag:Environment", "Values": ["prod"]}])["Vpcs"]
    return [v["VpcId"] for v in vpcs]


def test_teardown_refuses_before_the_first_delete_until_told(prod, endpoint, aws):
    aws("sqs").send_message(QueueUrl=queue_urls(aws)[0], MessageBody='{"video": "failed.mp4"}')

    def nothing_deleted():
        assert cluster_of(aws, "prod")["DeletionProtection"] is True
        assert len(instances_of(aws, "prod")) == 2
        assert len(queue_urls(aws)) == 1
        assert len(vpc_ids(aws)) == 1
        assert role_exists(aws, "video-metadata-monitoring-role-prod")

    # both guards stop it, named in one message, before anything is deleted
    refused = run_playbook(endpoint, "teardown.yml", "prod", roles=ROLES, extra_vars=CONFIRM)
    assert refused.rc != 0
    assert "nothing was deleted" in refused.stdout, refused.explain()
    assert "deletion protection on" in refused.stdout
    assert "database_lift_deletion_protection=true" in refused.stdout
    assert "streaming_force_delete_dlq=true" in refused.stdout
    assert refused.changed == 0
    nothing_deleted()

    # one guard lifted, the other still stops it: still nothing deleted
    lift = {**CONFIRM, "database_lift_deletion_protection": True}
    refused = run_playbook(endpoint, "teardown.yml", "prod", roles=ROLES, extra_vars=lift)
    assert refused.rc != 0
    assert "streaming_force_delete_dlq=true" in refused.stdout, refused.explain()
    assert "database_lift_deletion_protection=true" not in refused.stdout.split("Refusing to tear down")[-1]
    nothing_deleted()

    # both lifted: everything goes, the final snapshot is kept
    teardown(endpoint, "prod", roles=ROLES, extra_vars={**lift, "streaming_force_delete_dlq": True})
    assert queue_urls(aws) == []
    clusters = aws("rds").describe_db_clusters()["DBClusters"]
    assert "video-metadata-cluster-prod" not in [c["DBClusterIdentifier"] for c in clusters]
    assert instances_of(aws, "prod") == []
    assert not role_exists(aws, "video-metadata-monitoring-role-prod")
    snapshots = aws("rds").describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]
    finals = [
        s["DBClusterSnapshotIdentifier"] for s in snapshots if s["DBClusterIdentifier"] == "video-metadata-cluster-prod"
    ]
    assert len(finals) == 1, finals
    assert re.fullmatch(r"video-metadata-cluster-prod-final-\d{8}-\d{6}", finals[0]), finals
