"""aurora_cluster_sync: validation, change computation and the module flow against an in-memory RDS."""

from __future__ import annotations

from unittest import mock

import pytest
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry, RetryingBotoClientWrapper
from ansible_collections.streamflix.video_pipeline.plugins.module_utils import aurora
from ansible_collections.streamflix.video_pipeline.plugins.modules import aurora_cluster_sync as cluster_module

from tests.unit.plugins.modules import fake_rds
from tests.unit.plugins.modules.fake_rds import FakeRDS, subnet_group, tag_list
from tests.unit.plugins.modules.fakes import client_error, run_main

# -- validation ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"min_capacity": -0.5}, "min_capacity must be between 0 and 256 ACU in steps of 0.5"),
        ({"min_capacity": 256.5}, "min_capacity must be between 0 and 256 ACU in steps of 0.5"),
        ({"min_capacity": 1.25}, "min_capacity must be between 0 and 256 ACU in steps of 0.5"),
        (
            {"max_capacity": 300},
            "max_capacity must be between 1 and 256 ACU in steps of 0.5 (0, 0.5, 1, 1.5, ...), got 300",
        ),
        ({"max_capacity": 0.5}, "max_capacity must be between 1 and 256 ACU"),
        ({"max_capacity": 0}, "max_capacity must be between 1 and 256 ACU"),
        ({"max_capacity": 7.3}, "max_capacity must be between 1 and 256 ACU"),
        ({"min_capacity": 8, "max_capacity": 4}, "min_capacity (8) must not be greater than max_capacity (4)"),
        (
            {"min_capacity": 0.5, "max_capacity": 4, "seconds_until_auto_pause": 600},
            "seconds_until_auto_pause is allowed only with min_capacity 0",
        ),
        (
            {"min_capacity": 0, "max_capacity": 4, "seconds_until_auto_pause": 299},
            "seconds_until_auto_pause must be between 300 and 86400 seconds, got 299",
        ),
        (
            {"min_capacity": 0, "max_capacity": 4, "seconds_until_auto_pause": 86401},
            "seconds_until_auto_pause must be between 300 and 86400 seconds, got 86401",
        ),
        ({"seconds_until_auto_pause": 0}, "seconds_until_auto_pause must be between 300 and 86400"),
        ({"min_capacity": "a lot"}, "min_capacity must be a number of ACUs"),
        ({"max_capacity": True}, "max_capacity must be a number of ACUs"),
        ({"seconds_until_auto_pause": 600.5}, "seconds_until_auto_pause must be a whole number"),
    ],
)
def test_invalid_input_is_refused_with_the_option_and_range(kwargs, needle):
    problems = aurora.validate_scaling(**kwargs)
    assert any(needle in p for p in problems), problems


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_capacity": 0, "max_capacity": 1},
        {"min_capacity": 0, "max_capacity": 4, "seconds_until_auto_pause": 300},
        {"min_capacity": 0, "max_capacity": 256, "seconds_until_auto_pause": 86400},
        {"min_capacity": 0.5, "max_capacity": 0.5 + 0.5},
        {"min_capacity": 256, "max_capacity": 256},
        {"min_capacity": 2.5, "max_capacity": 2.5},
        {"max_capacity": 8},
        {"seconds_until_auto_pause": 3600},  # min comes from the cluster
        {},
    ],
)
def test_valid_input_passes(kwargs):
    assert aurora.validate_scaling(**kwargs) == []


def test_every_problem_is_reported_at_once():
    problems = aurora.validate_scaling(min_capacity=300, max_capacity=0.3, seconds_until_auto_pause=5)
    assert len(problems) == 4, problems


# -- current / wanted / changes ---------------------------------------------------


def cluster(min_capacity=0.5, max_capacity=4.0, seconds=None, **extra):
    config = {"MinCapacity": min_capacity, "MaxCapacity": max_capacity}
    if seconds is not None:
        config["SecondsUntilAutoPause"] = seconds
    base = {
        "DBClusterIdentifier": "c1",
        "Engine": "aurora-postgresql",
        "EngineVersion": "16.4",
        "EngineMode": "provisioned",
        "Status": "available",
        "ServerlessV2ScalingConfiguration": config,
    }
    base.update(extra)
    return base


