"""tagged_resources_info: ARN parsing, merging, classification and the module entry (mocked clients)."""

from __future__ import annotations

from unittest import mock

import pytest
from ansible_collections.streamflix.video_pipeline.plugins.module_utils import tagged_resources as tr
from ansible_collections.streamflix.video_pipeline.plugins.modules import tagged_resources_info as module
from botocore.exceptions import ClientError

from tests.unit.plugins.modules.fakes import client_error as error
from tests.unit.plugins.modules.fakes import run_main

ACCOUNT = "123456789012"
ENV = "pr"
TAGS = [{"Key": "Environment", "Value": ENV}, {"Key": "Project", "Value": "video-processing"}]


class FakeClient:
    """A boto3 client stand-in: answers[operation] is a dict, an exception, or a callable(**kwargs)."""

    def __init__(self, answers=None, pages=None):
        self.answers = answers or {}
        self.pages = pages or {}
        self.calls = []

    def _answer(self, operation, kwargs):
        self.calls.append((operation, kwargs))
        answer = self.answers.get(operation, self.pages.get(operation))
        if answer is None:
            raise AssertionError(f"unexpected call {operation}({kwargs})")
        if isinstance(answer, Exception):
            raise answer
        return answer(**kwargs) if callable(answer) else answer

    def __getattr__(self, operation):
        if operation.startswith("_") or operation in ("answers", "pages", "calls"):
            raise AttributeError(operation)

        def call(aws_retry=False, **kwargs):
            assert aws_retry, f"{operation} must be called with aws_retry=True"
            return self._answer(operation, kwargs)

        return call

    def get_paginator(self, operation):
        client = self

        class Paginator:
            def paginate(self, **kwargs):
                result = client._answer(operation, kwargs)
                return mock.Mock(build_full_result=mock.Mock(return_value=result))

        return Paginator()


def empty_account():
    """Clients of an account that holds nothing of the environment."""
    return {
        "ec2": FakeClient(pages={op: {key: []} for op, _p, key, _t, _i in tr.EC2_LOOKUPS}),
        "kms": FakeClient(pages={"list_aliases": {"Aliases": []}}),
        "kinesis": FakeClient({"describe_stream_summary": error("ResourceNotFoundException")}),
        "sqs": FakeClient({"get_queue_url": error("AWS.SimpleQueueService.NonExistentQueue")}),
        "sns": FakeClient({"get_topic_attributes": error("NotFound")}),
        "rds": FakeClient(
            {
                "describe_db_clusters": error("DBClusterNotFoundFault"),
                "describe_db_subnet_groups": error("DBSubnetGroupNotFoundFault"),
            },
            pages={
                "describe_db_instances": {"DBInstances": []},
                "describe_db_cluster_snapshots": {"DBClusterSnapshots": []},
            },
        ),
        "secretsmanager": FakeClient({"describe_secret": error("ResourceNotFoundException")}),
        "iam": FakeClient({"get_role": error("NoSuchEntity")}),
        "ecs": FakeClient(
            {"describe_clusters": {"clusters": [], "failures": [{"reason": "MISSING"}]}},
            pages={"list_task_definitions": {"taskDefinitionArns": []}},
        ),
        "logs": FakeClient(pages={"describe_log_groups": {"logGroups": []}}),
        "cloudwatch": FakeClient(
            pages={"describe_alarms": {"MetricAlarms": []}, "list_dashboards": {"DashboardEntries": []}}
        ),
        "resourcegroupstaggingapi": FakeClient(pages={"get_resources": {"ResourceTagMappingList": []}}),
    }


def collect(clients, env=ENV):
    collector = tr.Collector(clients.__getitem__, env, "video-processing", "us-east-1", "aws", ACCOUNT)
    return collector.collect()


def tagged(*arns, tags=None):
    return {"ResourceTagMappingList": [{"ResourceARN": arn, "Tags": tags or TAGS} for arn in arns]}


def ec2_answer(key, *items):
    return lambda **kwargs: {key: list(items)}


