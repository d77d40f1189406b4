# Copyright: StreamFlix Platform Engineering
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""CIDR helpers for the network role, on Python's ipaddress (no netaddr needed)."""

from __future__ import annotations

import ipaddress

from ansible.errors import AnsibleFilterError


def _network(cidr, what="network_vpc_cidr"):
    try:
        return ipaddress.ip_network(str(cidr), strict=True)
    except ValueError as exc:
        raise AnsibleFilterError(f"{what} {cidr!r} is not a valid IPv4 network: {exc}") from exc


def cidr_subnet(cidr, newbits, index):
    """Terraform's cidrsubnet(): the index-th subnet with newbits more prefix bits."""
    net = _network(cidr)
    try:
        subnets = net.subnets(prefixlen_diff=int(newbits))
        for position, subnet in enumerate(subnets):
            if position == int(index):
                return str(subnet)
    except ValueError as exc:
        raise AnsibleFilterError(f"cannot cut /{net.prefixlen + int(newbits)} subnets from {cidr}: {exc}") from exc
    raise AnsibleFilterError(f"{cidr} has no subnet number {index} of /{net.prefixlen + int(newbits)}")


def cidr_problems(vpc_cidr, subnet_cidrs):
    """Everything wrong with a VPC CIDR and its subnets, as readable sentences.

    An empty list means the layout is valid: the VPC is an IPv4 /16-/28 block
    (AWS's limits), every subnet is valid, inside the VPC, and none overlap.
    """
    problems = []
    try:
        vpc = ipaddress.ip_network(str(vpc_cidr), strict=True)
    except ValueError as exc:
        return [f"network_vpc_cidr {vpc_cidr!r} is not a valid IPv4 network ({exc})"]
    if vpc.version != 4 or not 16 <= vpc.prefixlen <= 28:
        problems.append(f"network_vpc_cidr {vpc_cidr} must be an IPv4 block from /16 to /28")
    parsed = []
    for cidr in subnet_cidrs:
        try:
            subnet = ipaddress.ip_network(str(cidr), strict=True)
        except ValueError as exc:
            problems.append(f"subnet {cidr!r} is not a valid IPv4 network ({exc})")
            continue
        if subnet.version != 4 or not subnet.subnet_of(vpc):
            problems.append(f"subnet {cidr} is not inside network_vpc_cidr {vpc_cidr}")
        elif subnet.prefixlen > 28:
            problems.append(f"subnet {cidr} is smaller than /28, the smallest AWS allows")
        for other in parsed:
            if subnet.overlaps(other):
                problems.append(f"subnets {other} and {subnet} overlap")
        parsed.append(subnet)
    return problems


class FilterModule:
    def filters(self):
        return {"cidr_subnet": cidr_subnet, "cidr_problems": cidr_problems}