def test_current_scaling_reads_snake_case():
    assert aurora.current_scaling(cluster(0, 4, 3600)) == {
        "min_capacity": 0.0,
        "max_capacity": 4.0,
        "seconds_until_auto_pause": 3600,
    }
    assert aurora.current_scaling({}) == {"min_capacity": None, "max_capacity": None, "seconds_until_auto_pause": None}


def test_same_values_mean_no_change_even_with_an_extra_aws_key():
    # AWS may report SecondsUntilAutoPause although the minimum is above 0:
    # it is not our business then, so it is no difference.
    current = aurora.current_scaling(cluster(0.5, 4, 300))
    wanted = aurora.wanted_scaling(current, 0.5, 4)
    assert wanted["seconds_until_auto_pause"] is None
    assert aurora.compute_changes(current, wanted) == {}


def test_only_the_differing_field_is_a_change():
    current = aurora.current_scaling(cluster(0.5, 4))
    wanted = aurora.wanted_scaling(current, 0.5, 8)
    assert aurora.compute_changes(current, wanted) == {"max_capacity": {"before": 4.0, "after": 8.0}}


def test_left_out_options_keep_the_current_values():
    current = aurora.current_scaling(cluster(0, 4, 3600))
    wanted = aurora.wanted_scaling(current, max_capacity=8)
    assert wanted == {"min_capacity": 0.0, "max_capacity": 8.0, "seconds_until_auto_pause": 3600}


def test_auto_pause_on_and_its_delay():
    current = aurora.current_scaling(cluster(0.5, 4))
    wanted = aurora.wanted_scaling(current, 0, 4, 600)
    assert aurora.compute_changes(current, wanted) == {
        "min_capacity": {"before": 0.5, "after": 0.0},
        "seconds_until_auto_pause": {"before": None, "after": 600},
    }
    paused = aurora.current_scaling(cluster(0, 4, 600))
    assert aurora.compute_changes(paused, aurora.wanted_scaling(paused, 0, 4, 900)) == {
        "seconds_until_auto_pause": {"before": 600, "after": 900}
    }


def test_auto_pause_off_is_a_change_of_the_minimum_only():
    current = aurora.current_scaling(cluster(0, 4, 600))
    wanted = aurora.wanted_scaling(current, 0.5, 4)
    assert aurora.compute_changes(current, wanted) == {"min_capacity": {"before": 0.0, "after": 0.5}}


def test_min_zero_without_seconds_keeps_no_opinion():
    current = aurora.current_scaling(cluster(0.5, 4))
    wanted = aurora.wanted_scaling(current, 0, 4)
    assert wanted["seconds_until_auto_pause"] is None
    assert set(aurora.compute_changes(current, wanted)) == {"min_capacity"}


def test_scaling_request_sends_min_and_max_together_and_auto_pause_only_with_min_zero():
    assert aurora.scaling_request({"min_capacity": 0.5, "max_capacity": 8.0, "seconds_until_auto_pause": 600}) == {
        "MinCapacity": 0.5,
        "MaxCapacity": 8.0,
    }
    assert aurora.scaling_request({"min_capacity": 0.0, "max_capacity": 4.0, "seconds_until_auto_pause": 600}) == {
        "MinCapacity": 0.0,
        "MaxCapacity": 4.0,
        "SecondsUntilAutoPause": 600,
    }
    config = aurora.scaling_request({"min_capacity": 0.0, "max_capacity": 4.0, "seconds_until_auto_pause": None})
    assert "SecondsUntilAutoPause" not in config


# -- engine support ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("engine", "version", "expected"),
    [
        ("aurora-postgresql", "16.4", (16, 4)),
        ("aurora-postgresql", "13.6", (13, 6)),
        ("aurora-mysql", "8.0.mysql_aurora.3.05.2", (3, 5, 2)),
        ("aurora-mysql", "5.7.mysql_aurora.2.11.2", (2, 11, 2)),
        ("aurora-mysql", "8.0", None),
        ("aurora-postgresql", None, None),
    ],
)
def test_parse_engine_version(engine, version, expected):
    assert aurora.parse_engine_version(engine, version) == expected


