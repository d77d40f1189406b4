#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: StreamFlix Platform Engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Ansible's module layout puts DOCUMENTATION/EXAMPLES/RETURN before the imports.
# ruff: noqa: E402

DOCUMENTATION = r"""
---
module: vpc_network
short_description: Converge a VPC with its subnets, internet gateway and route tables in one pass
version_added: 1.0.0
description:
  - Brings one VPC (CIDR, DNS support and hostnames, tags), its subnets, its internet
    gateway and its route tables (routes and subnet associations) to the given state
    in one process, from one read of each kind (C(DescribeVpcs) by tag, then
    C(DescribeSubnets), C(DescribeInternetGateways) and C(DescribeRouteTables) filtered
    by the VPC id), and sends only the writes that differ.
  - The VPC is found by its C(Name) tag (O(name)) and, when O(tags) has one, its
    C(Environment) tag, so a run after a killed one adopts what that run created
    instead of creating a second VPC. Two matching VPCs are refused with their ids.
    Subnets and route tables are found in the VPC by their C(Name) tag (a subnet also
    by its CIDR); the gateway attached to the VPC is used, else a detached one with
    the gateway's C(Name) and C(Environment) tags is attached.
  - Everything is created with its tags (C(TagSpecifications)), so no create leaves
    an untagged resource behind. Calls on an id created moments ago retry EC2's
    C(*.NotFound) answers (eventual consistency) with a jittered backoff.
  - With O(state=absent) every VPC found by its tags is deleted with what is in it, in
    dependency order (route table associations, route tables, gateway detach and
    delete, subnets, VPC); C(DependencyViolation) (network interfaces that AWS releases
    minutes after ECS tasks or Aurora instances are gone) is retried for up to ~6 minutes.
    Security groups other than the default one must be removed before (see
    M(streamflix.video_pipeline.vpc_security_groups)).
author:
  - StreamFlix Platform Engineering (@streamflix)
options:
  name:
    description: C(Name) tag of the VPC.
    required: true
    type: str
  cidr_block:
    description:
      - Primary IPv4 block of the VPC. It cannot change on an existing VPC (the module fails instead).
      - Required with O(state=present).
    type: str
  dns_support:
    description: Whether the Amazon DNS server answers in the VPC.
    type: bool
    default: true
  dns_hostnames:
    description: Whether instances get public DNS host names.
    type: bool
    default: true
  availability_zones:
    description:
      - Zones the subnets are placed in, indexed by a subnet's O(subnets[].az_index).
      - Empty picks zones only for subnets that do not exist yet; the zone of an existing
        subnet with the same O(subnets[].az_index) first, else the first available zones
        of the region in name order (C(DescribeAvailabilityZones) is called only then).
    type: list
    elements: str
    default: []
  subnets:
    description: The subnets of the VPC. Subnets of the VPC not listed are left alone.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: C(Name) tag of the subnet.
        required: true
        type: str
      cidr_block:
        description: IPv4 block of the subnet (it cannot change on an existing subnet).
        required: true
        type: str
      az_index:
        description: Index of the subnet's zone in O(availability_zones) (or in the zones picked).
        type: int
        default: 0
      map_public_ip_on_launch:
        description: Whether network interfaces launched in the subnet get a public IPv4 address.
        type: bool
        default: false
      tags:
        description: Tags of this subnet on top of O(tags) (for example C(Tier)).
        type: dict
        default: {}
  internet_gateway_name:
    description:
      - C(Name) tag of the internet gateway attached to the VPC.
      - When not given, no gateway is managed (and no route may target one).
    type: str
  route_tables:
    description:
      - Route tables of the VPC (never its main one). Routes listed are created or
        replaced, and other routes the table was given (C(CreateRoute)) are deleted;
        VPC-local routes and routes of VPC endpoints are left alone.
      - Each listed subnet is associated with the table (moved from another table if
        needed); other subnets associated with it are disassociated.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: C(Name) tag of the route table.
        required: true
        type: str
      subnets:
        description: O(subnets[].name) of the subnets associated with the table.
        type: list
        elements: str
        default: []
      routes:
        description: The table's routes besides the VPC-local one.
        type: list
        elements: dict
        default: []
        suboptions:
          destination_cidr_block:
            description: IPv4 destination of the route.
            required: true
            type: str
          target:
            description: Where the route leads; V(internet_gateway) is the gateway of O(internet_gateway_name).
            type: str
            choices: [internet_gateway]
            default: internet_gateway
  tags:
    description:
      - Tags of every resource the module manages. Each also gets its own C(Name) tag.
      - The C(Environment) tag, when given, is part of how the VPC and a detached gateway are found.
    type: dict
    default: {}
    aliases: [resource_tags]
  purge_tags:
    description: Whether tags not in O(tags) (and not C(aws:) ones) are removed.
    type: bool
    default: true
  state:
    description: V(present) converges the network; V(absent) deletes every VPC found by its tags and what is in it.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Supports check mode (nothing is created or changed; a resource that would be created
    has an empty id in the result) and diff mode.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: VPC, subnets, internet gateway and route tables of the dev env
  streamflix.video_pipeline.vpc_network:
    name: video-processing-vpc-dev
    cidr_block: 10.0.0.0/16
    internet_gateway_name: video-processing-igw-dev
    subnets:
      - {name: video-processing-public-a-dev, cidr_block: 10.0.0.0/20, az_index: 0, map_public_ip_on_launch: true}
      - {name: video-processing-public-b-dev, cidr_block: 10.0.16.0/20, az_index: 1, map_public_ip_on_launch: true}
      - {name: video-processing-private-a-dev, cidr_block: 10.0.32.0/20, az_index: 0, tags: {Tier: private}}
      - {name: video-processing-private-b-dev, cidr_block: 10.0.48.0/20, az_index: 1, tags: {Tier: private}}
    route_tables:
      - name: video-processing-public-rt-dev
        subnets: [video-processing-public-a-dev, video-processing-public-b-dev]
        routes:
          - destination_cidr_block: 0.0.0.0/0
            target: internet_gateway
      - name: video-processing-private-rt-dev
        subnets: [video-processing-private-a-dev, video-processing-private-b-dev]
    tags:
      Project: video-processing
      Environment: dev
  register: network

- name: Remove it
  streamflix.video_pipeline.vpc_network:
    name: video-processing-vpc-dev
    internet_gateway_name: video-processing-igw-dev
    tags:
      Environment: dev
    state: absent
"""

