"""vpc_security_groups: create, no-op, drift repair, check mode, adoption, delete, retries (in-memory EC2)."""

from __future__ import annotations

from unittest import mock

import pytest
from ansible_collections.streamflix.video_pipeline.plugins.modules import vpc_security_groups as mod

from tests.unit.plugins.modules.fake_ec2 import FakeEc2, tag_list, tags_dict
from tests.unit.plugins.modules.fakes import run_main

ECS = "video-processing-ecs-sg-dev"
DB = "video-metadata-db-sg-dev"
TAGS = {"Project": "video-processing", "Environment": "dev", "Component": "network"}
GROUPS = [
    {
        "name": ECS,
        "description": "ECS workers",
        "egress": [
            {"from_port": 443, "cidr_ip": "0.0.0.0/0", "description": "HTTPS to AWS APIs and the image registry"},
            {"from_port": 5432, "group_name": DB, "description": "PostgreSQL to Aurora"},
        ],
    },
    {
        "name": DB,
        "description": "Aurora",
        "ingress": [{"protocol": "tcp", "from_port": 5432, "group_name": ECS, "description": "PostgreSQL from ECS"}],
    },
]


@pytest.fixture(autouse=True)
def no_sleep():
    with mock.patch("time.sleep") as sleep:
        yield sleep


@pytest.fixture
def ec2():
    fake = FakeEc2()
    fake.vpc_id = fake.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    fake.reset_calls()
    return fake


def run(ec2, check=False, **overrides):
    args = {"vpc_id": ec2.vpc_id, "groups": GROUPS, "tags": TAGS}
    args.update(overrides, _ansible_check_mode=check, _ansible_diff=True)
    result, _ = run_main(mod.main, args, {"ec2": ec2})
    return result


def group(ec2, name):
    (found,) = [g for g in ec2.groups.values() if g["GroupName"] == name]
    return found


def rules(ec2, name, key):
    return sorted(ec2._flat(group(ec2, name)[key]))


def assert_converged(ec2, result):
    ecs, db = group(ec2, ECS), group(ec2, DB)
    assert result["group_ids"] == {ECS: ecs["GroupId"], DB: db["GroupId"]}
    assert rules(ec2, ECS, "IpPermissions") == []
    assert rules(ec2, ECS, "IpPermissionsEgress") == sorted(
        [
            ("tcp", 443, 443, "cidr", "0.0.0.0/0", "HTTPS to AWS APIs and the image registry"),
            ("tcp", 5432, 5432, "group", db["GroupId"], "PostgreSQL to Aurora"),
        ]
    )
    assert rules(ec2, DB, "IpPermissions") == [("tcp", 5432, 5432, "group", ecs["GroupId"], "PostgreSQL from ECS")]
    assert rules(ec2, DB, "IpPermissionsEgress") == []
    assert tags_dict(ecs) == dict(TAGS, Name=ECS)
    assert tags_dict(db) == dict(TAGS, Name=DB)


def deployed(ec2):
    assert run(ec2)["failed"] is False
    ec2.reset_calls()
    return ec2


def test_creates_both_groups_tagged_and_drops_the_default_egress(ec2):
    result = run(ec2)
    assert result["changed"] is True and result["failed"] is False
    assert_converged(ec2, result)
    creates = [p for op, p in ec2.writes() if op == "create_security_group"]
    assert [p["GroupName"] for p in creates] == [ECS, DB]
    assert all(p["TagSpecifications"][0]["ResourceType"] == "security-group" for p in creates)
    assert ec2.count("create_tags") == 0
    assert ec2.count("describe_security_groups") == 1
    # one call per group and direction that differs
    assert ec2.count("revoke_security_group_egress") == 2
    assert ec2.count("authorize_security_group_egress") == 1
    assert ec2.count("authorize_security_group_ingress") == 1


def test_second_run_reads_once_and_writes_nothing(ec2):
    deployed(ec2)
    result = run(ec2)
    assert result["changed"] is False
    assert [op for op, _ in ec2.calls] == ["describe_security_groups"]
    assert ec2.calls[0][1]["Filters"] == [
        {"Name": "group-name", "Values": [ECS, DB]},
        {"Name": "vpc-id", "Values": [ec2.vpc_id]},
    ]
    assert result["diff"]["before"] == result["diff"]["after"]


def test_drift_is_repaired_with_only_the_differences(ec2):
    deployed(ec2)
    ecs, db = group(ec2, ECS), group(ec2, DB)
    # by hand: 443 opened to the world on ECS, the DB ingress removed,
    # a description changed, a tag changed
    ec2.authorize_security_group_ingress(
        GroupId=ecs["GroupId"],
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    db["IpPermissions"] = []
    ec2.update_security_group_rule_descriptions_egress(
        GroupId=ecs["GroupId"],
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "changed"}],
            }
        ],
    )
    db["Tags"] = tag_list(dict(tags_dict(db), Component="other"))
    ec2.reset_calls()

    result = run(ec2)
    assert result["changed"] is True
    assert sorted(op for op, _ in ec2.writes()) == [
        "authorize_security_group_ingress",
        "create_tags",
        "revoke_security_group_ingress",
        "update_security_group_rule_descriptions_egress",
    ]
    assert_converged(ec2, result)
    assert result["diff"]["before"][ECS]["ingress"] == ["tcp 443-443 0.0.0.0/0"]
    assert result["diff"]["after"][DB]["ingress"] == [f"tcp 5432-5432 {ECS} (PostgreSQL from ECS)"]
    ec2.reset_calls()
    assert run(ec2)["changed"] is False
    assert ec2.writes() == []


