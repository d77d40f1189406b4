"""The database role against the emulator: SPEC settings, idempotency, check mode, scaling change, teardown."""

from __future__ import annotations

import json
import re

import pytest
from botocore.exceptions import ClientError

from tests.integration.helpers import assert_no_change, deploy, new_env, run_playbook, teardown

ROLES = ["network", "streaming", "database"]
# The prod-like path on a throw-away env name (the prod profile also asks for a
# teardown confirmation, which is the preflight's business, not this role's).
PROD_LIKE = {
    "database_deletion_protection": True,
    "database_final_snapshot": True,
    "database_instance_count": 2,
    "database_enhanced_monitoring": True,
    "database_performance_insights": True,
    "database_min_capacity": 0.5,
    "database_max_capacity": 16,
    "database_seconds_until_auto_pause": None,
    "database_backup_retention_days": 7,
}


def tags_of(resource) -> dict:
    return {t["Key"]: t["Value"] for t in resource.get("TagList", resource.get("Tags", []))}


def assert_standard_tags(resource, env_name):
    tags = tags_of(resource)
    assert tags["Project"] == "video-processing"
    assert tags["Environment"] == env_name
    assert tags["ManagedBy"] == "ansible"
    assert tags["Component"] == "database"


def cluster_of(aws, env_name):
    return aws("rds").describe_db_clusters(DBClusterIdentifier=f"video-metadata-cluster-{env_name}")["DBClusters"][0]


def instances_of(aws, env_name):
    return aws("rds").describe_db_instances(
        Filters=[{"Name": "db-cluster-id", "Values": [f"video-metadata-cluster-{env_name}"]}]
    )["DBInstances"]


def key_arn(aws, env_name):
    return aws("kms").describe_key(KeyId=f"alias/video-processing-{env_name}")["KeyMetadata"]["Arn"]


def private_subnets(aws, env_name):
    subnets = aws("ec2").describe_subnets(
        Filters=[{"Name": "tag:Name", "Values": [f"video-processing-private-{x}-{env_name}" for x in "ab"]}]
    )["Subnets"]
    return sorted(subnets, key=lambda s: tags_of(s)["Name"])


def db_security_group_id(aws, env_name):
    groups = aws("ec2").describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [f"video-metadata-db-sg-{env_name}"]}]
    )["SecurityGroups"]
    assert len(groups) == 1
    return groups[0]["GroupId"]


def role_exists(aws, name) -> bool:
    try:
        aws("iam").get_role(RoleName=name)
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "NoSuchEntity"
        return False
    return True


@pytest.fixture(scope="module")
def env_name(endpoint):
    """One dev-sized env (ephemeral profile: min 0 ACU, auto-pause 3600 s) for the whole module."""
    name = new_env("db")
    deploy(endpoint, name, roles=ROLES)
    return name


def test_cluster_settings(env_name, aws):
    cluster = cluster_of(aws, env_name)
    assert cluster["Engine"] == "aurora-postgresql"
    assert cluster["EngineVersion"].startswith("16.")
    assert cluster["EngineMode"] == "provisioned"
    assert cluster["DatabaseName"] == "videometadata"
    assert cluster["MasterUsername"] == "videoadmin"
    assert cluster["Port"] == 5432
    assert cluster["StorageEncrypted"] is True
    assert cluster["KmsKeyId"] == key_arn(aws, env_name)
    assert cluster["BackupRetentionPeriod"] == 1
    assert cluster["DeletionProtection"] is False
    assert cluster["CopyTagsToSnapshot"] is True
    assert cluster["IAMDatabaseAuthenticationEnabled"] is True
    assert cluster["EnabledCloudwatchLogsExports"] == ["postgresql"]
    assert cluster["ServerlessV2ScalingConfiguration"] == {
        "MinCapacity": 0.0,
        "MaxCapacity": 4.0,
        "SecondsUntilAutoPause": 3600,
    }
    assert cluster["DBSubnetGroup"] == f"video-metadata-subnets-{env_name}"
    assert [g["VpcSecurityGroupId"] for g in cluster["VpcSecurityGroups"]] == [db_security_group_id(aws, env_name)]
    assert_standard_tags(cluster, env_name)
    assert tags_of(cluster)["Name"] == f"video-metadata-cluster-{env_name}"