@pytest.mark.parametrize(
    ("extra", "auto_pause", "needle"),
    [
        ({"Engine": "postgres"}, False, "Aurora Serverless v2 needs one of aurora-postgresql, aurora-mysql"),
        ({"Engine": "aurora"}, False, "runs engine aurora"),
        ({"EngineMode": "serverless"}, False, "engine_mode serverless"),
        ({"EngineVersion": "12.7"}, False, "too old for Aurora Serverless v2"),
        ({"EngineVersion": "14.2"}, False, "needs 14.3 or later"),
        ({"Engine": "aurora-mysql", "EngineVersion": "5.7.mysql_aurora.2.11.2"}, False, "too old"),
        ({"EngineVersion": "16.2"}, True, "too old for min_capacity 0 / auto-pause (needs 16.3"),
        ({"Engine": "aurora-mysql", "EngineVersion": "8.0.mysql_aurora.3.05.2"}, True, "needs 3.8.0"),
    ],
)
def test_clusters_that_cannot_run_serverless_v2(extra, auto_pause, needle):
    problem = aurora.serverless_v2_problem(cluster(**extra), wants_auto_pause=auto_pause)
    assert problem and needle in problem, problem


@pytest.mark.parametrize(
    ("extra", "auto_pause"),
    [
        ({}, True),
        ({"EngineVersion": "16.2"}, False),
        ({"EngineVersion": "17.5"}, True),
        ({"EngineVersion": "18.1"}, True),  # a newer line than we know: AWS decides
        ({"Engine": "aurora-mysql", "EngineVersion": "8.0.mysql_aurora.3.08.0"}, True),
    ],
)
def test_clusters_that_can(extra, auto_pause):
    assert aurora.serverless_v2_problem(cluster(**extra), wants_auto_pause=auto_pause) is None


# -- the managed master secret -------------------------------------------------------

KEY = "arn:aws:kms:us-east-1:123456789012:key/1111-2222"


def test_unmanaged_password_is_enabled():
    assert aurora.master_secret_plan(cluster(), KEY) == ("enable", None)


def test_managed_with_the_same_key_needs_nothing():
    managed = cluster(MasterUserSecret={"SecretArn": "arn:s", "SecretStatus": "active", "KmsKeyId": KEY})
    assert aurora.master_secret_plan(managed, KEY) == ("none", None)
    # a bare key id names the same key
    assert aurora.master_secret_plan(managed, "1111-2222") == ("none", None)


def test_managed_with_another_key_is_refused():
    managed = cluster(MasterUserSecret={"SecretArn": "arn:s", "KmsKeyId": KEY.replace("1111", "9999")})
    action, why = aurora.master_secret_plan(managed, KEY)
    assert action == "fail"
    assert "cannot change the key of an existing managed secret" in why


# -- the module against the in-memory RDS ------------------------------------------------

GROUP_TAGS = {"Env": "dev", "Name": "g1"}
# What the database role asks for (dev profile).
ARGS = {
    "cluster_identifier": "c1",
    "engine": "aurora-postgresql",
    "engine_version": "16.6",
    "database_name": "videometadata",
    "master_username": "videoadmin",
    "master_user_secret_kms_key_id": KEY,
    "port": 5432,
    "db_subnet_group": {
        "name": "g1",
        "description": "private subnets",
        "subnet_ids": ["subnet-a", "subnet-b"],
        "tags": GROUP_TAGS,
    },
    "vpc_security_group_ids": ["sg-1"],
    "kms_key_id": KEY,
    "backup_retention_period": 1,
    "deletion_protection": False,
    "copy_tags_to_snapshot": True,
    "enable_iam_database_authentication": True,
    "enable_cloudwatch_logs_exports": ["postgresql"],
    "min_capacity": 0,
    "max_capacity": 4,
    "seconds_until_auto_pause": 3600,
    "tags": {"Env": "dev", "Name": "c1"},
    "poll_interval": 1,
}


def converged(**extra):
    """An RDS holding exactly what ARGS asks for (plus `extra` on the cluster)."""
    return FakeRDS(cluster=fake_rds.cluster(**extra), group=subnet_group(), group_tags=GROUP_TAGS)


def run(client, check_mode=False, **overrides):
    args = dict(ARGS, **overrides)
    module_args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=True)
    with mock.patch.object(aurora.time, "sleep"):
        result, services = run_main(cluster_module.main, module_args, {"rds": client})
    result["client_created"] = bool(services)
    return result