def test_check_mode_without_a_vpc_yet_reports_both_groups_and_calls_nothing(ec2):
    result = run(ec2, check=True, vpc_id="")
    assert result["changed"] is True and result["failed"] is False
    assert ec2.calls == []
    assert result["group_ids"] == {ECS: "", DB: ""}
    assert result["diff"]["after"][DB]["ingress"] == ["tcp 5432-5432 (new group) (PostgreSQL from ECS)"]


def test_check_mode_creates_and_changes_nothing(ec2):
    result = run(ec2, check=True)
    assert result["changed"] is True
    assert ec2.writes() == []
    deployed(ec2)
    group(ec2, DB)["IpPermissions"] = []
    result = run(ec2, check=True)
    assert result["changed"] is True
    assert ec2.writes() == []
    assert result["diff"]["before"] != result["diff"]["after"]


def test_a_group_left_by_a_killed_run_is_adopted(ec2):
    """The killed run created the DB group (tagged, with AWS's default egress) and nothing else."""
    ec2.create_security_group(
        GroupName=DB,
        Description="Aurora",
        VpcId=ec2.vpc_id,
        TagSpecifications=[{"ResourceType": "security-group", "Tags": tag_list(dict(TAGS, Name=DB))}],
    )
    ec2.reset_calls()
    result = run(ec2)
    assert [p["GroupName"] for op, p in ec2.writes() if op == "create_security_group"] == [ECS]
    assert_converged(ec2, result)


def test_groups_of_another_vpc_are_not_touched(ec2):
    other = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    ec2.create_security_group(GroupName=ECS, Description="elsewhere", VpcId=other)
    ec2.reset_calls()
    result = run(ec2)
    assert result["failed"] is False
    assert ec2.count("create_security_group") == 2
    assert result["group_ids"][ECS] != next(g["GroupId"] for g in ec2.groups.values() if g["VpcId"] == other)


def test_absent_drops_the_cross_references_then_deletes_then_is_a_no_op(ec2):
    deployed(ec2)
    result = run(ec2, state="absent", vpc_id=None)
    assert result["changed"] is True and result["failed"] is False
    ops = [op for op, _ in ec2.writes()]
    assert ops == [
        "revoke_security_group_egress",
        "revoke_security_group_ingress",
        "delete_security_group",
        "delete_security_group",
    ]
    assert [g["GroupName"] for g in ec2.groups.values()] == ["default"]
    ec2.reset_calls()
    again = run(ec2, state="absent")
    assert again["changed"] is False
    assert [op for op, _ in ec2.calls] == ["describe_security_groups"]


def test_absent_in_check_mode_deletes_nothing(ec2):
    deployed(ec2)
    result = run(ec2, check=True, state="absent")
    assert result["changed"] is True
    assert ec2.writes() == []
    assert len(result["deleted"]) == 2


def test_dependency_violation_on_delete_is_retried(ec2, no_sleep):
    deployed(ec2)
    ec2.fail("delete_security_group", "DependencyViolation", times=3)
    result = run(ec2, state="absent")
    assert result["failed"] is False
    assert ec2.count("delete_security_group") == 2 + 3
    assert no_sleep.call_count == 3


def test_not_found_right_after_a_create_is_retried(ec2, no_sleep):
    ec2.fail("authorize_security_group_egress", "InvalidGroup.NotFound")
    result = run(ec2)
    assert result["failed"] is False
    assert_converged(ec2, result)
    assert no_sleep.call_count == 1


def test_bad_arguments_fail_before_any_call(ec2):
    groups = [
        {"name": ECS, "description": "x", "egress": [{"from_port": 1, "group_name": "nope"}]},
        {"name": DB, "description": "y", "ingress": [{"from_port": 1, "cidr_ip": "0.0.0.0/0", "group_name": ECS}]},
        {"name": "z", "ingress": [{"cidr_ip": "10.0.0.0/8"}]},
    ]
    result = run(ec2, groups=groups, vpc_id="")
    assert result["failed"] is True
    for problem in (
        "group_name nope is not one of the groups",
        "give exactly one of cidr_ip and group_name",
        "group z: description is required",
        "from_port is required for protocol tcp",
        "vpc_id is required",
    ):
        assert problem in result["msg"]
    assert ec2.calls == []


def test_rules_compare_as_aws_spells_them():
    assert mod.rule_key("6", 443, 443, "cidr_ip", "0.0.0.0/0") == ("tcp", 443, 443, "cidr_ip", "0.0.0.0/0")
    assert mod.rule_key("all", 0, 65535, "cidr_ip", "0.0.0.0/0") == ("-1", None, None, "cidr_ip", "0.0.0.0/0")
    current = [
        {
            "IpProtocol": "-1",
            "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
            "Ipv6Ranges": [{"CidrIpv6": "::/0", "Description": "v6"}],
            "UserIdGroupPairs": [],
            "PrefixListIds": [],
        }
    ]
    assert mod.current_rules(current) == {
        ("-1", None, None, "cidr_ip", "0.0.0.0/0"): None,
        ("-1", None, None, "cidr_ipv6", "::/0"): "v6",
    }
    assert mod.permissions(mod.current_rules(current)) == [
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
        {"IpProtocol": "-1", "Ipv6Ranges": [{"CidrIpv6": "::/0", "Description": "v6"}]},
    ]