RETURN = r"""
vpc_id:
  description: ID of the VPC; empty when it does not exist (absent, or check mode would create it).
  returned: always
  type: str
  sample: vpc-0123456789abcdef0
subnets:
  description: The subnets of O(subnets), in the same order.
  returned: state=present
  type: list
  elements: dict
  contains:
    name:
      description: C(Name) tag.
      type: str
    subnet_id:
      description: ID; empty when check mode would create the subnet.
      type: str
    cidr_block:
      description: IPv4 block.
      type: str
    availability_zone:
      description: Zone of the subnet.
      type: str
    map_public_ip_on_launch:
      description: Whether interfaces get a public IPv4 address.
      type: bool
internet_gateway_id:
  description: ID of the internet gateway; empty when none is managed or check mode would create it.
  returned: state=present
  type: str
route_tables:
  description: The route tables of O(route_tables), in the same order.
  returned: state=present
  type: list
  elements: dict
  contains:
    name:
      description: C(Name) tag.
      type: str
    route_table_id:
      description: ID; empty when check mode would create the table.
      type: str
availability_zones:
  description: The zone of each O(subnets[].az_index), in index order.
  returned: state=present
  type: list
  elements: str
  sample: [us-east-1a, us-east-1b]
deleted:
  description: IDs of what was (or, in check mode, would be) deleted, by kind.
  returned: state=absent
  type: dict
  sample: {"vpcs": ["vpc-1"], "subnets": ["subnet-1"], "internet_gateways": ["igw-1"], "route_tables": ["rtb-1"]}
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.streamflix.video_pipeline.plugins.module_utils.errors import AWS_ERRORS
from ansible_collections.streamflix.video_pipeline.plugins.module_utils.vpc import (
    Ec2Writes,
    after_create_retry,
    describe,
    ec2_client,
    named,
    tag_filters,
    tag_specifications,
    tags_of,
)

# What EC2 gives a new VPC; only attributes that differ are set after a create.
NEW_VPC_ATTRIBUTES = {"dns_support": True, "dns_hostnames": False}
VPC_ATTRIBUTES = {"dns_support": "EnableDnsSupport", "dns_hostnames": "EnableDnsHostnames"}


def input_problems(params):
    """What is wrong with the module arguments, before any AWS call."""
    problems = []
    subnet_names = [s["name"] for s in params["subnets"]]
    if len(set(subnet_names)) != len(subnet_names):
        problems.append("subnet names must be unique")
    zones = params["availability_zones"]
    for subnet in params["subnets"]:
        if subnet["az_index"] < 0 or (zones and subnet["az_index"] >= len(zones)):
            problems.append("subnet {0}: az_index {1} has no zone".format(subnet["name"], subnet["az_index"]))
    associated = []
    for table in params["route_tables"]:
        unknown = [name for name in table["subnets"] if name not in subnet_names]
        if unknown:
            problems.append("route table {0}: unknown subnets {1}".format(table["name"], ", ".join(unknown)))
        associated.extend(table["subnets"])
        if table["routes"] and not params["internet_gateway_name"]:
            problems.append(
                "route table {0}: routes to the internet gateway need internet_gateway_name".format(table["name"])
            )
    twice = sorted(set(name for name in associated if associated.count(name) > 1))
    if twice:
        problems.append("a subnet has one route table; listed in several: {0}".format(", ".join(twice)))
    return problems


class Network:
    """One run of the module: reads, compares, and writes what differs through Ec2Writes."""

    def __init__(self, module, client):
        self.module = module
        self.client = client
        self.params = module.params
        self.writes = Ec2Writes(module, client)
        self.created = set()  # ids made in this run: calls on them retry "not found yet"
        self.before = {}
        self.after = {}

    # Reading

    def read(self, operation, key, **params):
        return describe(
            self.module, self.client, operation, key, "Could not describe ({0})".format(operation), **params
        )

    def identity(self, name):
        """The tags a VPC or a detached gateway is found by."""
        found_by = {"Name": name}
        if "Environment" in self.params["tags"]:
            found_by["Environment"] = self.params["tags"]["Environment"]
        return found_by

    def wanted_tags(self, name, extra=None):
        tags = dict(self.params["tags"])
        tags.update(extra or {})
        tags["Name"] = name
        return tags

    def find_vpcs(self):
        return self.read("describe_vpcs", "Vpcs", Filters=tag_filters(self.identity(self.params["name"])))

    def vpc_attribute(self, vpc_id, option):
        key = VPC_ATTRIBUTES[option]
        attribute = key[0].lower() + key[1:]
        try:
            answer = self.client.describe_vpc_attribute(aws_retry=True, VpcId=vpc_id, Attribute=attribute)
        except AWS_ERRORS as e:
            self.module.fail_json_aws(e, msg="Could not read {0} of {1}".format(attribute, vpc_id))
        return answer[key]["Value"]

    def made(self, resource_id):
        """Note an id created in this run ("" in check mode) and return it."""
        if resource_id:
            self.created.add(resource_id)
        return resource_id

    def retry_for(self, *ids):
        """The retry for a call on these ids: waits out "not found" only when one was just created."""
        return after_create_retry() if self.created.intersection(ids) else None

    # Present

    def ensure_present(self):
        vpcs = self.find_vpcs()
        if len(vpcs) > 1:
            self.module.fail_json(
                msg="{0} VPCs carry the tags {1}: {2}. Keep one (delete the others) and run again.".format(
                    len(vpcs), self.identity(self.params["name"]), ", ".join(sorted(v["VpcId"] for v in vpcs))
                )
            )
        vpc = vpcs[0] if vpcs else None
        vpc_id = self.converge_vpc(vpc)
        if vpc:
            subnets = self.read("describe_subnets", "Subnets", Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
            attached = self.read(
                "describe_internet_gateways",
                "InternetGateways",
                Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}],
            )
            tables = self.read("describe_route_tables", "RouteTables", Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
        else:
            subnets, attached, tables = [], [], []  # nothing can be in a VPC made just now

        subnet_results, zones = self.converge_subnets(vpc_id, subnets)
        igw_id = self.converge_internet_gateway(vpc_id, attached)
        subnet_ids = dict((s["name"], s["subnet_id"]) for s in subnet_results)
        names_of_ids = dict((s["SubnetId"], tags_of(s).get("Name", s["SubnetId"])) for s in subnets)
        table_results = self.converge_route_tables(vpc_id, tables, subnet_ids, names_of_ids, igw_id)
        return dict(
            changed=self.writes.changed,
            vpc_id=vpc_id,
            subnets=subnet_results,
            internet_gateway_id=igw_id,
            route_tables=table_results,
            availability_zones=[zones[index] for index in sorted(zones)],
            diff=dict(before=self.before, after=self.after),
        )

    def converge_vpc(self, vpc):
        p = self.params
        wanted = dict(
            name=p["name"],
            cidr_block=p["cidr_block"],
            dns_support=p["dns_support"],
            dns_hostnames=p["dns_hostnames"],
            tags=self.wanted_tags(p["name"]),
        )
        self.after["vpc"] = wanted
        if vpc is None:
            self.before["vpc"] = {}
            answer = self.writes.call(
                "create_vpc",
                "Could not create VPC {0}".format(p["name"]),
                CidrBlock=p["cidr_block"],
                TagSpecifications=tag_specifications("vpc", wanted["tags"]),
            )
            vpc_id = self.made(answer.get("Vpc", {}).get("VpcId", ""))
            current = dict(NEW_VPC_ATTRIBUTES)
        else:
            vpc_id = vpc["VpcId"]
            if vpc["CidrBlock"] != p["cidr_block"]:
                self.module.fail_json(
                    msg="VPC {0} ({1}) has the CIDR {2}, not {3}; a VPC's primary CIDR cannot change: "
                    "tear the env down first, or ask for {2} again.".format(
                        vpc_id, p["name"], vpc["CidrBlock"], p["cidr_block"]
                    )
                )
            current = dict((option, self.vpc_attribute(vpc_id, option)) for option in VPC_ATTRIBUTES)
            current_tags = tags_of(vpc)
            self.before["vpc"] = dict(name=p["name"], cidr_block=vpc["CidrBlock"], tags=current_tags, **current)
            self.writes.sync_tags(vpc_id, current_tags, wanted["tags"], p["purge_tags"])
        # ModifyVpcAttribute takes one attribute per call.
        for option, key in VPC_ATTRIBUTES.items():
            if current[option] != wanted[option]:
                self.writes.call(
                    "modify_vpc_attribute",
                    "Could not set {0} of {1}".format(key, vpc_id),
                    retry=self.retry_for(vpc_id),
                    VpcId=vpc_id,
                    **{key: {"Value": wanted[option]}},
                )
        return vpc_id

    def zones_by_index(self, matches):
        """{az_index: zone}: given, else taken from existing subnets, else the first free available zones."""
        given = self.params["availability_zones"]
        if given:
            return dict(enumerate(given))
        zones = {}
        for subnet in self.params["subnets"]:
            current = matches[subnet["name"]]
            if current:
                zones.setdefault(subnet["az_index"], current["AvailabilityZone"])
        missing = sorted(set(s["az_index"] for s in self.params["subnets"] if s["az_index"] not in zones))
        if missing:
            available = sorted(
                zone["ZoneName"]
                for zone in self.read(
                    "describe_availability_zones",
                    "AvailabilityZones",
                    Filters=[
                        {"Name": "state", "Values": ["available"]},
                        {"Name": "zone-type", "Values": ["availability-zone"]},
                    ],
                )
            )
            free = [zone for zone in available if zone not in zones.values()]
            if len(free) < len(missing):
                self.module.fail_json(
                    msg="The region has {0} available zones; the subnets need {1}.".format(
                        len(available), len(zones) + len(missing)
                    )
                )
            zones.update(zip(missing, free[: len(missing)], strict=True))
        return zones

    def converge_subnets(self, vpc_id, existing):
        p = self.params
        matches = {}
        for subnet in p["subnets"]:
            found = named(existing, subnet["name"])
            if len(found) > 1:
                self.module.fail_json(
                    msg="{0} subnets of {1} are named {2}: {3}; keep one.".format(
                        len(found), vpc_id, subnet["name"], ", ".join(s["SubnetId"] for s in found)
                    )
                )
            # by CIDR too: unique within a VPC, so a subnet that lost its Name tag is still ours
            found = found or [s for s in existing if s["CidrBlock"] == subnet["cidr_block"]]
            matches[subnet["name"]] = found[0] if found else None
        zones = self.zones_by_index(matches)

        results = []
        self.before["subnets"], self.after["subnets"] = {}, {}
        for subnet in p["subnets"]:
            current = matches[subnet["name"]]
            zone = zones[subnet["az_index"]]
            wanted_tags = self.wanted_tags(subnet["name"], subnet["tags"])
            public = subnet["map_public_ip_on_launch"]
            if current:
                subnet_id = current["SubnetId"]
                problems = []
                if current["CidrBlock"] != subnet["cidr_block"]:
                    problems.append("the CIDR {0}, not {1}".format(current["CidrBlock"], subnet["cidr_block"]))
                if p["availability_zones"] and current["AvailabilityZone"] != zone:
                    problems.append("the zone {0}, not {1}".format(current["AvailabilityZone"], zone))
                if problems:
                    self.module.fail_json(
                        msg="Subnet {0} ({1}) has {2}, which cannot change on a subnet: tear the env down first, "
                        "or ask for what exists.".format(subnet_id, subnet["name"], " and ".join(problems))
                    )
                zone = current["AvailabilityZone"]
                current_tags = tags_of(current)
                self.before["subnets"][subnet["name"]] = dict(
                    cidr_block=current["CidrBlock"],
                    availability_zone=zone,
                    map_public_ip_on_launch=current["MapPublicIpOnLaunch"],
                    tags=current_tags,
                )
                self.writes.sync_tags(subnet_id, current_tags, wanted_tags, p["purge_tags"])
                modify = current["MapPublicIpOnLaunch"] != public
            else:
                answer = self.writes.call(
                    "create_subnet",
                    "Could not create subnet {0}".format(subnet["name"]),
                    retry=self.retry_for(vpc_id),
                    VpcId=vpc_id,
                    CidrBlock=subnet["cidr_block"],
                    AvailabilityZone=zone,
                    TagSpecifications=tag_specifications("subnet", wanted_tags),
                )
                subnet_id = self.made(answer.get("Subnet", {}).get("SubnetId", ""))
                modify = public  # CreateSubnet cannot set it; a new subnet does not map public IPs
            if modify:
                self.writes.call(
                    "modify_subnet_attribute",
                    "Could not set MapPublicIpOnLaunch of {0}".format(subnet["name"]),
                    retry=self.retry_for(subnet_id),
                    SubnetId=subnet_id,
                    MapPublicIpOnLaunch={"Value": public},
                )
            self.after["subnets"][subnet["name"]] = dict(
                cidr_block=subnet["cidr_block"],
                availability_zone=zone,
                map_public_ip_on_launch=public,
                tags=wanted_tags,
            )
            results.append(
                dict(
                    name=subnet["name"],
                    subnet_id=subnet_id,
                    cidr_block=subnet["cidr_block"],
                    availability_zone=zone,
                    map_public_ip_on_launch=public,
                )
            )
        return results, zones

    def converge_internet_gateway(self, vpc_id, attached):
        name = self.params["internet_gateway_name"]
        if not name:
            return ""
        wanted_tags = self.wanted_tags(name)
        self.after["internet_gateway"] = dict(name=name, attached=True, tags=wanted_tags)
        if attached:
            igw = attached[0]
            self.before["internet_gateway"] = dict(name=name, attached=True, tags=tags_of(igw))
            self.writes.sync_tags(igw["InternetGatewayId"], tags_of(igw), wanted_tags, self.params["purge_tags"])
            return igw["InternetGatewayId"]
        # A run killed between creating and attaching the gateway (or a teardown killed
        # between detaching and deleting it) left it detached: adopt it.
        detached = [
            igw
            for igw in self.read(
                "describe_internet_gateways", "InternetGateways", Filters=tag_filters(self.identity(name))
            )
            if not igw.get("Attachments")
        ]
        if detached:
            igw_id = detached[0]["InternetGatewayId"]
            self.before["internet_gateway"] = dict(name=name, attached=False, tags=tags_of(detached[0]))
            self.writes.sync_tags(igw_id, tags_of(detached[0]), wanted_tags, self.params["purge_tags"])
        else:
            self.before["internet_gateway"] = {}
            answer = self.writes.call(
                "create_internet_gateway",
                "Could not create internet gateway {0}".format(name),
                TagSpecifications=tag_specifications("internet-gateway", wanted_tags),
            )
            igw_id = self.made(answer.get("InternetGateway", {}).get("InternetGatewayId", ""))
        self.writes.call(
            "attach_internet_gateway",
            "Could not attach internet gateway {0} to {1}".format(name, vpc_id),
            retry=self.retry_for(igw_id, vpc_id),
            InternetGatewayId=igw_id,
            VpcId=vpc_id,
        )
        return igw_id

    def converge_route_tables(self, vpc_id, tables, subnet_ids, names_of_ids, igw_id):
        p = self.params
        # subnet id -> (route table id, association id) of every explicit association in
        # the VPC, kept up to date as associations move, so no stale id is ever sent.
        associations = {}
        for table in tables:
            for association in table.get("Associations", []):
                if association.get("SubnetId") and not association.get("Main"):
                    associations[association["SubnetId"]] = (
                        table["RouteTableId"],
                        association["RouteTableAssociationId"],
                    )

        table_ids = {}
        self.before["route_tables"], self.after["route_tables"] = {}, {}
        for wanted in p["route_tables"]:
            found = [
                t for t in named(tables, wanted["name"]) if not any(a.get("Main") for a in t.get("Associations", []))
            ]
            if len(found) > 1:
                self.module.fail_json(
                    msg="{0} route tables of {1} are named {2}: {3}; keep one.".format(
                        len(found), vpc_id, wanted["name"], ", ".join(t["RouteTableId"] for t in found)
                    )
                )
            wanted_tags = self.wanted_tags(wanted["name"])
            if found:
                table = found[0]
                table_id = table["RouteTableId"]
                self.before["route_tables"][wanted["name"]] = dict(
                    routes=dict(
                        (destination, route.get("GatewayId", ""))
                        for destination, route in self.own_routes(table).items()
                    ),
                    subnets=sorted(names_of_ids.get(s, s) for s, (t, _a) in associations.items() if t == table_id),
                    tags=tags_of(table),
                )
                self.writes.sync_tags(table_id, tags_of(table), wanted_tags, p["purge_tags"])
            else:
                table = {}
                self.before["route_tables"][wanted["name"]] = {}
                answer = self.writes.call(
                    "create_route_table",
                    "Could not create route table {0}".format(wanted["name"]),
                    retry=self.retry_for(vpc_id),
                    VpcId=vpc_id,
                    TagSpecifications=tag_specifications("route-table", wanted_tags),
                )
                table_id = self.made(answer.get("RouteTable", {}).get("RouteTableId", ""))
            table_ids[wanted["name"]] = table_id
            self.converge_routes(table_id, table, wanted, igw_id)
            self.after["route_tables"][wanted["name"]] = dict(
                routes=dict(
                    (r["destination_cidr_block"], igw_id or "internet gateway {0}".format(p["internet_gateway_name"]))
                    for r in wanted["routes"]
                ),
                subnets=sorted(wanted["subnets"]),
                tags=wanted_tags,
            )

        for wanted in p["route_tables"]:
            table_id = table_ids[wanted["name"]]
            for subnet_name in wanted["subnets"]:
                subnet_id = subnet_ids[subnet_name]
                if not (table_id and subnet_id):
                    continue  # check mode: one of them would be created, already a change
                current = associations.get(subnet_id)
                if current and current[0] == table_id:
                    continue
                msg = "Could not associate {0} with {1}".format(subnet_name, wanted["name"])
                if current:
                    answer = self.writes.call(
                        "replace_route_table_association", msg, AssociationId=current[1], RouteTableId=table_id
                    )
                    association_id = answer.get("NewAssociationId", "")
                else:
                    answer = self.writes.call(
                        "associate_route_table",
                        msg,
                        retry=self.retry_for(table_id, subnet_id),
                        RouteTableId=table_id,
                        SubnetId=subnet_id,
                    )
                    association_id = answer.get("AssociationId", "")
                associations[subnet_id] = (table_id, association_id)
        for wanted in p["route_tables"]:
            table_id = table_ids[wanted["name"]]
            keep = set(subnet_ids[name] for name in wanted["subnets"])
            for subnet_id, (associated_table, association_id) in sorted(associations.items()):
                if table_id and associated_table == table_id and subnet_id not in keep:
                    self.writes.call(
                        "disassociate_route_table",
                        "Could not disassociate {0} from {1}".format(subnet_id, wanted["name"]),
                        AssociationId=association_id,
                    )
                    del associations[subnet_id]
        return [dict(name=t["name"], route_table_id=table_ids[t["name"]]) for t in p["route_tables"]]

    @staticmethod
    def own_routes(table):
        """{destination: route} of the routes given to the table (not local ones, not VPC endpoints')."""
        routes = {}
        for route in table.get("Routes", []):
            destination = route.get("DestinationCidrBlock") or route.get("DestinationIpv6CidrBlock")
            if route.get("Origin") == "CreateRoute" and destination and route.get("GatewayId") != "local":
                routes[destination] = route
        return routes

    def converge_routes(self, table_id, table, wanted, igw_id):
        current = self.own_routes(table)
        wanted_routes = dict((r["destination_cidr_block"], igw_id) for r in wanted["routes"])
        for destination, gateway_id in sorted(wanted_routes.items()):
            route = current.get(destination)
            if route and route.get("GatewayId") == gateway_id and route.get("State") != "blackhole":
                continue
            msg = "Could not route {0} of {1} to {2}".format(destination, wanted["name"], gateway_id)
            retry = self.retry_for(table_id, gateway_id)
            params = dict(RouteTableId=table_id, DestinationCidrBlock=destination, GatewayId=gateway_id)
            self.writes.call("replace_route" if route else "create_route", msg, retry=retry, **params)
        for destination, route in sorted(current.items()):
            if destination not in wanted_routes:
                key = "DestinationCidrBlock" if route.get("DestinationCidrBlock") else "DestinationIpv6CidrBlock"
                self.writes.call(
                    "delete_route",
                    "Could not delete the route {0} of {1}".format(destination, wanted["name"]),
                    gone_ok=True,
                    RouteTableId=table_id,
                    **{key: destination},
                )

    # Absent

    def ensure_absent(self):
        vpcs = self.find_vpcs()
        vpc_ids = sorted(v["VpcId"] for v in vpcs)
        tables, subnets, igws = [], [], {}
        if vpc_ids:
            in_vpcs = [{"Name": "vpc-id", "Values": vpc_ids}]
            tables = self.read("describe_route_tables", "RouteTables", Filters=in_vpcs)
            subnets = self.read("describe_subnets", "Subnets", Filters=in_vpcs)
            for igw in self.read(
                "describe_internet_gateways",
                "InternetGateways",
                Filters=[{"Name": "attachment.vpc-id", "Values": vpc_ids}],
            ):
                igws[igw["InternetGatewayId"]] = igw
        name = self.params["internet_gateway_name"]
        if name:
            # a gateway left detached by a killed run is still the env's
            for igw in self.read(
                "describe_internet_gateways", "InternetGateways", Filters=tag_filters(self.identity(name))
            ):
                igws.setdefault(igw["InternetGatewayId"], igw)
        tables = [t for t in tables if not any(a.get("Main") for a in t.get("Associations", []))]
        deleted = dict(
            route_tables=[t["RouteTableId"] for t in tables],
            internet_gateways=sorted(igws),
            subnets=[s["SubnetId"] for s in subnets],
            vpcs=vpc_ids,
        )

        for table in tables:
            for association in table.get("Associations", []):
                self.writes.call(
                    "disassociate_route_table",
                    "Could not disassociate {0}".format(association["RouteTableAssociationId"]),
                    gone_ok=True,
                    AssociationId=association["RouteTableAssociationId"],
                )
            self.writes.delete(
                "delete_route_table",
                "Could not delete route table {0}".format(table["RouteTableId"]),
                RouteTableId=table["RouteTableId"],
            )
        for igw_id, igw in sorted(igws.items()):
            for attachment in igw.get("Attachments", []):
                # DependencyViolation while public addresses are still mapped in the VPC
                self.writes.delete(
                    "detach_internet_gateway",
                    "Could not detach internet gateway {0} from {1}".format(igw_id, attachment["VpcId"]),
                    InternetGatewayId=igw_id,
                    VpcId=attachment["VpcId"],
                )
            self.writes.delete(
                "delete_internet_gateway",
                "Could not delete internet gateway {0}".format(igw_id),
                InternetGatewayId=igw_id,
            )
        for subnet in subnets:
            self.writes.delete(
                "delete_subnet", "Could not delete subnet {0}".format(subnet["SubnetId"]), SubnetId=subnet["SubnetId"]
            )
        for vpc_id in vpc_ids:
            self.writes.delete("delete_vpc", "Could not delete VPC {0}".format(vpc_id), VpcId=vpc_id)
        return dict(
            changed=self.writes.changed,
            vpc_id="",
            deleted=deleted,
            diff=dict(before=deleted if self.writes.changed else {}, after={}),
        )


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        cidr_block=dict(type="str"),
        dns_support=dict(type="bool", default=True),
        dns_hostnames=dict(type="bool", default=True),
        availability_zones=dict(type="list", elements="str", default=[]),
        subnets=dict(
            type="list",
            elements="dict",
            default=[],
            options=dict(
                name=dict(type="str", required=True),
                cidr_block=dict(type="str", required=True),
                az_index=dict(type="int", default=0),
                map_public_ip_on_launch=dict(type="bool", default=False),
                tags=dict(type="dict", default={}),
            ),
        ),
        internet_gateway_name=dict(type="str"),
        route_tables=dict(
            type="list",
            elements="dict",
            default=[],
            options=dict(
                name=dict(type="str", required=True),
                subnets=dict(type="list", elements="str", default=[]),
                routes=dict(
                    type="list",
                    elements="dict",
                    default=[],
                    options=dict(
                        destination_cidr_block=dict(type="str", required=True),
                        target=dict(type="str", choices=["internet_gateway"], default="internet_gateway"),
                    ),
                ),
            ),
        ),
        tags=dict(type="dict", default={}, aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        required_if=[("state", "present", ["cidr_block"])],
        supports_check_mode=True,
    )
    problems = input_problems(module.params)
    if problems:
        module.fail_json(msg="Invalid arguments: {0}.".format("; ".join(problems)))
    network = Network(module, ec2_client(module))
    result = network.ensure_present() if module.params["state"] == "present" else network.ensure_absent()
    if not module._diff:
        result.pop("diff")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
