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
module: secretsmanager_resource_policy
short_description: Manage the resource policy of an existing Secrets Manager secret
version_added: 1.0.0
description:
  - Puts (or deletes) the resource policy of a secret, comparing the wanted and the
    current policy as parsed JSON (statement order, single values vs. lists, key
    order and whitespace do not count), so a re-run reports no change.
  - C(community.aws.secretsmanager_secret) compares the policy text as a string, and
    Secrets Manager returns the policy re-formatted, so it would put the policy again
    on every run. Give that module back the RV(policy_text) this one returns and it
    sees no difference (see the example).
  - A secret that does not exist yet, or is scheduled for deletion, is skipped
    (changed=false, RV(secret_exists)=false); create (or restore) it with its policy.
author:
  - StreamFlix Platform Engineering (@streamflix)
options:
  secret_id:
    description: Name or ARN of the secret.
    required: true
    type: str
  policy:
    description: The wanted policy (a dict or a JSON string). Required with O(state=present).
    type: json
  state:
    description: C(present) puts O(policy), C(absent) deletes any policy.
    choices: [present, absent]
    default: present
    type: str
  block_public_policy:
    description: Ask Secrets Manager to refuse a policy that grants broad (public) access.
    default: true
    type: bool
notes:
  - Supports check mode and diff mode.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Resource policy of the API key secret
  streamflix.video_pipeline.secretsmanager_resource_policy:
    secret_id: video-processing-api-keys-dev
    policy: "{{ policy | to_json }}"
  register: api_policy

- name: The secret itself
  community.aws.secretsmanager_secret:
    name: video-processing-api-keys-dev
    json_secret: "{{ value }}"
    overwrite: false
    # what AWS stores when the secret exists, the wanted policy when it is created
    resource_policy: "{{ api_policy.policy_text or (policy | to_json) }}"
  no_log: true
"""

RETURN = r"""
secret_exists:
  description: Whether the secret exists.
  returned: always
  type: bool
policy:
  description: The policy after the run (parsed), or null.
  returned: always
  type: dict
policy_text:
  description:
    - The policy after the run exactly as Secrets Manager returns it (empty when there is none).
    - In check mode, the current text.
  returned: always
  type: str
secret_arn:
  description: ARN of the secret.
  returned: when the secret exists
  type: str
"""

import json

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.streamflix.video_pipeline.plugins.module_utils.errors import AWS_ERRORS


def read_policy(client, module, secret_id):
    """(arn, policy text or '') of the secret, or None when it does not exist."""
    try:
        response = client.get_resource_policy(SecretId=secret_id, aws_retry=True)
    except is_boto3_error_code("ResourceNotFoundException"):
        return None
    except is_boto3_error_code("InvalidRequestException"):
        # scheduled for deletion: secretsmanager_secret restores it and puts the policy
        return None
    except AWS_ERRORS as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Could not read the resource policy of {0}".format(secret_id))
    return response.get("ARN", ""), response.get("ResourcePolicy") or ""


def ensure(client, module, secret_id, wanted, state, block_public_policy):
    found = read_policy(client, module, secret_id)
    if found is None:
        return dict(changed=False, secret_exists=False, policy=None, policy_text="", diff=dict(before={}, after={}))
    arn, text = found
    current = json.loads(text) if text else None
    # absent: any policy is a change; present: a missing or semantically different one
    changed = current is not None if state == "absent" else current is None or compare_policies(current, wanted)
    result = dict(
        changed=changed,
        secret_exists=True,
        secret_arn=arn,
        policy=current,
        policy_text=text,
        diff=dict(before={"policy": current}, after={"policy": wanted if state == "present" else None}),
    )
    if not changed or module.check_mode:
        return result
    try:
        if state == "absent":
            client.delete_resource_policy(SecretId=secret_id, aws_retry=True)
        else:
            client.put_resource_policy(
                SecretId=secret_id,
                ResourcePolicy=json.dumps(wanted),
                BlockPublicPolicy=block_public_policy,
                aws_retry=True,
            )
    except AWS_ERRORS as e:
        module.fail_json_aws(e, msg="Could not update the resource policy of {0}".format(secret_id))
    # hand back what AWS stores now (it re-formats the text)
    arn, text = read_policy(client, module, secret_id) or (arn, "")
    result.update(policy=json.loads(text) if text else None, policy_text=text)
    return result


def main():
    argument_spec = dict(
        secret_id=dict(type="str", required=True),
        policy=dict(type="json"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        block_public_policy=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec, required_if=[("state", "present", ["policy"])], supports_check_mode=True
    )
    wanted = None
    if module.params["state"] == "present":
        try:
            wanted = json.loads(module.params["policy"])
        except ValueError as e:
            module.fail_json(msg="policy is not valid JSON: {0}".format(e))
    client = module.client("secretsmanager", retry_decorator=AWSRetry.jittered_backoff(retries=10))
    module.exit_json(
        **ensure(
            client,
            module,
            module.params["secret_id"],
            wanted,
            module.params["state"],
            module.params["block_public_policy"],
        )
    )


if __name__ == "__main__":
    main()
