"""vpc_network: create, no-op, drift repair, check mode, adoption, refusals, delete, retries (in-memory EC2)."""

from __future__ import annotations

from unittest import mock

import pytest
from ansible_collections.streamflix.video_pipeline.plugins.modules import vpc_network

from tests.unit.plugins.modules.fake_ec2 import FakeEc2, tag_list, tags_dict
from tests.unit.plugins.modules.fakes import run_main

ENV = "dev"
TAGS = {"Project": "video-processing", "Environment": ENV, "ManagedBy": "ansible", "Component": "network"}
PUBLIC = [f"video-processing-public-{x}-{ENV}" for x in "ab"]
PRIVATE = [f"video-processing-private-{x}-{ENV}" for x in "ab"]
ARGS = {
    "name": f"video-processing-vpc-{ENV}",
    "cidr_block": "10.0.0.0/16",
    "internet_gateway_name": f"video-processing-igw-{ENV}",
    "subnets": [
        {"name": PUBLIC[0], "cidr_block": "10.0.0.0/20", "az_index": 0, "map_public_ip_on_launch": True},
        {"name": PUBLIC[1], "cidr_block": "10.0.16.0/20", "az_index": 1, "map_public_ip_on_launch": True},
        {"name": PRIVATE[0], "cidr_block": "10.0.32.0/20", "az_index": 0, "tags": {"Tier": "private"}},
        {"name": PRIVATE[1], "cidr_block": "10.0.48.0/20", "az_index": 1, "tags": {"Tier": "private"}},
    ],
    "route_tables": [
        {
            "name": f"video-processing-public-rt-{ENV}",
            "subnets": PUBLIC,
            "routes": [{"destination_cidr_block": "0.0.0.0/0", "target": "internet_gateway"}],
        },
        {"name": f"video-processing-private-rt-{ENV}", "subnets": PRIVATE},
    ],
    "tags": TAGS,
}
ABSENT = {
    "name": ARGS["name"],
    "internet_gateway_name": ARGS["internet_gateway_name"],
    "tags": TAGS,
    "state": "absent",
}


@pytest.fixture(autouse=True)
def no_sleep():
    """Retries back off with time.sleep: the tests do not wait."""
    with mock.patch("time.sleep") as sleep:
        yield sleep


def run(ec2, args=None, check=False, diff=True, **overrides):
    module_args = dict(args or ARGS, **overrides)
    module_args.update(_ansible_check_mode=check, _ansible_diff=diff)
    result, _services = run_main(vpc_network.main, module_args, {"ec2": ec2})
    return result


def deployed():
    ec2 = FakeEc2()
    result = run(ec2)
    assert result["failed"] is False, result
    ec2.reset_calls()
    return ec2, result


def table_named(ec2, name):
    (table,) = ec2.by_name(ec2.tables, name)
    return table


def associated(ec2, table):
    names = {s["SubnetId"]: tags_dict(s)["Name"] for s in ec2.subnets.values()}
    return sorted(names[a["SubnetId"]] for a in table["Associations"] if a.get("SubnetId"))


def assert_converged(ec2, result):
    """The fake EC2 holds exactly the network of ARGS, as the result says."""
    (vpc,) = ec2.vpcs.values()
    assert result["vpc_id"] == vpc["VpcId"]
    assert tags_dict(vpc) == dict(TAGS, Name=ARGS["name"])
    assert ec2.attributes[vpc["VpcId"]] == {"EnableDnsSupport": True, "EnableDnsHostnames": True}
    assert len(ec2.subnets) == 4
    for wanted, got in zip(ARGS["subnets"], result["subnets"], strict=True):
        subnet = ec2.subnets[got["subnet_id"]]
        assert got["name"] == wanted["name"] == tags_dict(subnet)["Name"]
        assert subnet["CidrBlock"] == wanted["cidr_block"] == got["cidr_block"]
        assert subnet["MapPublicIpOnLaunch"] is wanted.get("map_public_ip_on_launch", False)
        assert subnet["AvailabilityZone"] == got["availability_zone"]
        assert tags_dict(subnet) == dict(TAGS, Name=wanted["name"], **wanted.get("tags", {}))
    assert result["availability_zones"] == ["us-east-1a", "us-east-1b"]
    assert [s["availability_zone"] for s in result["subnets"]] == ["us-east-1a", "us-east-1b"] * 2
    (igw,) = ec2.igws.values()
    assert result["internet_gateway_id"] == igw["InternetGatewayId"]
    assert igw["Attachments"] == [{"VpcId": vpc["VpcId"], "State": "available"}]
    assert tags_dict(igw) == dict(TAGS, Name=ARGS["internet_gateway_name"])
    public = table_named(ec2, f"video-processing-public-rt-{ENV}")
    private = table_named(ec2, f"video-processing-private-rt-{ENV}")
    assert [t["route_table_id"] for t in result["route_tables"]] == [public["RouteTableId"], private["RouteTableId"]]
    assert [(r["DestinationCidrBlock"], r["GatewayId"]) for r in public["Routes"]] == [
        ("10.0.0.0/16", "local"),
        ("0.0.0.0/0", igw["InternetGatewayId"]),
    ]
    assert [r["GatewayId"] for r in private["Routes"]] == ["local"]
    assert associated(ec2, public) == PUBLIC
    assert associated(ec2, private) == PRIVATE
    assert tags_dict(public) == dict(TAGS, Name=f"video-processing-public-rt-{ENV}")