def test_master_password_is_managed_by_rds_with_the_pipeline_key(env_name, aws):
    secret = cluster_of(aws, env_name)["MasterUserSecret"]
    assert secret["SecretStatus"] == "active"
    assert secret["KmsKeyId"] == key_arn(aws, env_name)
    described = aws("secretsmanager").describe_secret(SecretId=secret["SecretArn"])
    assert described["ARN"] == secret["SecretArn"]


def test_subnet_group(env_name, aws):
    group = aws("rds").describe_db_subnet_groups(DBSubnetGroupName=f"video-metadata-subnets-{env_name}")[
        "DBSubnetGroups"
    ][0]
    assert sorted(s["SubnetIdentifier"] for s in group["Subnets"]) == sorted(
        s["SubnetId"] for s in private_subnets(aws, env_name)
    )
    tags = aws("rds").list_tags_for_resource(ResourceName=group["DBSubnetGroupArn"])["TagList"]
    assert_standard_tags({"TagList": tags}, env_name)


def test_writer_instance(env_name, aws):
    instances = instances_of(aws, env_name)
    assert [i["DBInstanceIdentifier"] for i in instances] == [f"video-metadata-instance-1-{env_name}"]
    writer = instances[0]
    assert writer["DBInstanceClass"] == "db.serverless"
    assert writer["Engine"] == "aurora-postgresql"
    assert writer["PubliclyAccessible"] is False
    assert writer["AvailabilityZone"] == private_subnets(aws, env_name)[0]["AvailabilityZone"]
    # dev: no enhanced monitoring, no Performance Insights, no monitoring role
    assert writer.get("MonitoringInterval", 0) == 0
    assert not writer.get("PerformanceInsightsEnabled", False)
    assert not role_exists(aws, f"video-metadata-monitoring-role-{env_name}")
    assert_standard_tags(writer, env_name)
    members = cluster_of(aws, env_name)["DBClusterMembers"]
    assert [(m["DBInstanceIdentifier"], m["IsClusterWriter"]) for m in members] == [
        (writer["DBInstanceIdentifier"], True)
    ]


# A second run of the role alone changing nothing is molecule's idempotence step
# (extensions/molecule/database/); a second run of all six roles, test_full_stack.py.


def test_check_diff_on_converged_env_changes_nothing(env_name, endpoint):
    assert_no_change(run_playbook(endpoint, "site.yml", env_name, roles=["database"], check=True, diff=True))


def test_max_acu_change_is_one_change_in_place(env_name, endpoint, aws):
    before = cluster_of(aws, env_name)
    run = run_playbook(endpoint, "site.yml", env_name, roles=["database"], extra_vars={"database_max_capacity": 8})
    assert run.rc == 0, run.explain()
    assert run.changed == 1, run.changed_tasks()
    assert "Serverless v2 scaling" in run.changed_tasks()[0]
    after = cluster_of(aws, env_name)
    assert after["ServerlessV2ScalingConfiguration"] == {
        "MinCapacity": 0.0,
        "MaxCapacity": 8.0,
        "SecondsUntilAutoPause": 3600,
    }
    # same cluster, modified in place
    assert after["DbClusterResourceId"] == before["DbClusterResourceId"]


def test_bad_scaling_is_refused_before_aws(env_name, endpoint, aws):
    run = run_playbook(
        endpoint,
        "site.yml",
        env_name,
        roles=["database"],
        extra_vars={
            "database_max_capacity": 300,
            "database_min_capacity": 0.5,
            "database_seconds_until_auto_pause": 600,
        },
    )
    assert run.rc != 0
    assert "database_max_capacity must be between 1 and 256 ACU" in run.stdout
    assert "database_seconds_until_auto_pause is allowed only with database_min_capacity 0" in run.stdout
    assert cluster_of(aws, env_name)["ServerlessV2ScalingConfiguration"]["MaxCapacity"] != 300


def test_teardown_twice_leaves_nothing(env_name, endpoint, aws):
    first = teardown(endpoint, env_name, roles=ROLES)
    assert first.changed > 0
    second = teardown(endpoint, env_name, roles=ROLES)
    assert second.changed == 0, second.changed_tasks()
    rds = aws("rds")
    assert instances_of(aws, env_name) == []
    clusters = rds.describe_db_clusters()["DBClusters"]
    assert f"video-metadata-cluster-{env_name}" not in [c["DBClusterIdentifier"] for c in clusters]
    groups = rds.describe_db_subnet_groups()["DBSubnetGroups"]
    assert f"video-metadata-subnets-{env_name}" not in [g["DBSubnetGroupName"] for g in groups]
    # dev takes no final snapshot (moto keeps its own automated one, type "automated")
    manual = rds.describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]
    assert not [s for s in manual if env_name in s["DBClusterSnapshotIdentifier"]]
    # the RDS-managed secret goes with the cluster
    secrets = aws("secretsmanager").list_secrets()["SecretList"]
    assert not [s for s in secrets if env_name in json.dumps(s.get("Tags", []))]