def test_create_sends_every_setting_in_one_call_and_modifies_nothing_after():
    client = FakeRDS()
    result = run(client)
    assert result["failed"] is False and result["changed"] is True
    assert client.write_names() == ["create_db_subnet_group", "create_db_cluster"]
    (group,) = client.called("create_db_subnet_group")
    assert group["SubnetIds"] == ["subnet-a", "subnet-b"]
    assert group["Tags"] == tag_list(GROUP_TAGS)
    (request,) = client.called("create_db_cluster")
    assert request == {
        "DBClusterIdentifier": "c1",
        "Engine": "aurora-postgresql",
        "EngineVersion": "16.6",
        "DatabaseName": "videometadata",
        "MasterUsername": "videoadmin",
        # the managed master password and the scaling: no modify needed after creation
        "ManageMasterUserPassword": True,
        "MasterUserSecretKmsKeyId": KEY,
        "ServerlessV2ScalingConfiguration": {"MinCapacity": 0.0, "MaxCapacity": 4.0, "SecondsUntilAutoPause": 3600},
        "Port": 5432,
        "DBSubnetGroupName": "g1",
        "VpcSecurityGroupIds": ["sg-1"],
        "StorageEncrypted": True,
        "KmsKeyId": KEY,
        "BackupRetentionPeriod": 1,
        "DeletionProtection": False,
        "CopyTagsToSnapshot": True,
        "EnableIAMDatabaseAuthentication": True,
        "EnableCloudwatchLogsExports": ["postgresql"],
        "Tags": tag_list({"Env": "dev", "Name": "c1"}),
    }
    # no wait asked for: the answer of CreateDBCluster is the result (endpoints included)
    assert client.called("describe_db_clusters") == [{"DBClusterIdentifier": "c1"}]
    assert result["cluster"]["status"] == "creating"
    assert result["cluster"]["endpoint"].startswith("c1.cluster-")
    assert result["cluster"]["master_user_secret"]["secret_arn"] == fake_rds.MASTER_SECRET_ARN
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["max_capacity"] == 4.0