def test_creates_everything_tagged_at_creation():
    ec2 = FakeEc2()
    result = run(ec2)
    assert result["changed"] is True and result["failed"] is False
    assert_converged(ec2, result)
    creates = [op for op, _ in ec2.writes() if op.startswith("create_") and op not in ("create_route", "create_tags")]
    assert creates == ["create_vpc"] + ["create_subnet"] * 4 + ["create_internet_gateway"] + ["create_route_table"] * 2
    assert all("TagSpecifications" in params for op, params in ec2.writes() if op in creates)
    assert ec2.count("create_tags") == 0
    # a new VPC holds nothing yet: no subnet, gateway-by-VPC or route table reads
    assert ec2.count("describe_vpcs") == 1
    assert ec2.count("describe_subnets") == ec2.count("describe_route_tables") == 0
    assert ec2.count("describe_availability_zones") == 1
    # only the attribute EC2 does not already give a new VPC is set
    assert [p for op, p in ec2.writes() if op == "modify_vpc_attribute"] == [
        {"VpcId": result["vpc_id"], "EnableDnsHostnames": {"Value": True}}
    ]
    assert result["diff"]["before"]["vpc"] == {}


def test_second_run_reads_once_per_kind_and_writes_nothing():
    ec2, first = deployed()
    result = run(ec2)
    assert result["changed"] is False
    assert ec2.writes() == []
    reads = sorted(op for op, _ in ec2.calls)
    assert reads == sorted(
        [
            "describe_vpcs",
            "describe_vpc_attribute",
            "describe_vpc_attribute",
            "describe_subnets",
            "describe_internet_gateways",
            "describe_route_tables",
        ]
    )
    assert {k: result[k] for k in ("vpc_id", "subnets", "internet_gateway_id", "route_tables")} == {
        k: first[k] for k in ("vpc_id", "subnets", "internet_gateway_id", "route_tables")
    }
    assert result["diff"]["before"] == result["diff"]["after"]


def test_drift_is_repaired_in_one_run():
    ec2, _ = deployed()
    (vpc,) = ec2.vpcs.values()
    public = table_named(ec2, f"video-processing-public-rt-{ENV}")
    private = table_named(ec2, f"video-processing-private-rt-{ENV}")
    public_a = ec2.by_name(ec2.subnets, PUBLIC[0])[0]
    # by hand: default route removed, a route added to the private table, a subnet moved
    # to the wrong table, public IPs off, DNS host names off, a tag changed and one added
    public["Routes"] = public["Routes"][:1]
    private["Routes"].append({"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-x", "Origin": "CreateRoute"})
    moved = next(a for a in public["Associations"] if a["SubnetId"] == public_a["SubnetId"])
    public["Associations"].remove(moved)
    private["Associations"].append(dict(moved, RouteTableId=private["RouteTableId"]))
    public_a["MapPublicIpOnLaunch"] = False
    ec2.attributes[vpc["VpcId"]]["EnableDnsHostnames"] = False
    vpc["Tags"] = tag_list(dict(tags_dict(vpc), Project="other", Stray="x"))

    result = run(ec2)
    assert result["changed"] is True
    ops = [op for op, _ in ec2.writes()]
    assert sorted(ops) == sorted(
        [
            "delete_tags",
            "create_tags",
            "modify_vpc_attribute",
            "modify_subnet_attribute",
            "create_route",
            "delete_route",
            "replace_route_table_association",
        ]
    )
    assert_converged(ec2, result)
    assert result["diff"]["before"]["vpc"]["tags"]["Stray"] == "x"
    ec2.reset_calls()
    assert run(ec2)["changed"] is False
    assert ec2.writes() == []


def test_route_to_a_replaced_gateway_is_replaced():
    ec2, _ = deployed()
    public = table_named(ec2, f"video-processing-public-rt-{ENV}")
    public["Routes"][1].update(GatewayId="igw-gone", State="blackhole")
    result = run(ec2)
    assert [op for op, _ in ec2.writes()] == ["replace_route"]
    assert_converged(ec2, result)