def test_check_mode_on_empty_env_creates_nothing(endpoint, aws):
    name = new_env("dbc")
    run = run_playbook(endpoint, "site.yml", name, roles=ROLES, check=True, diff=True)
    assert run.rc == 0, run.explain()
    assert "run the network role first" not in run.stdout
    clusters = aws("rds").describe_db_clusters()["DBClusters"]
    assert f"video-metadata-cluster-{name}" not in [c["DBClusterIdentifier"] for c in clusters]


def test_missing_prerequisites_are_named(endpoint):
    run = run_playbook(endpoint, "site.yml", new_env("dbm"), roles=["database"])
    assert run.rc != 0
    assert "run the network role first" in run.stdout
    assert "run the streaming role first" in run.stdout


def test_prod_like_protection_monitoring_and_final_snapshot(endpoint, aws):
    name = new_env("dbp")
    # -vvv shows each module's arguments: the emulator ignores Performance
    # Insights, so what the role asked for is read from the run itself.
    run = deploy(endpoint, name, roles=ROLES, extra_vars=PROD_LIKE, verbosity=3)
    cluster = cluster_of(aws, name)
    assert cluster["DeletionProtection"] is True
    assert cluster["BackupRetentionPeriod"] == 7
    assert cluster["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 0.5, "MaxCapacity": 16.0}

    # writer in the first AZ, reader in the second; monitoring and PI on both
    subnets = private_subnets(aws, name)
    instances = sorted(instances_of(aws, name), key=lambda i: i["DBInstanceIdentifier"])
    assert [i["DBInstanceIdentifier"] for i in instances] == [f"video-metadata-instance-{n}-{name}" for n in (1, 2)]
    assert [i["AvailabilityZone"] for i in instances] == [s["AvailabilityZone"] for s in subnets]
    role = aws("iam").get_role(RoleName=f"video-metadata-monitoring-role-{name}")["Role"]
    for instance in instances:
        assert instance["DBInstanceClass"] == "db.serverless"
        assert instance["MonitoringInterval"] == 60
        assert instance["MonitoringRoleArn"] == role["Arn"]
    instance_task = run.stdout.split("TASK [streamflix.video_pipeline.database : Instances of")[1].split("\nTASK [")[0]
    assert instance_task.count("enable_performance_insights: true") == 2
    assert instance_task.count(f"performance_insights_kms_key_id: {key_arn(aws, name)}") == 2
    assert instance_task.count("performance_insights_retention_period: 7") == 2
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

    # teardown refuses while deletion protection is on, and deletes nothing
    refused = run_playbook(endpoint, "teardown.yml", name, roles=["database"], extra_vars=PROD_LIKE)
    assert refused.rc != 0
    assert "deletion protection on" in refused.stdout
    assert "database_lift_deletion_protection=true" in refused.stdout
    assert cluster_of(aws, name)["DeletionProtection"] is True
    assert len(instances_of(aws, name)) == 2

    # told to lift it: protection off, instances and cluster gone, final snapshot kept
    teardown(endpoint, name, roles=["database"], extra_vars={**PROD_LIKE, "database_lift_deletion_protection": True})
    clusters = aws("rds").describe_db_clusters()["DBClusters"]
    assert f"video-metadata-cluster-{name}" not in [c["DBClusterIdentifier"] for c in clusters]
    assert instances_of(aws, name) == []
    assert not role_exists(aws, f"video-metadata-monitoring-role-{name}")
    snapshots = aws("rds").describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]
    finals = [
        s["DBClusterSnapshotIdentifier"]
        for s in snapshots
        if s["DBClusterIdentifier"] == f"video-metadata-cluster-{name}"
    ]
    assert len(finals) == 1, finals
    assert re.fullmatch(rf"video-metadata-cluster-{name}-final-\d{{8}}-\d{{6}}", finals[0]), finals
