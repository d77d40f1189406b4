"""An in-memory EC2 for the unit tests of vpc_network and vpc_security_groups.

It keeps VPCs, subnets, internet gateways, route tables and security groups
the way EC2 answers about them (a new VPC gets its main route table and its
default security group; a new group its allow-all egress rule), logs every call
(`calls`, `writes()`), and raises the error codes queued in `faults` before
answering (`ec2.fail("delete_vpc", "DependencyViolation", times=2)`).
"""

from __future__ import annotations

import copy
import itertools

from tests.unit.plugins.modules.fakes import client_error

READS = ("describe_",)
ZONES = ["us-east-1c", "us-east-1a", "us-east-1b"]  # unordered on purpose: the module sorts


def tag_list(tags: dict) -> list[dict]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def tags_dict(resource: dict) -> dict:
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


class FakeEc2:
    def __init__(self):
        self.vpcs: dict[str, dict] = {}
        self.attributes: dict[str, dict] = {}
        self.subnets: dict[str, dict] = {}
        self.igws: dict[str, dict] = {}
        self.tables: dict[str, dict] = {}
        self.groups: dict[str, dict] = {}
        self.calls: list[tuple[str, dict]] = []
        self.faults: dict[str, list[str]] = {}
        self._ids = itertools.count(1)

    # test helpers

    def new_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids):04d}"

    def fail(self, operation: str, code: str, times: int = 1) -> None:
        self.faults.setdefault(operation, []).extend([code] * times)

    def writes(self) -> list[tuple[str, dict]]:
        return [(op, params) for op, params in self.calls if not op.startswith(READS)]

    def count(self, operation: str) -> int:
        return sum(1 for op, _ in self.calls if op == operation)

    def reset_calls(self) -> None:
        self.calls = []

    def resource(self, resource_id: str) -> dict:
        for store in (self.vpcs, self.subnets, self.igws, self.tables, self.groups):
            if resource_id in store:
                return store[resource_id]
        raise client_error("InvalidID", "CreateTags")

    def by_name(self, store: dict, name: str) -> list[dict]:
        return [item for item in store.values() if tags_dict(item).get("Name") == name]

    # plumbing

    def __getattr__(self, operation):
        handler = getattr(self, f"_{operation}", None)
        if handler is None:
            raise AttributeError(operation)

        def call(aws_retry=False, **params):
            self.calls.append((operation, copy.deepcopy(params)))
            queued = self.faults.get(operation)
            if queued:
                raise client_error(queued.pop(0), operation)
            return copy.deepcopy(handler(**params))

        return call

    @staticmethod
    def _matches(item: dict, filters: list[dict] | None, fields: dict) -> bool:
        for f in filters or []:
            name, values = f["Name"], f["Values"]
            got = [tags_dict(item).get(name[4:])] if name.startswith("tag:") else fields[name](item)
            if not set(values).intersection(v for v in got if v is not None):
                return False
        return True

    def _select(self, store: dict, filters, fields) -> list[dict]:
        return [item for item in store.values() if self._matches(item, filters, fields)]

    @staticmethod
    def _tags_from(spec, resource_type) -> list[dict]:
        for s in spec or []:
            if s["ResourceType"] == resource_type:
                return list(s["Tags"])
        return []

    def _need(self, store, key, code):
        if key not in store:
            raise client_error(code)
        return store[key]

    # VPCs

    def _describe_vpcs(self, Filters=None):
        return {"Vpcs": self._select(self.vpcs, Filters, {"vpc-id": lambda v: [v["VpcId"]]})}

    def _create_vpc(self, CidrBlock, TagSpecifications=None):
        vpc_id = self.new_id("vpc")
        self.vpcs[vpc_id] = {"VpcId": vpc_id, "CidrBlock": CidrBlock, "Tags": self._tags_from(TagSpecifications, "vpc")}
        self.attributes[vpc_id] = {"EnableDnsSupport": True, "EnableDnsHostnames": False}
        main = self.new_id("rtb")
        self.tables[main] = {
            "RouteTableId": main,
            "VpcId": vpc_id,
            "Routes": [{"DestinationCidrBlock": CidrBlock, "GatewayId": "local", "Origin": "CreateRouteTable"}],
            "Associations": [{"Main": True, "RouteTableAssociationId": self.new_id("rtbassoc"), "RouteTableId": main}],
            "Tags": [],
        }
        default_sg = self.new_id("sg")
        self.groups[default_sg] = {
            "GroupId": default_sg,
            "GroupName": "default",
            "Description": "default VPC security group",
            "VpcId": vpc_id,
            "IpPermissions": [],
            "IpPermissionsEgress": [],
            "Tags": [],
        }
        return {"Vpc": self.vpcs[vpc_id]}

    def _describe_vpc_attribute(self, VpcId, Attribute):
        key = Attribute[0].upper() + Attribute[1:]
        return {"VpcId": VpcId, key: {"Value": self._need(self.attributes, VpcId, "InvalidVpcID.NotFound")[key]}}

    def _modify_vpc_attribute(self, VpcId, **attribute):
        ((key, value),) = attribute.items()
        self._need(self.attributes, VpcId, "InvalidVpcID.NotFound")[key] = value["Value"]
        return {}

    def _delete_vpc(self, VpcId):
        self._need(self.vpcs, VpcId, "InvalidVpcID.NotFound")
        if any(s["VpcId"] == VpcId for s in self.subnets.values()) or any(
            g["Attachments"] and g["Attachments"][0]["VpcId"] == VpcId for g in self.igws.values()
        ):
            raise client_error("DependencyViolation")
        if any(g["VpcId"] == VpcId and g["GroupName"] != "default" for g in self.groups.values()):
            raise client_error("DependencyViolation")
        if any(t["VpcId"] == VpcId and not any(a.get("Main") for a in t["Associations"]) for t in self.tables.values()):
            raise client_error("DependencyViolation")
        del self.vpcs[VpcId]
        self.tables = {k: t for k, t in self.tables.items() if t["VpcId"] != VpcId}
        self.groups = {k: g for k, g in self.groups.items() if g["VpcId"] != VpcId}
        return {}

    # subnets and zones

    def _describe_availability_zones(self, Filters=None):
        return {"AvailabilityZones": [{"ZoneName": z, "State": "available"} for z in ZONES]}

    def _describe_subnets(self, Filters=None):
        return {"Subnets": self._select(self.subnets, Filters, {"vpc-id": lambda s: [s["VpcId"]]})}

    def _create_subnet(self, VpcId, CidrBlock, AvailabilityZone, TagSpecifications=None):
        self._need(self.vpcs, VpcId, "InvalidVpcID.NotFound")
        subnet_id = self.new_id("subnet")
        self.subnets[subnet_id] = {
            "SubnetId": subnet_id,
            "VpcId": VpcId,
            "CidrBlock": CidrBlock,
            "AvailabilityZone": AvailabilityZone,
            "MapPublicIpOnLaunch": False,
            "Tags": self._tags_from(TagSpecifications, "subnet"),
        }
        return {"Subnet": self.subnets[subnet_id]}

    def _modify_subnet_attribute(self, SubnetId, MapPublicIpOnLaunch):
        self._need(self.subnets, SubnetId, "InvalidSubnetID.NotFound")["MapPublicIpOnLaunch"] = MapPublicIpOnLaunch[
            "Value"
        ]
        return {}

    def _delete_subnet(self, SubnetId):
        self._need(self.subnets, SubnetId, "InvalidSubnetID.NotFound")
        del self.subnets[SubnetId]
        for table in self.tables.values():
            table["Associations"] = [a for a in table["Associations"] if a.get("SubnetId") != SubnetId]
        return {}

    # internet gateways

    def _describe_internet_gateways(self, Filters=None):
        fields = {"attachment.vpc-id": lambda g: [a["VpcId"] for a in g["Attachments"]]}
        return {"InternetGateways": self._select(self.igws, Filters, fields)}

    def _create_internet_gateway(self, TagSpecifications=None):
        igw_id = self.new_id("igw")
        self.igws[igw_id] = {
            "InternetGatewayId": igw_id,
            "Attachments": [],
            "Tags": self._tags_from(TagSpecifications, "internet-gateway"),
        }
        return {"InternetGateway": self.igws[igw_id]}

    def _attach_internet_gateway(self, InternetGatewayId, VpcId):
        igw = self._need(self.igws, InternetGatewayId, "InvalidInternetGatewayID.NotFound")
        self._need(self.vpcs, VpcId, "InvalidVpcID.NotFound")
        if igw["Attachments"]:
            raise client_error("Resource.AlreadyAssociated")
        igw["Attachments"] = [{"VpcId": VpcId, "State": "available"}]
        return {}

    def _detach_internet_gateway(self, InternetGatewayId, VpcId):
        igw = self._need(self.igws, InternetGatewayId, "InvalidInternetGatewayID.NotFound")
        if not igw["Attachments"]:
            raise client_error("Gateway.NotAttached")
        igw["Attachments"] = []
        return {}

    def _delete_internet_gateway(self, InternetGatewayId):
        igw = self._need(self.igws, InternetGatewayId, "InvalidInternetGatewayID.NotFound")
        if igw["Attachments"]:
            raise client_error("DependencyViolation")
        del self.igws[InternetGatewayId]
        return {}

    # route tables

    def _describe_route_tables(self, Filters=None):
        return {"RouteTables": self._select(self.tables, Filters, {"vpc-id": lambda t: [t["VpcId"]]})}

    def _create_route_table(self, VpcId, TagSpecifications=None):
        vpc = self._need(self.vpcs, VpcId, "InvalidVpcID.NotFound")
        table_id = self.new_id("rtb")
        self.tables[table_id] = {
            "RouteTableId": table_id,
            "VpcId": VpcId,
            "Routes": [{"DestinationCidrBlock": vpc["CidrBlock"], "GatewayId": "local", "Origin": "CreateRouteTable"}],
            "Associations": [],
            "Tags": self._tags_from(TagSpecifications, "route-table"),
        }
        return {"RouteTable": self.tables[table_id]}

    def _table(self, table_id):
        return self._need(self.tables, table_id, "InvalidRouteTableID.NotFound")

    def _create_route(self, RouteTableId, DestinationCidrBlock, GatewayId):
        table = self._table(RouteTableId)
        if any(r.get("DestinationCidrBlock") == DestinationCidrBlock for r in table["Routes"]):
            raise client_error("RouteAlreadyExists")
        table["Routes"].append(
            {
                "DestinationCidrBlock": DestinationCidrBlock,
                "GatewayId": GatewayId,
                "Origin": "CreateRoute",
                "State": "active",
            }
        )
        return {"Return": True}

    def _replace_route(self, RouteTableId, DestinationCidrBlock, GatewayId):
        table = self._table(RouteTableId)
        for route in table["Routes"]:
            if route.get("DestinationCidrBlock") == DestinationCidrBlock:
                route.update(GatewayId=GatewayId, State="active")
                return {}
        raise client_error("InvalidRoute.NotFound")

    def _delete_route(self, RouteTableId, DestinationCidrBlock=None, DestinationIpv6CidrBlock=None):
        table = self._table(RouteTableId)
        table["Routes"] = [
            r
            for r in table["Routes"]
            if not (
                (DestinationCidrBlock and r.get("DestinationCidrBlock") == DestinationCidrBlock)
                or (DestinationIpv6CidrBlock and r.get("DestinationIpv6CidrBlock") == DestinationIpv6CidrBlock)
            )
        ]
        return {}

    def _association(self, association_id):
        for table in self.tables.values():
            for association in table["Associations"]:
                if association["RouteTableAssociationId"] == association_id:
                    return table, association
        raise client_error("InvalidAssociationID.NotFound")

    def _associate_route_table(self, RouteTableId, SubnetId):
        table = self._table(RouteTableId)
        self._need(self.subnets, SubnetId, "InvalidSubnetID.NotFound")
        for other in self.tables.values():
            if any(a.get("SubnetId") == SubnetId for a in other["Associations"]):
                raise client_error("Resource.AlreadyAssociated")
        association_id = self.new_id("rtbassoc")
        table["Associations"].append(
            {
                "Main": False,
                "RouteTableAssociationId": association_id,
                "RouteTableId": RouteTableId,
                "SubnetId": SubnetId,
            }
        )
        return {"AssociationId": association_id}

    def _replace_route_table_association(self, AssociationId, RouteTableId):
        old_table, association = self._association(AssociationId)
        new_table = self._table(RouteTableId)
        old_table["Associations"].remove(association)
        new_id = self.new_id("rtbassoc")
        new_table["Associations"].append(dict(association, RouteTableAssociationId=new_id, RouteTableId=RouteTableId))
        return {"NewAssociationId": new_id}

    def _disassociate_route_table(self, AssociationId):
        table, association = self._association(AssociationId)
        table["Associations"].remove(association)
        return {}

    def _delete_route_table(self, RouteTableId):
        table = self._table(RouteTableId)
        if table["Associations"]:
            raise client_error("DependencyViolation")
        del self.tables[RouteTableId]
        return {}

    # tags

    def _create_tags(self, Resources, Tags):
        for resource_id in Resources:
            resource = self.resource(resource_id)
            tags = tags_dict(resource)
            tags.update({t["Key"]: t["Value"] for t in Tags})
            resource["Tags"] = tag_list(tags)
        return {}

    def _delete_tags(self, Resources, Tags):
        for resource_id in Resources:
            resource = self.resource(resource_id)
            drop = {t["Key"] for t in Tags}
            resource["Tags"] = [t for t in resource.get("Tags", []) if t["Key"] not in drop]
        return {}

    # security groups

    def _describe_security_groups(self, Filters=None):
        fields = {"vpc-id": lambda g: [g["VpcId"]], "group-name": lambda g: [g["GroupName"]]}
        return {"SecurityGroups": self._select(self.groups, Filters, fields)}

    def _create_security_group(self, GroupName, Description, VpcId, TagSpecifications=None):
        self._need(self.vpcs, VpcId, "InvalidVpcID.NotFound")
        if any(g["GroupName"] == GroupName and g["VpcId"] == VpcId for g in self.groups.values()):
            raise client_error("InvalidGroup.Duplicate")
        group_id = self.new_id("sg")
        self.groups[group_id] = {
            "GroupId": group_id,
            "GroupName": GroupName,
            "Description": Description,
            "VpcId": VpcId,
            "IpPermissions": [],
            "IpPermissionsEgress": [
                {
                    "IpProtocol": "-1",
                    "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                    "Ipv6Ranges": [],
                    "PrefixListIds": [],
                    "UserIdGroupPairs": [],
                }
            ],
            "Tags": self._tags_from(TagSpecifications, "security-group"),
        }
        return {"GroupId": group_id}

    def _group(self, group_id):
        return self._need(self.groups, group_id, "InvalidGroup.NotFound")

    @staticmethod
    def _flat(permissions):
        """(proto, from, to, kind, target, description) of each rule."""
        for perm in permissions:
            key = (perm["IpProtocol"], perm.get("FromPort"), perm.get("ToPort"))
            for r in perm.get("IpRanges", []):
                yield (*key, "cidr", r["CidrIp"], r.get("Description"))
            for r in perm.get("UserIdGroupPairs", []):
                yield (*key, "group", r["GroupId"], r.get("Description"))

    @staticmethod
    def _unflat(rules):
        permissions = []
        for proto, from_port, to_port, kind, target, description in rules:
            perm = {"IpProtocol": proto, "IpRanges": [], "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": []}
            if proto != "-1":
                perm.update(FromPort=from_port, ToPort=to_port)
            entry = {"CidrIp": target} if kind == "cidr" else {"GroupId": target, "UserId": "123456789012"}
            if description is not None:
                entry["Description"] = description
            perm["IpRanges" if kind == "cidr" else "UserIdGroupPairs"].append(entry)
            permissions.append(perm)
        return permissions

    def _change_rules(self, GroupId, IpPermissions, key, add):
        group = self._group(GroupId)
        current = list(self._flat(group[key]))
        for rule in self._flat(IpPermissions):
            if rule[3] == "group":
                self._group(rule[4])
            same = [r for r in current if r[:5] == rule[:5]]
            if add:
                if same:
                    raise client_error("InvalidPermission.Duplicate")
                current.append(rule)
            else:
                if not same:
                    raise client_error("InvalidPermission.NotFound")
                current.remove(same[0])
        group[key] = self._unflat(current)
        return {"Return": True}

    def _authorize_security_group_ingress(self, GroupId, IpPermissions):
        return self._change_rules(GroupId, IpPermissions, "IpPermissions", add=True)

    def _authorize_security_group_egress(self, GroupId, IpPermissions):
        return self._change_rules(GroupId, IpPermissions, "IpPermissionsEgress", add=True)

    def _revoke_security_group_ingress(self, GroupId, IpPermissions):
        return self._change_rules(GroupId, IpPermissions, "IpPermissions", add=False)

    def _revoke_security_group_egress(self, GroupId, IpPermissions):
        return self._change_rules(GroupId, IpPermissions, "IpPermissionsEgress", add=False)

    def _update_descriptions(self, GroupId, IpPermissions, key):
        group = self._group(GroupId)
        current = list(self._flat(group[key]))
        for rule in self._flat(IpPermissions):
            current = [rule if r[:5] == rule[:5] else r for r in current]
        group[key] = self._unflat(current)
        return {"Return": True}

    def _update_security_group_rule_descriptions_ingress(self, GroupId, IpPermissions):
        return self._update_descriptions(GroupId, IpPermissions, "IpPermissions")

    def _update_security_group_rule_descriptions_egress(self, GroupId, IpPermissions):
        return self._update_descriptions(GroupId, IpPermissions, "IpPermissionsEgress")

    def _delete_security_group(self, GroupId):
        self._group(GroupId)
        for other in self.groups.values():
            if other["GroupId"] != GroupId and any(
                r[3] == "group" and r[4] == GroupId
                for r in list(self._flat(other["IpPermissions"])) + list(self._flat(other["IpPermissionsEgress"]))
            ):
                raise client_error("DependencyViolation")
        del self.groups[GroupId]
        return {}
