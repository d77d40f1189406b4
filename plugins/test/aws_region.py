# Copyright: StreamFlix Platform Engineering
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Jinja test: `region is streamflix.video_pipeline.aws_region`.

Checks a name against the regions botocore itself knows (its bundled
endpoint data, all partitions), so a typo such as `us-east-7` is refused in
preflight instead of surfacing later as a DNS error from some AWS call.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: aws_region
author: StreamFlix Platform Engineering
version_added: 0.1.0
short_description: Is this a region name AWS knows?
description:
  - True when the value is a region of any AWS partition in botocore's bundled endpoint data.
options:
  _input:
    description: The region name.
    type: string
    required: true
"""

EXAMPLES = r"""
- name: Refuse an unknown region
  ansible.builtin.assert:
    that: aws_region_name is streamflix.video_pipeline.aws_region
"""

RETURN = r"""
_value:
  description: Whether the value is a known AWS region.
  type: boolean
"""

try:
    import botocore.session
except ImportError:  # pragma: no cover - botocore is a hard requirement of amazon.aws
    botocore = None


def known_regions():
    session = botocore.session.get_session()
    regions = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions("ec2", partition_name=partition))
    return regions


def aws_region(value):
    if botocore is None or not isinstance(value, str):
        return False
    return value in known_regions()


class TestModule:
    def tests(self):
        return {"aws_region": aws_region}