def test_check_mode_on_an_empty_account_reports_and_writes_nothing():
    ec2 = FakeEc2()
    result = run(ec2, check=True)
    assert result["changed"] is True and result["failed"] is False
    assert ec2.writes() == []
    assert result["vpc_id"] == "" and result["internet_gateway_id"] == ""
    assert [s["subnet_id"] for s in result["subnets"]] == [""] * 4
    assert [t["route_table_id"] for t in result["route_tables"]] == ["", ""]
    assert result["diff"]["before"]["vpc"] == {}
    assert result["diff"]["after"]["vpc"]["cidr_block"] == "10.0.0.0/16"
    assert result["diff"]["after"]["route_tables"][f"video-processing-public-rt-{ENV}"]["routes"] == {
        "0.0.0.0/0": f"internet gateway video-processing-igw-{ENV}"
    }


def test_check_mode_on_drift_reports_and_writes_nothing():
    ec2, _ = deployed()
    table_named(ec2, f"video-processing-public-rt-{ENV}")["Routes"].pop()
    ec2.by_name(ec2.subnets, PRIVATE[1])[0]["Tags"].append({"Key": "Stray", "Value": "x"})
    result = run(ec2, check=True)
    assert result["changed"] is True
    assert ec2.writes() == []
    assert result["diff"]["before"] != result["diff"]["after"]


def test_run_after_a_killed_one_adopts_what_it_left():
    """The killed run made the VPC (tagged at creation), public-a in us-east-1c and a detached gateway."""
    ec2 = FakeEc2()
    vpc_id = ec2.create_vpc(
        CidrBlock="10.0.0.0/16",
        TagSpecifications=[{"ResourceType": "vpc", "Tags": tag_list(dict(TAGS, Name=ARGS["name"]))}],
    )["Vpc"]["VpcId"]
    ec2.create_subnet(
        VpcId=vpc_id,
        CidrBlock="10.0.0.0/20",
        AvailabilityZone="us-east-1c",
        TagSpecifications=[{"ResourceType": "subnet", "Tags": tag_list(dict(TAGS, Name=PUBLIC[0]))}],
    )
    igw_id = ec2.create_internet_gateway(
        TagSpecifications=[
            {"ResourceType": "internet-gateway", "Tags": tag_list(dict(TAGS, Name=ARGS["internet_gateway_name"]))}
        ]
    )["InternetGateway"]["InternetGatewayId"]
    ec2.reset_calls()

    result = run(ec2)
    assert result["changed"] is True
    assert result["vpc_id"] == vpc_id and result["internet_gateway_id"] == igw_id
    ops = [op for op, _ in ec2.writes()]
    assert "create_vpc" not in ops and "create_internet_gateway" not in ops
    assert ops.count("create_subnet") == 3
    # private-a joins public-a's zone; the b subnets take the first zone still free
    zones = [s["availability_zone"] for s in result["subnets"]]
    assert zones == ["us-east-1c", "us-east-1a", "us-east-1c", "us-east-1a"]
    assert len(ec2.vpcs) == 1 and len(ec2.igws) == 1 and len(ec2.subnets) == 4
    ec2.reset_calls()
    assert run(ec2)["changed"] is False
    assert ec2.writes() == []


def test_zones_are_looked_up_only_to_place_a_new_subnet():
    ec2, _ = deployed()
    subnet = ec2.by_name(ec2.subnets, PRIVATE[1])[0]
    del ec2.subnets[subnet["SubnetId"]]
    for table in ec2.tables.values():
        table["Associations"] = [a for a in table["Associations"] if a.get("SubnetId") != subnet["SubnetId"]]
    result = run(ec2)
    # private-b takes public-b's zone: no DescribeAvailabilityZones
    assert ec2.count("describe_availability_zones") == 0
    assert [op for op, _ in ec2.writes()] == ["create_subnet", "associate_route_table"]
    assert_converged(ec2, result)


def test_given_zones_are_used():
    ec2 = FakeEc2()
    result = run(ec2, availability_zones=["us-east-1b", "us-east-1c"])
    assert result["availability_zones"] == ["us-east-1b", "us-east-1c"]
    assert ec2.count("describe_availability_zones") == 0


def test_two_vpcs_with_the_env_tags_are_refused():
    ec2 = FakeEc2()
    spec = [{"ResourceType": "vpc", "Tags": tag_list(dict(TAGS, Name=ARGS["name"]))}]
    ids = [ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=spec)["Vpc"]["VpcId"] for _ in range(2)]
    ec2.reset_calls()
    result = run(ec2)
    assert result["failed"] is True
    assert "2 VPCs" in result["msg"] and all(vpc_id in result["msg"] for vpc_id in ids)
    assert ec2.writes() == []


