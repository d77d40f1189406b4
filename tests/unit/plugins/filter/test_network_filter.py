"""cidr_subnet and cidr_problems: the address plan of the network role."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.streamflix.video_pipeline.plugins.filter.network import (
    FilterModule,
    cidr_problems,
    cidr_subnet,
)

# -- cidr_subnet (Terraform's cidrsubnet) -------------------------------------


@pytest.mark.parametrize(
    ("cidr", "newbits", "index", "expected"),
    [
        # the role's defaults: four /20s out of the profile's /16
        ("10.0.0.0/16", 4, 0, "10.0.0.0/20"),
        ("10.0.0.0/16", 4, 1, "10.0.16.0/20"),
        ("10.0.0.0/16", 4, 2, "10.0.32.0/20"),
        ("10.0.0.0/16", 4, 3, "10.0.48.0/20"),
        ("10.0.0.0/16", 4, 15, "10.0.240.0/20"),
        ("172.16.0.0/12", 8, 1, "172.16.16.0/20"),
        ("10.1.0.0/24", 2, 3, "10.1.0.192/26"),
        # newbits 0 is the block itself; strings work as Jinja may pass them
        ("10.0.0.0/16", 0, 0, "10.0.0.0/16"),
        ("10.0.0.0/16", "4", "2", "10.0.32.0/20"),
    ],
)
def test_cidr_subnet(cidr, newbits, index, expected):
    assert cidr_subnet(cidr, newbits, index) == expected


@pytest.mark.parametrize(
    ("cidr", "newbits", "index", "needle"),
    [
        ("10.0.0.0/16", 4, 16, "has no subnet number 16 of /20"),
        ("10.0.0.0/16", 1, 2, "has no subnet number 2 of /17"),
        ("10.0.0.0/30", 4, 0, "cannot cut /34 subnets from 10.0.0.0/30"),
        ("10.0.0.1/16", 4, 0, "'10.0.0.1/16' is not a valid IPv4 network"),
        ("not-a-cidr", 4, 0, "'not-a-cidr' is not a valid IPv4 network"),
        ("10.0.0.0/16", -1, 0, "cannot cut /15 subnets"),
    ],
)
def test_cidr_subnet_refuses(cidr, newbits, index, needle):
    with pytest.raises(AnsibleFilterError) as err:
        cidr_subnet(cidr, newbits, index)
    assert needle in str(err.value)


# -- cidr_problems ------------------------------------------------------------

DEFAULT_SUBNETS = ["10.0.0.0/20", "10.0.16.0/20", "10.0.32.0/20", "10.0.48.0/20"]


@pytest.mark.parametrize(
    ("vpc", "subnets"),
    [
        ("10.0.0.0/16", DEFAULT_SUBNETS),
        ("10.0.0.0/16", ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"]),
        # AWS's limits are inclusive: /16 and /28 blocks, /28 subnets
        ("192.168.0.0/28", ["192.168.0.0/28"]),
        ("10.0.0.0/16", ["10.0.255.240/28"]),
        ("10.0.0.0/16", []),
    ],
)
def test_cidr_problems_accepts_valid_layouts(vpc, subnets):
    assert cidr_problems(vpc, subnets) == []


@pytest.mark.parametrize(
    ("vpc", "subnets", "expected"),
    [
        (
            "10.0.0.1/16",
            DEFAULT_SUBNETS,
            ["network_vpc_cidr '10.0.0.1/16' is not a valid IPv4 network (10.0.0.1/16 has host bits set)"],
        ),
        ("10.0.0.0/8", [], ["network_vpc_cidr 10.0.0.0/8 must be an IPv4 block from /16 to /28"]),
        ("10.0.0.0/29", [], ["network_vpc_cidr 10.0.0.0/29 must be an IPv4 block from /16 to /28"]),
        ("fd00::/56", [], ["network_vpc_cidr fd00::/56 must be an IPv4 block from /16 to /28"]),
        (
            "10.0.0.0/16",
            ["10.1.0.0/20"],
            ["subnet 10.1.0.0/20 is not inside network_vpc_cidr 10.0.0.0/16"],
        ),
        (
            "10.0.0.0/16",
            ["10.0.0.0/29"],
            ["subnet 10.0.0.0/29 is smaller than /28, the smallest AWS allows"],
        ),
        (
            "10.0.0.0/16",
            ["10.0.0.0/20", "10.0.8.0/24"],
            ["subnets 10.0.0.0/20 and 10.0.8.0/24 overlap"],
        ),
        (
            "10.0.0.0/16",
            ["10.0.0.0/20", "10.0.0.0/20"],
            ["subnets 10.0.0.0/20 and 10.0.0.0/20 overlap"],
        ),
        (
            "10.0.0.0/16",
            ["bogus", "10.0.0.5/24"],
            [
                "subnet 'bogus' is not a valid IPv4 network ('bogus' does not appear to be an IPv4 or IPv6 network)",
                "subnet '10.0.0.5/24' is not a valid IPv4 network (10.0.0.5/24 has host bits set)",
            ],
        ),
        (
            "10.0.0.0/16",
            ["fd00::/64"],
            ["subnet fd00::/64 is not inside network_vpc_cidr 10.0.0.0/16"],
        ),
    ],
)
def test_cidr_problems_names_every_problem(vpc, subnets, expected):
    assert cidr_problems(vpc, subnets) == expected


def test_cidr_problems_reports_all_problems_at_once():
    problems = cidr_problems("10.0.0.0/16", ["10.0.0.0/20", "10.0.8.0/24", "10.9.0.0/24", "10.0.64.0/30"])
    assert problems == [
        "subnets 10.0.0.0/20 and 10.0.8.0/24 overlap",
        "subnet 10.9.0.0/24 is not inside network_vpc_cidr 10.0.0.0/16",
        "subnet 10.0.64.0/30 is smaller than /28, the smallest AWS allows",
    ]


def test_filter_module_exports_both_filters():
    filters = FilterModule().filters()
    assert filters == {"cidr_subnet": cidr_subnet, "cidr_problems": cidr_problems}
