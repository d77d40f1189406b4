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
module: vpc_security_groups
short_description: Converge security groups of one VPC that may reference each other, in one pass
version_added: 1.0.0
description:
  - Brings a list of security groups of one VPC, their tags and their complete ingress
    and egress rules to the given state in one process, from one C(DescribeSecurityGroups)
    call (filtered by VPC id and group names).
  - A rule may name another group of the list as its source or destination (O(groups[].ingress[].group_name)),
    so groups that reference each other are converged in one task. Missing groups are
    created first (with their tags), then only the rules that differ are authorized,
    revoked or have their description updated.
  - The rules listed are the whole rule set of a group; anything else (including the
    allow-all egress rule AWS gives a new group) is revoked.
  - With O(state=absent) the groups are found by name (in O(vpc_id) when given, else in any
    VPC, since the names are expected to be the env's own), the rules by which they reference
    each other are revoked, then the groups are deleted; C(DependencyViolation) (network
    interfaces that AWS releases minutes after ECS tasks or Aurora instances are gone)
    is retried for up to ~6 minutes.
author:
  - StreamFlix Platform Engineering (@streamflix)
options:
  vpc_id:
    description:
      - VPC of the groups. Required with O(state=present).
      - In check mode it may be empty (the VPC would be created by an earlier task), and
        every group is then reported as to be created.
    type: str
  groups:
    description: The security groups.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Group name, also its C(Name) tag.
        required: true
        type: str
      description:
        description:
          - Group description, used when the group is created (AWS cannot change it later).
          - Required with O(state=present).
        type: str
      tags:
        description: Tags of this group on top of O(tags).
        type: dict
        default: {}
      ingress:
        description: Every inbound rule of the group.
        type: list
        elements: dict
        default: []
        suboptions:
          protocol:
            description: IP protocol name (V(tcp), V(udp), V(icmp)) or number; V(-1) for all traffic.
            type: str
            default: tcp
          from_port:
            description: First port (ICMP type); not used with protocol V(-1).
            type: int
          to_port:
            description: Last port (ICMP code); defaults to the first port.
            type: int
          cidr_ip:
            description: IPv4 block the rule allows.
            type: str
          group_name:
            description: Name of another group of O(groups) the rule allows.
            type: str
          description:
            description: Description of the rule.
            type: str
      egress:
        description: Every outbound rule of the group (same keys as O(groups[].ingress)).
        type: list
        elements: dict
        default: []
        suboptions:
          protocol:
            description: IP protocol name (V(tcp), V(udp), V(icmp)) or number; V(-1) for all traffic.
            type: str
            default: tcp
          from_port:
            description: First port (ICMP type); not used with protocol V(-1).
            type: int
          to_port:
            description: Last port (ICMP code); defaults to the first port.
            type: int
          cidr_ip:
            description: IPv4 block the rule allows.
            type: str
          group_name:
            description: Name of another group of O(groups) the rule allows.
            type: str
          description:
            description: Description of the rule.
            type: str
  tags:
    description: Tags of every group. Each also gets its C(Name) tag.
    type: dict
    default: {}
    aliases: [resource_tags]
  purge_tags:
    description: Whether tags not in O(tags) (and not C(aws:) ones) are removed.
    type: bool
    default: true
  state:
    description: V(present) converges the groups; V(absent) deletes them.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Supports check mode (nothing is created or changed; a group that would be created has an
    empty id in the result) and diff mode.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: ECS and DB groups that reference each other
  streamflix.video_pipeline.vpc_security_groups:
    vpc_id: vpc-0123456789abcdef0
    groups:
      - name: video-processing-ecs-sg-dev
        description: ECS workers
        egress:
          - {from_port: 443, cidr_ip: 0.0.0.0/0, description: HTTPS to AWS APIs}
          - {from_port: 5432, group_name: video-metadata-db-sg-dev, description: PostgreSQL to Aurora}
      - name: video-metadata-db-sg-dev
        description: Aurora
        ingress:
          - {from_port: 5432, group_name: video-processing-ecs-sg-dev, description: PostgreSQL from the ECS workers}
    tags:
      Environment: dev
  register: groups

- name: Remove them
  streamflix.video_pipeline.vpc_security_groups:
    vpc_id: vpc-0123456789abcdef0
    groups:
      - name: video-processing-ecs-sg-dev
      - name: video-metadata-db-sg-dev
    state: absent
"""

RETURN = r"""
group_ids:
  description: The ID of each group by name; empty when check mode would create the group.
  returned: state=present
  type: dict
  sample: {"video-processing-ecs-sg-dev": "sg-0123456789abcdef0"}
deleted:
  description: IDs of the groups that were (or, in check mode, would be) deleted.
  returned: state=absent
  type: list
  elements: str
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.streamflix.video_pipeline.plugins.module_utils.vpc import (
    Ec2Writes,
    after_create_retry,
    describe,
    ec2_client,
    tag_specifications,
    tags_of,
)

# The answer's names for what a rule allows, and the request's key of each.
SOURCES = (
    ("IpRanges", "CidrIp", "cidr_ip"),
    ("Ipv6Ranges", "CidrIpv6", "cidr_ipv6"),
    ("PrefixListIds", "PrefixListId", "prefix_list_id"),
    ("UserIdGroupPairs", "GroupId", "group_id"),
)
PROTOCOL_NAMES = {"6": "tcp", "17": "udp", "1": "icmp", "all": "-1"}
DIRECTIONS = (("ingress", "IpPermissions"), ("egress", "IpPermissionsEgress"))
# What AWS gives every new group: allow all outbound traffic.
NEW_GROUP_EGRESS = {("-1", None, None, "cidr_ip", "0.0.0.0/0"): None}


def protocol_name(protocol):
    """The protocol as DescribeSecurityGroups spells it (tcp, udp, icmp, -1 for all)."""
    return PROTOCOL_NAMES.get(str(protocol).lower(), str(protocol).lower())


def rule_key(protocol, from_port, to_port, kind, target):
    """A rule as a comparable tuple: (protocol, from, to, kind of source, source)."""
    protocol = protocol_name(protocol)
    if protocol == "-1":
        from_port = to_port = None
    return (protocol, from_port, to_port, kind, target)


def current_rules(permissions):
    """{rule key: description} of an IpPermissions list."""
    rules = {}
    for permission in permissions:
        for list_key, target_key, kind in SOURCES:
            for source in permission.get(list_key, []):
                key = rule_key(
                    permission["IpProtocol"],
                    permission.get("FromPort"),
                    permission.get("ToPort"),
                    kind,
                    source[target_key],
                )
                rules[key] = source.get("Description")
    return rules


def wanted_rules(rules, group_ids):
    """{rule key: description} of the module's rules, group names resolved to ids."""
    wanted = {}
    for rule in rules:
        if rule["group_name"]:
            kind, target = "group_id", group_ids[rule["group_name"]]
        else:
            kind, target = "cidr_ip", rule["cidr_ip"]
        to_port = rule["to_port"] if rule["to_port"] is not None else rule["from_port"]
        wanted[rule_key(rule["protocol"], rule["from_port"], to_port, kind, target)] = rule["description"]
    return wanted


def permissions(rules):
    """The IpPermissions of a request for {rule key: description}."""
    request = []
    for (protocol, from_port, to_port, kind, target), description in sorted(rules.items(), key=lambda r: str(r[0])):
        permission = {"IpProtocol": protocol}
        if from_port is not None:
            permission["FromPort"] = from_port
        if to_port is not None:
            permission["ToPort"] = to_port
        list_key, target_key = next((lk, tk) for lk, tk, k in SOURCES if k == kind)
        source = {target_key: target}
        if description:
            source["Description"] = description
        permission[list_key] = [source]
        request.append(permission)
    return request


def readable(rules, names_of_ids):
    """Rules as sorted strings for the diff, with group names instead of ids."""
    lines = []
    for (protocol, from_port, to_port, _kind, target), description in rules.items():
        ports = "" if from_port is None else " {0}-{1}".format(from_port, to_port)
        line = "{0}{1} {2}".format(protocol, ports, names_of_ids.get(target) or target or "(new group)")
        lines.append(line + (" ({0})".format(description) if description else ""))
    return sorted(lines)


def input_problems(params, check_mode):
    """What is wrong with the module arguments, before any AWS call."""
    problems = []
    names = [group["name"] for group in params["groups"]]
    if len(set(names)) != len(names):
        problems.append("group names must be unique")
    if params["state"] == "absent":
        return problems
    if not params["vpc_id"] and not check_mode:
        problems.append("vpc_id is required")
    for group in params["groups"]:
        if not group["description"]:
            problems.append("group {0}: description is required".format(group["name"]))
        for direction, _key in DIRECTIONS:
            for rule in group[direction]:
                where = "group {0} {1} rule".format(group["name"], direction)
                if bool(rule["cidr_ip"]) == bool(rule["group_name"]):
                    problems.append("{0}: give exactly one of cidr_ip and group_name".format(where))
                if rule["group_name"] and rule["group_name"] not in names:
                    problems.append("{0}: group_name {1} is not one of the groups".format(where, rule["group_name"]))
                if protocol_name(rule["protocol"]) != "-1" and rule["from_port"] is None:
                    problems.append("{0}: from_port is required for protocol {1}".format(where, rule["protocol"]))
    return problems


class SecurityGroups:
    def __init__(self, module, client):
        self.module = module
        self.client = client
        self.params = module.params
        self.writes = Ec2Writes(module, client)

    def find(self, vpc_id):
        filters = [{"Name": "group-name", "Values": [group["name"] for group in self.params["groups"]]}]
        if vpc_id:
            filters.append({"Name": "vpc-id", "Values": [vpc_id]})
        return describe(
            self.module,
            self.client,
            "describe_security_groups",
            "SecurityGroups",
            "Could not describe the security groups",
            Filters=filters,
        )

    def ensure_present(self):
        p = self.params
        vpc_id = p["vpc_id"]
        found = dict((group["GroupName"], group) for group in self.find(vpc_id)) if vpc_id else {}
        group_ids, created, before, after = {}, set(), {}, {}
        for group in p["groups"]:
            wanted_tags = dict(p["tags"])
            wanted_tags.update(group["tags"])
            wanted_tags["Name"] = group["name"]
            current = found.get(group["name"])
            if current:
                group_ids[group["name"]] = current["GroupId"]
                self.writes.sync_tags(current["GroupId"], tags_of(current), wanted_tags, p["purge_tags"])
            else:
                answer = self.writes.call(
                    "create_security_group",
                    "Could not create security group {0}".format(group["name"]),
                    GroupName=group["name"],
                    Description=group["description"],
                    VpcId=vpc_id,
                    TagSpecifications=tag_specifications("security-group", wanted_tags),
                )
                group_ids[group["name"]] = answer.get("GroupId", "")
                created.add(group["name"])
            after[group["name"]] = dict(description=group["description"], tags=wanted_tags)
            before[group["name"]] = dict(description=current["Description"], tags=tags_of(current)) if current else {}

        names_of_ids = dict((group_id, name) for name, group_id in group_ids.items() if group_id)
        for group in p["groups"]:
            current = found.get(group["name"])
            group_id = group_ids[group["name"]]
            # a call on a group made moments ago, or naming one, may meet "not found" for a while
            retry = after_create_retry() if created else None
            for direction, key in DIRECTIONS:
                have = current_rules(current[key]) if current else {}
                if not current and direction == "egress":
                    have = dict(NEW_GROUP_EGRESS)
                want = wanted_rules(group[direction], group_ids)
                if current:
                    before[group["name"]][direction] = readable(have, names_of_ids)
                after[group["name"]][direction] = readable(want, names_of_ids)
                self.converge_rules(group, group_id, direction, have, want, retry)
        return dict(
            changed=self.writes.changed,
            group_ids=group_ids,
            diff=dict(before=before, after=after),
        )

    def converge_rules(self, group, group_id, direction, have, want, retry):
        """Authorize what is missing, revoke what is not wanted, fix descriptions; one call each."""
        missing = dict((k, d) for k, d in want.items() if k not in have)
        unwanted = dict((k, d) for k, d in have.items() if k not in want)
        described = dict((k, d) for k, d in want.items() if k in have and d and have[k] != d)
        what = "{0} rules of {1}".format(direction, group["name"])
        if missing:
            self.writes.call(
                "authorize_security_group_{0}".format(direction),
                "Could not add " + what,
                retry=retry,
                GroupId=group_id,
                IpPermissions=permissions(missing),
            )
        if unwanted:
            self.writes.call(
                "revoke_security_group_{0}".format(direction),
                "Could not revoke " + what,
                retry=retry,
                GroupId=group_id,
                # as described: the emulator (not AWS) matches a revoke on the description too
                IpPermissions=permissions(unwanted),
            )
        if described:
            self.writes.call(
                "update_security_group_rule_descriptions_{0}".format(direction),
                "Could not describe " + what,
                GroupId=group_id,
                IpPermissions=permissions(described),
            )

    def ensure_absent(self):
        groups = self.find(self.params["vpc_id"])
        ids = set(group["GroupId"] for group in groups)
        # Rules by which the groups reference each other block their deletion: drop them first.
        for group in groups:
            for direction, key in DIRECTIONS:
                references = dict(
                    (rule, description)
                    for rule, description in current_rules(group[key]).items()
                    if rule[3] == "group_id" and rule[4] in ids
                )
                if references:
                    self.writes.call(
                        "revoke_security_group_{0}".format(direction),
                        "Could not revoke the {0} rules of {1}".format(direction, group["GroupName"]),
                        gone_ok=True,
                        GroupId=group["GroupId"],
                        IpPermissions=permissions(references),
                    )
        for group in groups:
            self.writes.delete(
                "delete_security_group",
                "Could not delete security group {0} ({1})".format(group["GroupName"], group["GroupId"]),
                GroupId=group["GroupId"],
            )
        deleted = sorted(ids)
        return dict(
            changed=self.writes.changed,
            deleted=deleted,
            diff=dict(before=dict((g["GroupName"], g["GroupId"]) for g in groups), after={}),
        )


def main():
    rule = dict(
        protocol=dict(type="str", default="tcp"),
        from_port=dict(type="int"),
        to_port=dict(type="int"),
        cidr_ip=dict(type="str"),
        group_name=dict(type="str"),
        description=dict(type="str"),
    )
    argument_spec = dict(
        vpc_id=dict(type="str"),
        groups=dict(
            type="list",
            elements="dict",
            required=True,
            options=dict(
                name=dict(type="str", required=True),
                description=dict(type="str"),
                tags=dict(type="dict", default={}),
                ingress=dict(type="list", elements="dict", default=[], options=rule),
                egress=dict(type="list", elements="dict", default=[], options=rule),
            ),
        ),
        tags=dict(type="dict", default={}, aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    problems = input_problems(module.params, module.check_mode)
    if problems:
        module.fail_json(msg="Invalid arguments: {0}.".format("; ".join(problems)))
    groups = SecurityGroups(module, ec2_client(module))
    result = groups.ensure_present() if module.params["state"] == "present" else groups.ensure_absent()
    if not module._diff:
        result.pop("diff")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