# --- ARN parsing ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arn", "rtype", "rid"),
    [
        ("arn:aws:ec2:us-east-1:1:vpc/vpc-1", "ec2:vpc", "vpc-1"),
        ("arn:aws:ec2:us-east-1:1:flow-logs/fl-1", "ec2:vpc-flow-log", "fl-1"),  # moto's spelling
        ("arn:aws:ec2:us-east-1:1:vpc-flow-log/fl-1", "ec2:vpc-flow-log", "fl-1"),
        ("arn:aws:logs:us-east-1:1:log-group:/ecs/video-processing-pr:*", "logs:log-group", "/ecs/video-processing-pr"),
        ("arn:aws:logs:us-east-1:1:log-group:/ecs/video-processing-pr", "logs:log-group", "/ecs/video-processing-pr"),
        ("arn:aws:sqs:us-east-1:1:video-processing-dlq-pr", "sqs:queue", "video-processing-dlq-pr"),
        ("arn:aws:sns:us-east-1:1:video-processing-alarms-pr", "sns:topic", "video-processing-alarms-pr"),
        ("arn:aws:iam::1:role/service/some-role", "iam:role", "some-role"),
        ("arn:aws:ecs:us-east-1:1:service/c/s", "ecs:service", "c/s"),
        ("arn:aws:ecs:us-east-1:1:task-definition/vp-pr:3", "ecs:task-definition", "vp-pr:3"),
        ("arn:aws:rds:us-east-1:1:subgrp:video-metadata-subnets-pr", "rds:subgrp", "video-metadata-subnets-pr"),
        ("arn:aws:rds:us-east-1:1:cluster-snapshot:rds:c-2026", "rds:cluster-snapshot", "rds:c-2026"),
        ("arn:aws:secretsmanager:us-east-1:1:secret:video-x-pr-AbCdEf", "secretsmanager:secret", "video-x-pr-AbCdEf"),
        ("arn:aws:cloudwatch::1:dashboard/video-processing-pr", "cloudwatch:dashboard", "video-processing-pr"),
        ("arn:aws:kms:us-east-1:1:key/abcd", "kms:key", "abcd"),
        ("arn:aws:s3:::bucket", "s3:bucket", "bucket"),
    ],
)
def test_parse_arn(arn, rtype, rid):
    parsed = tr.parse_arn(arn)
    assert (parsed["type"], parsed["id"]) == (rtype, rid)


def test_parse_arn_refuses_what_is_not_an_arn():
    with pytest.raises(ValueError, match="not an ARN"):
        tr.parse_arn("vpc-123")


def test_log_group_arns_lose_the_describe_suffix():
    item = tr.make_item("arn:aws:logs:us-east-1:1:log-group:/ecs/x:*")
    assert item["arn"] == "arn:aws:logs:us-east-1:1:log-group:/ecs/x"


# --- collection --------------------------------------------------------------------


def test_empty_account_has_nothing_and_every_lookup_ran():
    clients = empty_account()
    result = collect(clients)
    assert result == {"resources": [], "count": 0, "retained": [], "pending_deletion": [], "stale": []}
    # every service was asked (no lookup silently skipped)
    assert all(client.calls for client in clients.values())
    filters = clients["resourcegroupstaggingapi"].calls[0][1]["TagFilters"]
    assert filters == [{"Key": "Environment", "Values": [ENV]}, {"Key": "Project", "Values": ["video-processing"]}]
    ec2_filters = clients["ec2"].calls[0][1]["Filters"]
    assert {"Name": "tag:Environment", "Values": [ENV]} in ec2_filters


def test_a_resource_found_twice_is_listed_once_as_both():
    clients = empty_account()
    vpc = {"VpcId": "vpc-1", "Tags": [*TAGS, {"Key": "Name", "Value": "video-processing-vpc-pr"}]}
    clients["ec2"].pages["describe_vpcs"] = ec2_answer("Vpcs", vpc)
    clients["resourcegroupstaggingapi"].pages["get_resources"] = tagged(f"arn:aws:ec2:us-east-1:{ACCOUNT}:vpc/vpc-1")
    result = collect(clients)
    assert result["count"] == 1
    assert result["resources"][0] == {
        "arn": f"arn:aws:ec2:us-east-1:{ACCOUNT}:vpc/vpc-1",
        "id": "vpc-1",
        "type": "ec2:vpc",
        "name": "video-processing-vpc-pr",
        "source": "both",
    }


def test_an_index_entry_that_a_direct_lookup_no_longer_finds_is_stale():
    clients = empty_account()
    clients["resourcegroupstaggingapi"].pages["get_resources"] = tagged(
        f"arn:aws:ec2:us-east-1:{ACCOUNT}:vpc/vpc-gone",
        f"arn:aws:sqs:us-east-1:{ACCOUNT}:video-processing-dlq-pr",
    )
    result = collect(clients)
    assert result["count"] == 0
    assert sorted(item["id"] for item in result["stale"]) == ["video-processing-dlq-pr", "vpc-gone"]