def test_create_with_a_minimum_above_zero_sends_no_auto_pause():
    client = FakeRDS()
    run(client, min_capacity=0.5, max_capacity=16, seconds_until_auto_pause=None)
    (request,) = client.called("create_db_cluster")
    assert request["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 0.5, "MaxCapacity": 16.0}


def test_create_and_wait_polls_until_available():
    client = FakeRDS()
    client.cluster_statuses = ["creating", "creating", "available"]
    result = run(client, wait=True)
    assert result["cluster"]["status"] == "available"
    assert len(client.called("describe_db_clusters")) == 4  # the first read, then three polls


def test_converged_cluster_makes_no_write():
    client = converged()
    result = run(client)
    assert result["failed"] is False
    assert result["changed"] is False, result["changes"]
    assert client.writes() == []
    # one read per resource: the group (+ its tags: DescribeDBSubnetGroups has none), the cluster (tags included)
    assert [method for method, _ in client.calls] == [
        "describe_db_subnet_groups",
        "list_tags_for_resource",
        "describe_db_clusters",
    ]
    assert result["diff"]["before"] == result["diff"]["after"]
    assert result["cluster"]["tags"] == {"Env": "dev", "Name": "c1"}


def test_drift_is_one_modify_with_only_the_differences():
    client = converged(
        DeletionProtection=True,
        BackupRetentionPeriod=7,
        EnabledCloudwatchLogsExports=["postgresql", "upgrade"],
        ServerlessV2ScalingConfiguration={"MinCapacity": 0.0, "MaxCapacity": 12.0, "SecondsUntilAutoPause": 3600},
    )
    result = run(client)
    assert result["changed"] is True
    assert client.write_names() == ["modify_db_cluster"]
    (request,) = client.called("modify_db_cluster")
    assert request == {
        "DBClusterIdentifier": "c1",
        "ApplyImmediately": True,
        "DeletionProtection": False,
        "BackupRetentionPeriod": 1,
        "CloudwatchLogsExportConfiguration": {"DisableLogTypes": ["upgrade"]},
        # min and max travel together; the delay with a minimum of 0
        "ServerlessV2ScalingConfiguration": {"MinCapacity": 0.0, "MaxCapacity": 4.0, "SecondsUntilAutoPause": 3600},
    }
    assert set(result["changes"]) == {
        "deletion_protection",
        "backup_retention_period",
        "enable_cloudwatch_logs_exports",
        "max_capacity",
    }
    assert result["changes"]["max_capacity"] == {"before": 12.0, "after": 4.0}


def test_security_groups_iam_auth_and_port_drift():
    client = converged(
        VpcSecurityGroups=[{"VpcSecurityGroupId": "sg-9", "Status": "active"}],
        IAMDatabaseAuthenticationEnabled=False,
        Port=5433,
    )
    run(client)
    (request,) = client.called("modify_db_cluster")
    assert request["VpcSecurityGroupIds"] == ["sg-1"]
    assert request["EnableIAMDatabaseAuthentication"] is True
    assert request["Port"] == 5432
    assert "ServerlessV2ScalingConfiguration" not in request


def test_only_the_maximum_given_keeps_the_minimum_and_the_auto_pause():
    client = converged()
    run(client, min_capacity=None, seconds_until_auto_pause=None, max_capacity=8)
    (request,) = client.called("modify_db_cluster")
    assert request["ServerlessV2ScalingConfiguration"] == {
        "MinCapacity": 0.0,
        "MaxCapacity": 8.0,
        "SecondsUntilAutoPause": 3600,
    }


def test_a_password_not_yet_managed_by_rds_is_handed_over_in_the_same_modify():
    # a cluster made by amazon.aws.rds_cluster (one-time password) is adopted
    client = converged(MasterUserSecret=None)
    result = run(client)
    (request,) = client.called("modify_db_cluster")
    assert request == {
        "DBClusterIdentifier": "c1",
        "ApplyImmediately": True,
        "ManageMasterUserPassword": True,
        "MasterUserSecretKmsKeyId": KEY,
    }
    assert result["changes"]["manage_master_user_password"] == {"before": False, "after": True}


def test_a_secret_managed_with_another_key_fails_without_writing():
    other = KEY.replace("1111", "9999")
    client = converged(
        MasterUserSecret={"SecretArn": fake_rds.MASTER_SECRET_ARN, "SecretStatus": "active", "KmsKeyId": other}
    )
    result = run(client)
    assert result["failed"] is True
    assert "cannot change the key of an existing managed secret" in result["msg"]
    assert client.writes() == []


def test_settings_fixed_at_creation_are_a_warning_not_a_change():
    client = converged(DatabaseName="other", KmsKeyId="arn:aws:kms:us-east-1:123456789012:key/other")
    result = run(client)
    assert result["changed"] is False
    assert client.writes() == []
    assert any("database_name" in w for w in result["warnings"])
    assert any("kms_key_id" in w for w in result["warnings"])


def test_engine_version_is_only_ever_raised():
    client = converged(EngineVersion="16.8")  # AWS applied a minor upgrade itself
    assert run(client)["changed"] is False
    client = converged(EngineVersion="16.4")
    run(client)
    (request,) = client.called("modify_db_cluster")
    assert request["EngineVersion"] == "16.6"
    assert "AllowMajorVersionUpgrade" not in request
    client = converged(EngineVersion="15.7")
    run(client)
    assert client.called("modify_db_cluster")[0]["AllowMajorVersionUpgrade"] is True


def test_tag_drift_is_tagged_without_a_modify():
    client = converged(TagList=tag_list({"Env": "dev", "Name": "c1", "Stray": "x"}))
    client.tags[subnet_group()["DBSubnetGroupArn"]] = {"Name": "g1", "Old": "y"}
    result = run(client)
    assert result["changed"] is True
    assert "modify_db_cluster" not in client.write_names()
    removed = {c["ResourceName"].rsplit(":", 1)[-1]: c["TagKeys"] for c in client.called("remove_tags_from_resource")}
    assert removed == {"c1": ["Stray"], "g1": ["Old"]}
    added = {c["ResourceName"].rsplit(":", 1)[-1]: c["Tags"] for c in client.called("add_tags_to_resource")}
    assert added == {"g1": tag_list({"Env": "dev"})}
    assert result["cluster"]["tags"] == {"Env": "dev", "Name": "c1"}
    assert result["db_subnet_group"]["tags"] == GROUP_TAGS


def test_subnet_group_drift_is_one_modify():
    client = FakeRDS(cluster=fake_rds.cluster(), group=subnet_group(subnets=("subnet-a", "subnet-z")))
    client.tags[subnet_group()["DBSubnetGroupArn"]] = GROUP_TAGS
    result = run(client)
    assert client.write_names() == ["modify_db_subnet_group"]
    assert client.called("modify_db_subnet_group")[0]["SubnetIds"] == ["subnet-a", "subnet-b"]
    assert result["changes"] == {
        "db_subnet_group": {"subnet_ids": {"before": ["subnet-a", "subnet-z"], "after": ["subnet-a", "subnet-b"]}}
    }


def test_a_busy_cluster_is_waited_for_before_its_change():
    client = converged(Status="modifying", BackupRetentionPeriod=7)
    client.cluster_statuses = ["modifying", "modifying", "available"]
    result = run(client)
    assert result["changed"] is True
    assert client.write_names() == ["modify_db_cluster"]
    describes = [i for i, (method, _) in enumerate(client.calls) if method == "describe_db_clusters"]
    assert len(describes) == 3
    assert describes[-1] < [m for m, _ in client.calls].index("modify_db_cluster")


def test_check_mode_writes_nothing():
    for client in (
        FakeRDS(),
        converged(BackupRetentionPeriod=7, TagList=[]),
        FakeRDS(cluster=fake_rds.cluster(), group=subnet_group(subnets=("subnet-z",))),
    ):
        result = run(client, check_mode=True)
        assert result["changed"] is True
        assert client.writes() == []
    created = run(FakeRDS(), check_mode=True)
    assert created["cluster"] == {}
    assert created["settings"]["max_capacity"] == 4.0
    drifted = run(converged(BackupRetentionPeriod=7), check_mode=True)
    assert drifted["diff"]["after"]["backup_retention_period"] == 1


def test_invalid_input_fails_before_any_client_is_created():
    client = FakeRDS()
    result = run(client, max_capacity=300, backup_retention_period=40, poll_interval=0)
    assert result["failed"] is True
    assert "max_capacity must be between 1 and 256" in result["msg"]
    assert "backup_retention_period must be 1-35" in result["msg"]
    assert "poll_interval must be 1 or more" in result["msg"]
    assert not result["client_created"]


def test_max_below_the_current_minimum_is_refused():
    client = converged(ServerlessV2ScalingConfiguration={"MinCapacity": 4.0, "MaxCapacity": 8.0})
    result = run(client, min_capacity=None, seconds_until_auto_pause=None, max_capacity=2)
    assert result["failed"] and "min_capacity (4) must not be greater than max_capacity (2)" in result["msg"]
    assert client.writes() == []


def test_a_cluster_too_old_for_serverless_v2_is_refused():
    result = run(converged(EngineVersion="12.7"), engine_version=None)
    assert result["failed"] and "too old for Aurora Serverless v2" in result["msg"]
    result = run(FakeRDS(), engine_version="16.2")  # min 0 needs 16.3
    assert result["failed"] and "too old for min_capacity 0 / auto-pause" in result["msg"]


def test_create_needs_the_master_user_and_the_scaling():
    client = FakeRDS(group=subnet_group(), group_tags=GROUP_TAGS)
    result = run(client, master_username=None, max_capacity=None)
    assert result["failed"] is True
    assert "master_username, max_capacity needed to create the cluster" in result["msg"]
    assert client.writes() == []


def test_a_transient_error_is_retried():
    fake = converged()
    fake.errors["describe_db_clusters"] = [client_error("Throttling", "DescribeDBClusters")]
    client = RetryingBotoClientWrapper(fake, AWSRetry.jittered_backoff(retries=3, delay=0))
    with mock.patch("time.sleep"):
        result = run(client)
    assert result["failed"] is False and result["changed"] is False
    assert len(fake.called("describe_db_clusters")) == 2


# -- absent ----------------------------------------------------------------------------

ABSENT = {"cluster_identifier": "c1", "state": "absent", "db_subnet_group": {"name": "g1"}, "poll_interval": 1}


def run_absent(client, check_mode=False, **overrides):
    module_args = dict(ABSENT, **overrides, _ansible_check_mode=check_mode, _ansible_diff=True)
    with mock.patch.object(aurora.time, "sleep"), mock.patch.object(cluster_module.time, "sleep"):
        result, _services = run_main(cluster_module.main, module_args, {"rds": client})
    return result


def test_absent_deletes_the_cluster_waits_then_deletes_its_subnet_group():
    client = converged()
    client.cluster_statuses = ["available", "deleting", None]
    result = run_absent(client)
    assert result["changed"] is True
    assert client.write_names() == ["delete_db_cluster", "delete_db_subnet_group"]
    assert client.called("delete_db_cluster") == [{"DBClusterIdentifier": "c1", "SkipFinalSnapshot": True}]


def test_absent_with_a_final_snapshot_and_protection_lifted():
    client = converged(DeletionProtection=True)
    client.cluster_statuses = ["available", "deleting", None]
    run_absent(client, lift_deletion_protection=True, final_snapshot_identifier="c1-final-20261207-120000")
    assert client.write_names() == ["modify_db_cluster", "delete_db_cluster", "delete_db_subnet_group"]
    assert client.called("modify_db_cluster") == [
        {"DBClusterIdentifier": "c1", "DeletionProtection": False, "ApplyImmediately": True}
    ]
    assert client.called("delete_db_cluster") == [
        {
            "DBClusterIdentifier": "c1",
            "SkipFinalSnapshot": False,
            "FinalDBSnapshotIdentifier": "c1-final-20261207-120000",
        }
    ]


def test_absent_refuses_a_protected_cluster_and_deletes_nothing():
    client = converged(DeletionProtection=True)
    result = run_absent(client)
    assert result["failed"] is True
    assert "deletion protection on: nothing was deleted" in result["msg"]
    assert client.writes() == []


def test_absent_retries_the_delete_while_the_cluster_is_busy():
    client = converged(DeletionProtection=True)
    client.errors["delete_db_cluster"] = [client_error("InvalidDBClusterStateFault", "DeleteDBCluster")]
    client.cluster_statuses = ["available", None]
    result = run_absent(client, lift_deletion_protection=True)
    assert result["failed"] is False
    assert len(client.called("delete_db_cluster")) == 2


def test_absent_deletes_the_instances_all_at_once_and_waits_for_them_before_the_cluster():
    client = converged(DeletionProtection=True)
    for index, identifier in enumerate(("i-1", "i-2")):
        client.instances[identifier] = fake_rds.instance(identifier, index)
    client.instance_statuses = ["available", "deleting", "deleting", None]
    client.cluster_statuses = ["available", "deleting", None]
    result = run_absent(client, lift_deletion_protection=True)
    assert result["failed"] is False
    assert client.write_names() == [
        # the protection change first, so it is applied while the instances go
        "modify_db_cluster",
        "delete_db_instance",
        "delete_db_instance",
        "delete_db_cluster",
        "delete_db_subnet_group",
    ]
    names = [method for method, _ in client.calls]
    assert names.count("describe_db_instances") == 4  # the read, then polls until none is left
    assert names.index("delete_db_cluster") > max(i for i, m in enumerate(names) if m == "describe_db_instances")
    assert result["changes"]["instances"] == {"before": ["i-1", "i-2"], "after": []}


def test_absent_refuses_a_protected_cluster_before_deleting_its_instances():
    client = converged(DeletionProtection=True)
    client.instances["i-1"] = fake_rds.instance("i-1")
    result = run_absent(client)
    assert result["failed"] is True
    assert client.writes() == []


def test_absent_on_a_cluster_being_deleted_only_waits():
    client = converged(Status="deleting")
    client.cluster_statuses = ["deleting", "deleting", None]
    result = run_absent(client)
    assert client.write_names() == ["delete_db_subnet_group"]
    assert result["changed"] is True  # the subnet group


def test_absent_when_everything_is_gone_changes_nothing():
    client = FakeRDS()
    result = run_absent(client)
    assert result["changed"] is False
    assert client.writes() == []


def test_absent_check_mode_writes_nothing():
    client = converged(DeletionProtection=True)
    client.instances["i-1"] = fake_rds.instance("i-1")
    result = run_absent(client, check_mode=True, lift_deletion_protection=True)
    assert result["changed"] is True
    assert client.writes() == []
    assert result["changes"]["instances"] == {"before": ["i-1"], "after": []}