def test_a_vpc_of_another_cidr_is_refused_not_duplicated():
    ec2, _ = deployed()
    result = run(ec2, cidr_block="10.1.0.0/16")
    assert result["failed"] is True
    assert "10.0.0.0/16" in result["msg"] and "cannot change" in result["msg"]
    assert ec2.writes() == [] and len(ec2.vpcs) == 1


def test_a_subnet_in_another_zone_than_given_is_refused():
    ec2, _ = deployed()
    result = run(ec2, availability_zones=["us-east-1b", "us-east-1c"])
    assert result["failed"] is True
    assert PUBLIC[0] in result["msg"] and "us-east-1a" in result["msg"]
    assert ec2.writes() == []


def test_bad_arguments_fail_before_any_call():
    ec2 = FakeEc2()
    tables = [dict(ARGS["route_tables"][0], subnets=["nope"])]
    result = run(ec2, route_tables=tables, availability_zones=["us-east-1a"])
    assert result["failed"] is True
    assert "unknown subnets nope" in result["msg"] and "az_index 1 has no zone" in result["msg"]
    assert ec2.calls == []


def test_not_found_right_after_a_create_is_retried(no_sleep):
    ec2 = FakeEc2()
    ec2.fail("modify_subnet_attribute", "InvalidSubnetID.NotFound", times=2)
    ec2.fail("create_route", "InvalidRouteTableID.NotFound")
    result = run(ec2)
    assert result["failed"] is False, result
    assert_converged(ec2, result)
    assert ec2.count("modify_subnet_attribute") == 4  # 2 public subnets, one of them tried 3 times
    assert no_sleep.call_count == 3


def test_not_found_on_an_old_resource_is_not_retried():
    ec2, _ = deployed()
    ec2.by_name(ec2.subnets, PUBLIC[0])[0]["MapPublicIpOnLaunch"] = False
    ec2.fail("modify_subnet_attribute", "InvalidSubnetID.NotFound")
    result = run(ec2)
    assert result["failed"] is True
    assert ec2.count("modify_subnet_attribute") == 1


def test_absent_deletes_in_dependency_order_then_is_a_no_op():
    ec2, _ = deployed()
    result = run(ec2, ABSENT)
    assert result["changed"] is True and result["failed"] is False
    assert not (ec2.vpcs or ec2.subnets or ec2.igws or ec2.tables)
    ops = [op for op, _ in ec2.writes()]
    assert ops == (
        ["disassociate_route_table"] * 2
        + ["delete_route_table"]
        + ["disassociate_route_table"] * 2
        + ["delete_route_table", "detach_internet_gateway", "delete_internet_gateway"]
        + ["delete_subnet"] * 4
        + ["delete_vpc"]
    )
    ec2.reset_calls()
    again = run(ec2, ABSENT)
    assert again["changed"] is False
    assert ec2.writes() == []
    assert sorted(op for op, _ in ec2.calls) == ["describe_internet_gateways", "describe_vpcs"]


def test_absent_in_check_mode_deletes_nothing():
    ec2, _ = deployed()
    result = run(ec2, ABSENT, check=True)
    assert result["changed"] is True
    assert ec2.writes() == []
    assert len(result["deleted"]["subnets"]) == 4 and len(result["deleted"]["vpcs"]) == 1


def test_absent_removes_a_gateway_left_detached_and_every_duplicate_vpc():
    ec2, _ = deployed()
    (igw,) = ec2.igws.values()
    ec2.detach_internet_gateway(InternetGatewayId=igw["InternetGatewayId"], VpcId=igw["Attachments"][0]["VpcId"])
    ec2.create_vpc(
        CidrBlock="10.0.0.0/16",
        TagSpecifications=[{"ResourceType": "vpc", "Tags": tag_list(dict(TAGS, Name=ARGS["name"]))}],
    )
    result = run(ec2, ABSENT)
    assert result["failed"] is False
    assert not (ec2.vpcs or ec2.igws or ec2.subnets)


def test_dependency_violation_is_retried_with_backoff(no_sleep):
    ec2, _ = deployed()
    ec2.fail("delete_subnet", "DependencyViolation", times=3)
    ec2.fail("delete_vpc", "DependencyViolation")
    result = run(ec2, ABSENT)
    assert result["failed"] is False
    assert not ec2.vpcs
    assert ec2.count("delete_subnet") == 4 + 3
    assert no_sleep.call_count == 4


def test_dependency_violation_that_stays_fails_in_the_end():
    ec2, _ = deployed()
    ec2.fail("delete_vpc", "DependencyViolation", times=50)
    result = run(ec2, ABSENT)
    assert result["failed"] is True
    assert "Could not delete VPC" in result["msg"]
    assert ec2.count("delete_vpc") == 20


def test_diff_is_left_out_without_diff_mode():
    ec2 = FakeEc2()
    assert "diff" not in run(ec2, diff=False)