def test_tagged_resources_no_lookup_covers_still_count():
    clients = empty_account()
    arn = f"arn:aws:sqs:us-east-1:{ACCOUNT}:some-other-queue"
    clients["resourcegroupstaggingapi"].pages["get_resources"] = tagged(arn)
    result = collect(clients)
    assert [(r["arn"], r["source"]) for r in result["resources"]] == [(arn, "tagging_api")]


def test_spec_names_found_without_tags_are_listed():
    """IAM roles, the stream and the subnet group are not in the (emulator's) tagging index."""
    clients = empty_account()
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/video-processing-task-role-pr"

    def get_role(RoleName):
        if RoleName == "video-processing-task-role-pr":
            return {"Role": {"Arn": role_arn}}
        raise error("NoSuchEntity")

    clients["iam"].answers["get_role"] = get_role
    stream_arn = f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/video-ingestion-stream-pr"
    clients["kinesis"].answers["describe_stream_summary"] = {
        "StreamDescriptionSummary": {"StreamARN": stream_arn, "StreamStatus": "ACTIVE"}
    }
    group_arn = f"arn:aws:rds:us-east-1:{ACCOUNT}:subgrp:video-metadata-subnets-pr"
    clients["rds"].answers["describe_db_subnet_groups"] = {"DBSubnetGroups": [{"DBSubnetGroupArn": group_arn}]}
    result = collect(clients)
    assert sorted(r["arn"] for r in result["resources"]) == sorted([role_arn, stream_arn, group_arn])
    assert {r["source"] for r in result["resources"]} == {"lookup"}


def test_kms_key_pending_deletion_is_not_a_leftover():
    clients = empty_account()
    key_arn = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k-1"
    clients["kms"].pages["list_aliases"] = {
        "Aliases": [
            {"AliasName": "alias/video-processing-pr-1", "TargetKeyId": "k-other"},
            {"AliasName": "alias/video-processing-pr", "TargetKeyId": "k-1"},
        ]
    }
    clients["kms"].answers["describe_key"] = {
        "KeyMetadata": {"KeyId": "k-1", "Arn": key_arn, "KeyState": "PendingDeletion", "DeletionDate": "2026-12-03"}
    }
    clients["resourcegroupstaggingapi"].pages["get_resources"] = tagged(key_arn)
    result = collect(clients)
    assert result["count"] == 0
    (pending,) = result["pending_deletion"]
    assert pending["arn"] == key_arn and pending["name"] == "alias/video-processing-pr" and pending["source"] == "both"
    assert "2026-12-03" in pending["reason"]
    assert clients["kms"].calls[-1] == ("describe_key", {"KeyId": "k-1"})


def test_tagging_only_kms_keys_and_secrets_are_classified_by_their_state():
    clients = empty_account()
    live_key = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/live"
    dying_key = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/dying"
    secret = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:extra-secret-AbCdEf"
    states = {live_key: "Enabled", dying_key: "PendingDeletion"}
    clients["kms"].answers["describe_key"] = lambda KeyId: {"KeyMetadata": {"Arn": KeyId, "KeyState": states[KeyId]}}

    def describe_secret(SecretId):
        if SecretId == secret:
            return {"ARN": secret, "Name": "extra-secret", "DeletedDate": "2026-12-03"}
        raise error("ResourceNotFoundException")

    clients["secretsmanager"].answers["describe_secret"] = describe_secret
    clients["resourcegroupstaggingapi"].pages["get_resources"] = tagged(live_key, dying_key, secret)
    result = collect(clients)
    assert [r["arn"] for r in result["resources"]] == [live_key]
    assert sorted(r["arn"] for r in result["pending_deletion"]) == sorted([dying_key, secret])


def test_secret_in_its_recovery_window_is_pending_deletion():
    clients = empty_account()
    arn = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:video-processing-api-keys-pr-AbCdEf"

    def describe(SecretId):
        if SecretId == "video-processing-api-keys-pr":
            return {"ARN": arn, "Name": SecretId, "DeletedDate": "2026-12-03"}
        raise error("ResourceNotFoundException")

    clients["secretsmanager"].answers["describe_secret"] = describe
    result = collect(clients)
    assert result["count"] == 0
    assert [p["name"] for p in result["pending_deletion"]] == ["video-processing-api-keys-pr"]


