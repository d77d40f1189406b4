"""The network role's SPEC settings, read back from the shared full-stack env (conftest.py: stack_env).

A second run of the role alone, and its teardown, are the molecule scenario
extensions/molecule/network/; check mode and teardown of all six roles are
test_check_mode.py and test_full_stack.py.
"""

from __future__ import annotations

import pytest


def tags_of(resource) -> dict:
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


def by_name(ec2_items, name):
    found = [item for item in ec2_items if tags_of(item).get("Name") == name]
    assert len(found) == 1, f"expected exactly one {name}, found {len(found)}"
    return found[0]


@pytest.fixture(scope="module")
def env_name(stack_env):
    return stack_env.name


@pytest.fixture(scope="module")
def vpc(env_name, aws):
    vpcs = aws("ec2").describe_vpcs(Filters=[{"Name": "tag:Environment", "Values": [env_name]}])["Vpcs"]
    assert len(vpcs) == 1
    return vpcs[0]


def assert_standard_tags(resource, env_name):
    tags = tags_of(resource)
    assert tags["Project"] == "video-processing"
    assert tags["Environment"] == env_name
    assert tags["ManagedBy"] == "ansible"
    assert tags["Component"] == "network"


def test_vpc(vpc, env_name, aws):
    ec2 = aws("ec2")
    assert tags_of(vpc)["Name"] == f"video-processing-vpc-{env_name}"
    assert vpc["CidrBlock"] == "10.0.0.0/16"
    assert_standard_tags(vpc, env_name)
    for attribute, key in (("enableDnsSupport", "EnableDnsSupport"), ("enableDnsHostnames", "EnableDnsHostnames")):
        assert ec2.describe_vpc_attribute(VpcId=vpc["VpcId"], Attribute=attribute)[key]["Value"] is True


def test_subnets(vpc, env_name, aws):
    subnets = aws("ec2").describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"]
    assert len(subnets) == 4
    public = [by_name(subnets, f"video-processing-public-{x}-{env_name}") for x in "ab"]
    private = [by_name(subnets, f"video-processing-private-{x}-{env_name}") for x in "ab"]
    assert all(s["MapPublicIpOnLaunch"] for s in public)
    assert not any(s["MapPublicIpOnLaunch"] for s in private)
    assert public[0]["AvailabilityZone"] != public[1]["AvailabilityZone"]
    assert [s["AvailabilityZone"] for s in public] == [s["AvailabilityZone"] for s in private]
    cidrs = [s["CidrBlock"] for s in public + private]
    assert cidrs == ["10.0.0.0/20", "10.0.16.0/20", "10.0.32.0/20", "10.0.48.0/20"]
    for subnet in subnets:
        assert_standard_tags(subnet, env_name)


def test_internet_gateway_and_routes(vpc, env_name, aws):
    ec2 = aws("ec2")
    igws = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc["VpcId"]]}])[
        "InternetGateways"
    ]
    assert len(igws) == 1
    assert tags_of(igws[0])["Name"] == f"video-processing-igw-{env_name}"
    assert_standard_tags(igws[0], env_name)

    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"]
    subnet_ids = {tags_of(s)["Name"]: s["SubnetId"] for s in subnets}
    tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["RouteTables"]
    public_rt = by_name(tables, f"video-processing-public-rt-{env_name}")
    private_rt = by_name(tables, f"video-processing-private-rt-{env_name}")

    def associated(table):
        return sorted(a["SubnetId"] for a in table["Associations"] if a.get("SubnetId"))

    assert associated(public_rt) == sorted(subnet_ids[f"video-processing-public-{x}-{env_name}"] for x in "ab")
    assert associated(private_rt) == sorted(subnet_ids[f"video-processing-private-{x}-{env_name}"] for x in "ab")
    default_routes = [r for r in public_rt["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"]
    assert [r.get("GatewayId") for r in default_routes] == [igws[0]["InternetGatewayId"]]
    # the private table reaches nothing but the VPC itself
    assert [r.get("GatewayId") for r in private_rt["Routes"]] == ["local"]
    assert_standard_tags(public_rt, env_name)
    assert_standard_tags(private_rt, env_name)


def _group(aws, vpc, name):
    groups = aws("ec2").describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}, {"Name": "group-name", "Values": [name]}]
    )["SecurityGroups"]
    assert len(groups) == 1, f"expected one security group {name}"
    return groups[0]


def _rules(permissions):
    """Flatten IpPermissions into comparable (proto, from, to, source) tuples."""
    rules = set()
    for perm in permissions:
        key = (perm["IpProtocol"], perm.get("FromPort"), perm.get("ToPort"))
        for rng in perm.get("IpRanges", []):
            rules.add((*key, rng["CidrIp"]))
        for pair in perm.get("UserIdGroupPairs", []):
            rules.add((*key, pair["GroupId"]))
        for rng in perm.get("Ipv6Ranges", []):
            rules.add((*key, rng["CidrIpv6"]))
    return rules


def test_security_groups(vpc, env_name, aws):
    ecs = _group(aws, vpc, f"video-processing-ecs-sg-{env_name}")
    db = _group(aws, vpc, f"video-metadata-db-sg-{env_name}")
    # ECS: no ingress at all; egress HTTPS anywhere and PostgreSQL to the DB group only
    assert _rules(ecs["IpPermissions"]) == set()
    assert _rules(ecs["IpPermissionsEgress"]) == {("tcp", 443, 443, "0.0.0.0/0"), ("tcp", 5432, 5432, db["GroupId"])}
    # DB: PostgreSQL from the ECS group only, nothing else either way
    assert _rules(db["IpPermissions"]) == {("tcp", 5432, 5432, ecs["GroupId"])}
    assert _rules(db["IpPermissionsEgress"]) == set()
    assert_standard_tags(ecs, env_name)
    assert_standard_tags(db, env_name)
