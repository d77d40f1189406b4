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
module: sns_topic_encryption
short_description: Set the KMS key that encrypts an SNS topic
version_added: 1.0.0
description:
  - Sets (or removes) the C(KmsMasterKeyId) attribute of an existing SNS topic,
    the server-side encryption that C(community.aws.sns_topic) cannot manage.
  - The attribute is compared as a string with the current one;
    C(SetTopicAttributes) is called only when they differ.
author:
  - StreamFlix Platform Engineering (@streamflix)
options:
  topic_arn:
    description: ARN of the topic (as returned by C(community.aws.sns_topic) in C(sns_arn)).
    required: true
    type: str
  kms_master_key_id:
    description:
      - The key as an ID, ARN, alias name (C(alias/...)) or alias ARN; keep to one
        form, since AWS stores and returns the value as given.
      - An empty string turns server-side encryption off.
    required: true
    type: str
notes:
  - Supports check mode and diff mode. In check mode a topic that does not
    exist yet (because the task that creates it ran in check mode too) is
    reported as changed instead of failing.
  - The key policy must let C(cloudwatch.amazonaws.com) (and every other
    publisher) use the key, or encrypted messages are dropped.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Alarm topic
  community.aws.sns_topic:
    name: video-processing-alarms-dev
  register: topic

- name: Encrypt it with the pipeline key
  streamflix.video_pipeline.sns_topic_encryption:
    topic_arn: "{{ topic.sns_arn }}"
    kms_master_key_id: alias/video-processing-dev
"""

RETURN = r"""
topic_arn:
  description: ARN of the topic.
  returned: always
  type: str
  sample: arn:aws:sns:us-east-1:123456789012:video-processing-alarms-dev
kms_master_key_id:
  description: The key that encrypts the topic after the run (empty when unencrypted).
  returned: always
  type: str
  sample: alias/video-processing-dev
"""

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry


def current_key(client, module, topic_arn):
    """The topic's KmsMasterKeyId ('' when unencrypted), or None when the topic does not exist."""
    try:
        attributes = client.get_topic_attributes(TopicArn=topic_arn, aws_retry=True)["Attributes"]
    except is_boto3_error_code("NotFound"):
        return None
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Could not read the attributes of {0}".format(topic_arn))
    return attributes.get("KmsMasterKeyId") or ""


def ensure(client, module, topic_arn, wanted):
    current = current_key(client, module, topic_arn)
    if current is None:
        if module.check_mode:
            return dict(
                changed=True,
                topic_arn=topic_arn,
                kms_master_key_id=wanted,
                diff=dict(before={}, after={"kms_master_key_id": wanted}),
            )
        module.fail_json(
            msg="SNS topic {0} does not exist: create it first (community.aws.sns_topic)".format(topic_arn)
        )
    changed = current != wanted
    if changed and not module.check_mode:
        try:
            client.set_topic_attributes(
                TopicArn=topic_arn, AttributeName="KmsMasterKeyId", AttributeValue=wanted, aws_retry=True
            )
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            module.fail_json_aws(e, msg="Could not set the KMS key of {0}".format(topic_arn))
    return dict(
        changed=changed,
        topic_arn=topic_arn,
        kms_master_key_id=wanted,
        diff=dict(before={"kms_master_key_id": current}, after={"kms_master_key_id": wanted}),
    )


def main():
    argument_spec = dict(
        topic_arn=dict(type="str", required=True),
        kms_master_key_id=dict(type="str", required=True, no_log=False),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    client = module.client("sns", retry_decorator=AWSRetry.jittered_backoff(retries=10))
    module.exit_json(**ensure(client, module, module.params["topic_arn"], module.params["kms_master_key_id"]))


if __name__ == "__main__":
    main()