def test_a_deleted_spec_secret_still_in_the_index_is_stale():
    clients = empty_account()
    arn = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:video-processing-db-credentials-pr-AbCdEf"
    clients["resourcegroupstaggingapi"].pages["get_resources"] = tagged(arn)
    result = collect(clients)
    assert result["count"] == 0 and [s["arn"] for s in result["stale"]] == [arn]


def test_task_definition_family_prefix_matches_only_the_exact_family():
    clients = empty_account()
    base = f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/"
    listed = {
        "ACTIVE": [base + "video-processing-pr:2", base + "video-processing-pr-1:1"],
        "INACTIVE": [base + "video-processing-pr:1"],
    }
    clients["ecs"].pages["list_task_definitions"] = lambda familyPrefix, status: {"taskDefinitionArns": listed[status]}
    result = collect(clients)
    assert [r["id"] for r in result["resources"]] == ["video-processing-pr:2"]
    assert [r["id"] for r in result["retained"]] == ["video-processing-pr:1"]
    assert clients["ecs"].calls[-2:] == [
        ("list_task_definitions", {"familyPrefix": "video-processing-pr", "status": "ACTIVE"}),
        ("list_task_definitions", {"familyPrefix": "video-processing-pr", "status": "INACTIVE"}),
    ]


def test_ecs_service_is_looked_up_only_in_an_active_cluster():
    clients = empty_account()
    clients["ecs"].answers["describe_clusters"] = {
        "clusters": [{"clusterArn": f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/c", "status": "INACTIVE"}]
    }
    result = collect(clients)
    assert result["count"] == 0
    assert "describe_services" not in [op for op, _ in clients["ecs"].calls]

    cluster_arn = f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/video-processing-cluster-pr"
    service_arn = f"arn:aws:ecs:us-east-1:{ACCOUNT}:service/video-processing-cluster-pr/video-processing-service-pr"
    clients = empty_account()
    clients["ecs"].answers["describe_clusters"] = {"clusters": [{"clusterArn": cluster_arn, "status": "ACTIVE"}]}
    clients["ecs"].answers["describe_services"] = {"services": [{"serviceArn": service_arn, "status": "DRAINING"}]}
    result = collect(clients)
    assert [r["arn"] for r in result["resources"]] == [cluster_arn]
    assert [r["arn"] for r in result["pending_deletion"]] == [service_arn]


def test_alarms_need_the_prefix_the_suffix_and_no_other_environment_tag():
    clients = empty_account()
    base = f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:"
    alarms = ["video-processing-dlq-pr", "video-processing-dlq-my-pr", "video-processing-dlq-pr-2"]
    clients["cloudwatch"].pages["describe_alarms"] = {
        "MetricAlarms": [{"AlarmName": n, "AlarmArn": base + n} for n in alarms]
    }
    env_tag = {"video-processing-dlq-pr": ENV, "video-processing-dlq-my-pr": "my-pr"}
    clients["cloudwatch"].answers["list_tags_for_resource"] = lambda ResourceARN: {
        "Tags": [{"Key": "Environment", "Value": env_tag[ResourceARN.rsplit(":", 1)[1]]}]
    }
    result = collect(clients)
    assert [r["name"] for r in result["resources"]] == ["video-processing-dlq-pr"]


def test_snapshots_are_retained_not_leftovers():
    clients = empty_account()
    final = f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster-snapshot:video-metadata-cluster-pr-final"
    other = f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster-snapshot:copied"
    clients["rds"].pages["describe_db_cluster_snapshots"] = {
        "DBClusterSnapshots": [
            {"DBClusterSnapshotArn": final, "DBClusterSnapshotIdentifier": "video-metadata-cluster-pr-final"}
        ]
    }
    automated = f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster-snapshot:rds:video-metadata-cluster-pr-2026-11-26"
    named = [*TAGS, {"Key": "Name", "Value": "video-metadata-cluster-pr"}]  # copied from the cluster
    clients["resourcegroupstaggingapi"].pages["get_resources"] = tagged(final, other, automated, tags=named)
    result = collect(clients)
    assert result["count"] == 0
    assert sorted(r["arn"] for r in result["retained"]) == sorted([final, other, automated])
    reasons = {r["name"]: r["reason"] for r in result["retained"]}
    assert reasons["rds:video-metadata-cluster-pr-2026-11-26"].startswith("automated DB snapshot")
    assert reasons["copied"] == "DB snapshot kept on purpose"
    assert clients["rds"].calls[-1][1] == {"DBClusterIdentifier": "video-metadata-cluster-pr", "SnapshotType": "manual"}


def test_nat_gateways_being_deleted_and_deleted():
    clients = empty_account()
    clients["ec2"].pages["describe_nat_gateways"] = ec2_answer(
        "NatGateways",
        {"NatGatewayId": "nat-gone", "State": "deleted"},
        {"NatGatewayId": "nat-going", "State": "deleting"},
        {"NatGatewayId": "nat-up", "State": "available"},
    )
    result = collect(clients)
    assert [r["id"] for r in result["resources"]] == ["nat-up"]
    assert [r["id"] for r in result["pending_deletion"]] == ["nat-going"]


def test_cluster_details_and_members_are_looked_up():
    clients = empty_account()
    cluster = {
        "DBClusterArn": f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster:video-metadata-cluster-pr",
        "Endpoint": "writer.example",
        "ReaderEndpoint": "reader.example",
        "Status": "available",
        "DBClusterMembers": [{"DBInstanceIdentifier": "extra-instance"}],
    }
    clients["rds"].answers["describe_db_clusters"] = {"DBClusters": [cluster]}
    result = collect(clients)
    (item,) = result["resources"]
    assert item["endpoint"] == "writer.example" and item["reader_endpoint"] == "reader.example"
    instance_call = next(kw for op, kw in clients["rds"].calls if op == "describe_db_instances")
    assert instance_call["Filters"][0]["Values"] == [
        "extra-instance",
        "video-metadata-instance-1-pr",
        "video-metadata-instance-2-pr",
    ]


def test_log_groups_aws_creates_for_the_cluster_are_leftovers_too():
    clients = empty_account()
    names = {
        "/ecs/video-processing-pr": ["/ecs/video-processing-pr", "/ecs/video-processing-pr-2"],
        "/aws/rds/cluster/video-metadata-cluster-pr/": ["/aws/rds/cluster/video-metadata-cluster-pr/postgresql"],
    }
    clients["logs"].pages["describe_log_groups"] = lambda logGroupNamePrefix: {
        "logGroups": [
            {"logGroupName": n, "arn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{n}:*"}
            for n in names.get(logGroupNamePrefix, [])
        ]
    }
    result = collect(clients)
    assert [r["name"] for r in result["resources"]] == [
        "/aws/rds/cluster/video-metadata-cluster-pr/postgresql",
        "/ecs/video-processing-pr",
    ]
    prefixes = [kw["logGroupNamePrefix"] for op, kw in clients["logs"].calls]
    assert "/aws/ecs/containerinsights/video-processing-cluster-pr/" in prefixes


def test_unexpected_errors_are_not_swallowed():
    clients = empty_account()
    clients["sqs"].answers["get_queue_url"] = error("AccessDenied")
    with pytest.raises(ClientError):
        collect(clients)


# --- the module entry point ----------------------------------------------------------


def run_module(args, clients, check_mode=False):
    sts = FakeClient({"get_caller_identity": {"Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/deployer"}})
    module_args = dict(args, region="us-east-1", _ansible_check_mode=check_mode)
    results, services = run_main(module.main, module_args, dict(clients, sts=sts))
    results["clients"] = sorted(set(services))
    return results


@pytest.mark.parametrize("env", ["A", "x", "toolongenvironmentname", "1abc", "pr_1"])
def test_invalid_environment_is_refused_before_any_call(env):
    result = run_module({"environment": env}, empty_account())
    assert result["failed"] and f"environment='{env}'" in result["msg"] and "^[a-z][a-z0-9-]{1,15}$" in result["msg"]
    assert result["clients"] == []


def test_module_reports_unchanged_in_check_mode_with_the_result():
    clients = empty_account()
    clients["sqs"].answers["get_queue_url"] = {"QueueUrl": "http://q"}
    result = run_module({"environment": ENV}, clients, check_mode=True)
    assert not result["failed"] and result["changed"] is False
    assert result["count"] == 1 and result["resources"][0]["url"] == "http://q"
    assert result["resources"][0]["arn"] == f"arn:aws:sqs:us-east-1:{ACCOUNT}:video-processing-dlq-pr"


def test_module_turns_aws_errors_into_a_failure_naming_the_environment():
    clients = empty_account()
    clients["iam"].answers["get_role"] = error("AccessDenied")
    result = run_module({"environment": ENV}, clients)
    assert result["failed"] and "Could not list the resources of environment pr" in result["msg"]
