"""The database role: SPEC settings read back, a scaling change in place, bad input, missing prerequisites.

The read-backs use the shared full-stack env (conftest.py: stack_env), the
scaling change the shared env of the "changes" group (changing_env). A run of
the role alone twice, and its teardown, are extensions/molecule/database/;
prod's protection and final snapshot are test_prod.py.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.integration.helpers import new_env, run_playbook

ROLES = ["network", "streaming", "database"]


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
def env_name(stack_env):
    """The shared dev-sized env (ephemeral profile: min 0 ACU, auto-pause 3600 s)."""
    return stack_env.name


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


def test_max_acu_change_is_one_change_in_place(changing_env, endpoint, aws):
    env_name = changing_env.name
    before = cluster_of(aws, env_name)
    for max_acu in (8, None):  # the change, then back to the profile's 4 ACU
        extra = {"database_max_capacity": max_acu} if max_acu else {}
        run = run_playbook(endpoint, "site.yml", env_name, roles=["database"], extra_vars=extra)
        assert run.rc == 0, run.explain()
        assert run.changed == 1, run.changed_tasks()
        assert "Serverless v2 scaling" in run.changed_tasks()[0]
        after = cluster_of(aws, env_name)
        assert after["ServerlessV2ScalingConfiguration"] == {
            "MinCapacity": 0.0,
            "MaxCapacity": float(max_acu or 4),
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


def test_missing_prerequisites_are_named(endpoint):
    run = run_playbook(endpoint, "site.yml", new_env("dbm"), roles=["database"])
    assert run.rc != 0
    assert "run the network role first" in run.stdout
    assert "run the streaming role first" in run.stdout
