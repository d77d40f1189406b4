"""aurora_instances_sync: the ordered instances of a cluster against an in-memory RDS."""

from __future__ import annotations

from unittest import mock

import pytest
from ansible_collections.streamflix.video_pipeline.plugins.module_utils import aurora
from ansible_collections.streamflix.video_pipeline.plugins.modules import aurora_instances_sync as instances_module

from tests.unit.plugins.modules import fake_rds
from tests.unit.plugins.modules.fake_rds import KEY, FakeRDS, instance, tag_list
from tests.unit.plugins.modules.fakes import run_main

ROLE = "arn:aws:iam::123456789012:role/video-metadata-monitoring-role-prod"
IDS = ["i-1", "i-2"]
# What the database role asks for in prod: writer + reader, monitoring, Performance Insights.
ARGS = {
    "cluster_identifier": "c1",
    "instance_identifiers": IDS,
    "availability_zones": ["us-east-1a", "us-east-1b"],
    "monitoring_interval": 60,
    "monitoring_role_arn": ROLE,
    "performance_insights": True,
    "performance_insights_kms_key_id": KEY,
    "performance_insights_retention_period": 7,
    "tags": {"Env": "prod"},
    "poll_interval": 1,
}


def prod_instance(identifier, index, **extra):
    settings = dict(
        MonitoringInterval=60,
        MonitoringRoleArn=ROLE,
        PerformanceInsightsEnabled=True,
        PerformanceInsightsKMSKeyId=KEY,
        PerformanceInsightsRetentionPeriod=7,
        TagList=tag_list({"Env": "prod", "Name": identifier}),
    )
    settings.update(extra)
    return instance(identifier, index, **settings)


def converged(**extra):
    return FakeRDS(
        cluster=fake_rds.cluster(), instances=[prod_instance("i-1", 0, **extra), prod_instance("i-2", 1, **extra)]
    )


def run(client, check_mode=False, **overrides):
    module_args = dict(ARGS, **overrides, _ansible_check_mode=check_mode, _ansible_diff=True)
    with mock.patch.object(aurora.time, "sleep"):
        result, services = run_main(instances_module.main, module_args, {"rds": client})
    result["client_created"] = bool(services)
    return result


def test_create_writer_then_reader_in_alternate_zones_without_waiting():
    client = FakeRDS(cluster=fake_rds.cluster())
    result = run(client)
    assert result["changed"] is True and result["created"] == IDS
    assert client.write_names() == ["create_db_instance", "create_db_instance"]
    writer, reader = client.called("create_db_instance")
    assert writer == {
        "DBInstanceIdentifier": "i-1",
        "DBClusterIdentifier": "c1",
        "Engine": "aurora-postgresql",
        "DBInstanceClass": "db.serverless",
        "AvailabilityZone": "us-east-1a",
        "PromotionTier": 0,
        "PubliclyAccessible": False,
        "MonitoringInterval": 60,
        "MonitoringRoleArn": ROLE,
        "EnablePerformanceInsights": True,
        "PerformanceInsightsKMSKeyId": KEY,
        "PerformanceInsightsRetentionPeriod": 7,
        "Tags": tag_list({"Env": "prod", "Name": "i-1"}),
    }
    assert (reader["AvailabilityZone"], reader["PromotionTier"]) == ("us-east-1b", 1)
    # one read of the instances, one of the cluster (it must be available); nothing waited for after
    assert [m for m, _ in client.calls if m.startswith("describe")] == ["describe_db_instances", "describe_db_clusters"]
    assert [i["status"] for i in result["instances"]] == ["creating", "creating"]
    assert result["instances"][1]["performance_insights_kms_key_id"] == KEY


