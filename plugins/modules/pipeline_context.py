#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: StreamFlix Platform Engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Ansible's module layout puts DOCUMENTATION/EXAMPLES/RETURN before the imports
# and guards the botocore import (AnsibleAWSModule reports it missing).
# ruff: noqa: E402, SIM105

DOCUMENTATION = r"""
---
module: pipeline_context
short_description: Check that the AWS target answers and say who the run acts as
version_added: 1.1.0
description:
  - The first AWS step of every run of the pipeline, in one process and one API call.
  - When O(endpoint_url) names an emulator, first checks that something accepts
    connections there, so a stopped emulator is reported at once with O(unreachable_hint)
    instead of after the SDK's retries.
  - Then calls C(sts:GetCallerIdentity) (with bounded jittered backoff on throttling,
    5xx answers and dropped connections) and returns the account, the caller's ARN and
    the partition.
author:
  - StreamFlix Platform Engineering (@streamflix)
options:
  probe_endpoint:
    description:
      - Check that O(endpoint_url) accepts TCP connections before the first call.
      - Ignored when no O(endpoint_url) is set (real AWS).
    type: bool
    default: false
  probe_timeout:
    description: Seconds the endpoint check keeps trying (a starting emulator may need a moment).
    type: float
    default: 3.0
  unreachable_hint:
    description: The failure message when the endpoint accepts no connection (default names the endpoint).
    type: str
    default: ""
notes:
  - Reads only; supports check mode (it runs the same in check mode).
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Check the target and learn the account
  streamflix.video_pipeline.pipeline_context:
    probe_endpoint: true
    unreachable_hint: "start it with `make emulator`"
  register: context
"""

RETURN = r"""
account:
  description: The AWS account id of the caller.
  returned: success
  type: str
  sample: "123456789012"
arn:
  description: The caller's ARN as STS reports it (an assumed-role ARN for roles).
  returned: success
  type: str
  sample: arn:aws:sts::123456789012:assumed-role/deployer/session
partition:
  description: The partition of the caller's ARN (aws, aws-cn, aws-us-gov).
  returned: success
  type: str
  sample: aws
user_id:
  description: The caller's unique id.
  returned: success
  type: str
"""

import socket
import time

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible.module_utils.six.moves.urllib.parse import urlsplit
from ansible_collections.amazon.aws.plugins.module_utils.arn import parse_aws_arn
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry


def endpoint_accepts_connections(
    url, timeout, connect=socket.create_connection, clock=time.monotonic, sleep=time.sleep
):
    """True as soon as a TCP connection to the URL's host and port succeeds within `timeout` seconds."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    deadline = clock() + timeout
    while True:
        try:
            connect((parts.hostname, port), timeout=min(2.0, max(timeout, 0.1))).close()
            return True
        except (OSError, socket.timeout):
            if clock() >= deadline:
                return False
            sleep(0.25)


def caller_identity(module):
    # STS throttles under load like every API; the module-level retry mode covers
    # the SDK's own retries, this covers what they give up on.
    client = module.client("sts", retry_decorator=AWSRetry.jittered_backoff(retries=8, delay=1, max_delay=15))
    try:
        return client.get_caller_identity(aws_retry=True)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="AWS did not answer sts:GetCallerIdentity (tried with backoff for about a minute)")


def main():
    argument_spec = dict(
        probe_endpoint=dict(type="bool", default=False),
        probe_timeout=dict(type="float", default=3.0),
        unreachable_hint=dict(type="str", default=""),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    endpoint = module.params.get("endpoint_url")
    probe = module.params["probe_endpoint"] and endpoint
    if probe and not endpoint_accepts_connections(endpoint, module.params["probe_timeout"]):
        hint = module.params["unreachable_hint"]
        module.fail_json(msg=hint or "Nothing accepts connections at {0}.".format(endpoint))
    identity = caller_identity(module)
    arn = identity["Arn"]
    parsed = parse_aws_arn(arn) or {}
    module.exit_json(
        changed=False,
        account=identity["Account"],
        arn=arn,
        user_id=identity.get("UserId", ""),
        partition=parsed.get("partition") or "aws",
    )


if __name__ == "__main__":
    main()