def test_a_cluster_still_being_created_is_waited_for_before_the_first_instance():
    client = FakeRDS(cluster=fake_rds.cluster(Status="creating"))
    client.cluster_statuses = ["creating", "creating", "available"]
    run(client)
    names = [m for m, _ in client.calls]
    assert names.count("describe_db_clusters") == 3
    assert names.index("create_db_instance") > max(i for i, m in enumerate(names) if m == "describe_db_clusters")


def test_a_missing_cluster_fails_clearly():
    result = run(FakeRDS())
    assert result["failed"] is True
    assert "DB cluster c1 does not exist: create it before its instances" in result["msg"]


def test_converged_instances_make_no_write_from_one_read():
    client = converged()
    result = run(client)
    assert result["changed"] is False, result["changes"]
    assert client.writes() == []
    assert [m for m, _ in client.calls] == ["describe_db_instances"]
    assert client.calls[0][1] == {"Filters": [{"Name": "db-cluster-id", "Values": ["c1"]}]}
    assert result["diff"]["before"] == result["diff"]["after"]


def test_drift_is_one_modify_per_instance_with_only_the_differences():
    client = FakeRDS(
        cluster=fake_rds.cluster(),
        instances=[prod_instance("i-1", 0, PromotionTier=2, MonitoringInterval=0), prod_instance("i-2", 1)],
    )
    result = run(client)
    assert client.write_names() == ["modify_db_instance"]
    assert client.called("modify_db_instance") == [
        {
            "DBInstanceIdentifier": "i-1",
            "ApplyImmediately": True,
            "PromotionTier": 0,
            "MonitoringInterval": 60,
            "MonitoringRoleArn": ROLE,
        }
    ]
    assert result["changes"] == {
        "i-1": {
            "promotion_tier": {"before": 2, "after": 0},
            "monitoring_interval": {"before": 0, "after": 60},
        }
    }


def test_performance_insights_turned_on_where_the_instance_reports_it_off():
    client = converged(PerformanceInsightsEnabled=False, PerformanceInsightsKMSKeyId=None)
    run(client, instance_identifiers=["i-1", "i-2"])
    for call in client.called("modify_db_instance"):
        assert call["EnablePerformanceInsights"] is True
        assert call["PerformanceInsightsKMSKeyId"] == KEY
        assert call["PerformanceInsightsRetentionPeriod"] == 7


def test_performance_insights_not_compared_where_the_instance_does_not_report_it():
    # the emulator ignores PI: no key in its description, no change forever
    client = FakeRDS(
        cluster=fake_rds.cluster(),
        instances=[prod_instance(i, n, PerformanceInsightsEnabled=None) for n, i in enumerate(IDS)],
    )
    for found in client.instances.values():
        for key in ("PerformanceInsightsEnabled", "PerformanceInsightsKMSKeyId", "PerformanceInsightsRetentionPeriod"):
            found.pop(key, None)
    assert run(client)["changed"] is False
    assert client.writes() == []


def test_tag_drift_is_tagged_without_a_modify():
    client = converged(TagList=tag_list({"Env": "dev", "Stray": "x"}))
    result = run(client)
    assert result["changed"] is True
    assert sorted(set(client.write_names())) == ["add_tags_to_resource", "remove_tags_from_resource"]
    added = client.called("add_tags_to_resource")[0]["Tags"]
    assert sorted(added, key=lambda t: t["Key"]) == tag_list({"Env": "prod", "Name": "i-1"})
    assert client.called("remove_tags_from_resource")[0]["TagKeys"] == ["Stray"]


def test_instances_beyond_the_list_are_deleted_without_waiting():
    client = converged()
    client.instances["i-3"] = prod_instance("i-3", 2)
    client.instances["i-4"] = prod_instance("i-4", 3, DBInstanceStatus="deleting")
    result = run(client)
    assert result["deleted"] == ["i-3"]
    assert client.called("delete_db_instance") == [{"DBInstanceIdentifier": "i-3", "SkipFinalSnapshot": True}]
    assert [m for m, _ in client.calls].count("describe_db_instances") == 1


def test_an_instance_count_raised_adds_the_reader_only():
    client = FakeRDS(cluster=fake_rds.cluster(), instances=[prod_instance("i-1", 0)])
    result = run(client)
    assert result["created"] == ["i-2"]
    assert client.write_names() == ["create_db_instance"]


def test_wait_polls_until_every_instance_is_available():
    client = FakeRDS(cluster=fake_rds.cluster())
    client.instance_statuses = [None, "creating", "creating", "available"]  # first read: none yet
    result = run(client, wait=True)
    assert [i["status"] for i in result["instances"]] == ["available", "available"]
    assert [m for m, _ in client.calls].count("describe_db_instances") == 4


def test_wait_on_settled_instances_checks_the_cluster_once():
    # settle.yml after a run that changed the cluster only: the instances are available, the cluster is modifying
    client = converged()
    client.cluster.update(Status="modifying")
    client.cluster_statuses = ["modifying", "available"]
    result = run(client, wait=True)
    assert result["changed"] is False
    names = [m for m, _ in client.calls]
    assert names == ["describe_db_instances", "describe_db_clusters", "describe_db_clusters"]


def test_check_mode_writes_nothing():
    for client in (FakeRDS(), FakeRDS(cluster=fake_rds.cluster(Status="creating")), converged(PromotionTier=5)):
        client.instances["i-9"] = prod_instance("i-9", 9)
        result = run(client, check_mode=True)
        assert result["changed"] is True
        assert client.writes() == []


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"monitoring_role_arn": None}, "monitoring_role_arn is needed when monitoring_interval is above 0"),
        ({"performance_insights_retention_period": 30}, "must be 7 or a multiple of 31 up to 731 days, got 30"),
        ({"instance_identifiers": [f"i-{n}" for n in range(16)]}, "at most 15 instances, got 16"),
        ({"instance_identifiers": ["i-1", "i-1"]}, "must not repeat a name"),
        ({"instance_identifiers": []}, "at least one instance (the writer)"),
    ],
)
def test_invalid_input_fails_before_any_client_is_created(overrides, needle):
    result = run(FakeRDS(), **overrides)
    assert result["failed"] is True and needle in result["msg"], result["msg"]
    assert not result["client_created"]


# -- absent ----------------------------------------------------------------------------


def run_absent(client, check_mode=False, **overrides):
    module_args = dict(
        {"cluster_identifier": "c1", "state": "absent", "wait": True, "poll_interval": 1},
        **overrides,
        _ansible_check_mode=check_mode,
    )
    with mock.patch.object(aurora.time, "sleep"):
        result, _services = run_main(instances_module.main, module_args, {"rds": client})
    return result


def test_absent_deletes_every_instance_at_once_then_waits_until_gone():
    client = converged()
    client.instance_statuses = ["available", "deleting", None]
    result = run_absent(client)
    assert result["changed"] is True and result["deleted"] == IDS
    names = [m for m, _ in client.calls]
    assert names == [
        "describe_db_instances",
        "delete_db_instance",
        "delete_db_instance",
        "describe_db_instances",
        "describe_db_instances",
    ]


def test_absent_on_instances_already_being_deleted_only_waits():
    client = converged(DBInstanceStatus="deleting")
    client.instance_statuses = ["deleting", "deleting", None]
    result = run_absent(client)
    assert result["changed"] is False
    assert client.writes() == []
    assert [m for m, _ in client.calls].count("describe_db_instances") == 3


def test_absent_without_instances_changes_nothing():
    client = FakeRDS(cluster=fake_rds.cluster())
    result = run_absent(client)
    assert result["changed"] is False and client.calls == [
        ("describe_db_instances", {"Filters": [{"Name": "db-cluster-id", "Values": ["c1"]}]})
    ]


def test_absent_check_mode_writes_nothing():
    client = converged()
    assert run_absent(client, check_mode=True)["changed"] is True
    assert client.writes() == []
