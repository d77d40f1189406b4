#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: StreamFlix Platform Engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: named_resources_info
short_description: ARNs of Kinesis streams, SQS queues and Secrets Manager secrets found by name
version_added: 1.0.0
description:
  - Looks up Kinesis streams, SQS queues and Secrets Manager secrets by name and returns their
    identifiers, or C(null) for each one that does not exist.
  - amazon.aws and community.aws have no read-only info module for these three services
    (M(community.aws.kinesis_stream) and M(community.aws.sqs_queue) only manage), so a role
    that needs another role's stream, queue or secrets finds them with this one call.
  - Secrets are read with C(DescribeSecret) only; their values are never read.
options:
  kinesis_streams:
    description: Stream names.
    type: list
    elements: str
    default: []
  sqs_queues:
    description: Queue names.
    type: list
    elements: str
    default: []
  secret_names:
    description: Secret names (or ARNs). Only their metadata is read.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
author:
  - StreamFlix Platform Engineering (@streamflix)
"""

EXAMPLES = r"""
- name: Find the stream, the DLQ and the secrets of dev
  streamflix.video_pipeline.named_resources_info:
    kinesis_streams: [video-ingestion-stream-dev]
    sqs_queues: [video-processing-dlq-dev]
    secret_names: [video-processing-db-credentials-dev, video-processing-api-keys-dev]
  register: found
"""

RETURN = r"""
kinesis_streams:
  description: Per stream name, C(arn), C(status), C(encryption_type) and C(key_id), or null when missing.
  returned: always
  type: dict
  sample:
    video-ingestion-stream-dev:
      arn: arn:aws:kinesis:us-east-1:123456789012:stream/video-ingestion-stream-dev
      status: ACTIVE
sqs_queues:
  description: Per queue name, C(url) and C(arn), or null when missing.
  returned: always
  type: dict
secrets:
  description: Per secret name, C(arn), C(name) and C(kms_key_id), or null when missing. Never the value.
  returned: always
  type: dict
missing:
  description: The names that were not found.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.amazon.aws.plugins.module_utils.botocore import (  # noqa: E402  (DOCUMENTATION comes first)
    is_boto3_error_code,
)
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule  # noqa: E402
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry  # noqa: E402

try:  # noqa: SIM105  (the amazon.aws pattern: AnsibleAWSModule reports a missing botocore)
    import botocore
except ImportError:
    pass


def find_stream(client, name):
    try:
        summary = client.describe_stream_summary(aws_retry=True, StreamName=name)["StreamDescriptionSummary"]
    except is_boto3_error_code("ResourceNotFoundException"):
        return None
    if summary.get("StreamStatus") == "DELETING":
        return None
    return dict(
        arn=summary["StreamARN"],
        status=summary.get("StreamStatus"),
        encryption_type=summary.get("EncryptionType", "NONE"),
        key_id=summary.get("KeyId"),
    )


def find_queue(client, name):
    try:
        url = client.get_queue_url(aws_retry=True, QueueName=name)["QueueUrl"]
    except is_boto3_error_code(["AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"]):
        return None
    attributes = client.get_queue_attributes(aws_retry=True, QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return dict(url=url, arn=attributes["QueueArn"])


def find_secret(client, name):
    try:
        secret = client.describe_secret(aws_retry=True, SecretId=name)
    except is_boto3_error_code("ResourceNotFoundException"):
        return None
    if secret.get("DeletedDate"):
        # scheduled for deletion: as good as gone for a consumer
        return None
    return dict(arn=secret["ARN"], name=secret["Name"], kms_key_id=secret.get("KmsKeyId"))


def look_up(clients, params):
    result = dict(kinesis_streams={}, sqs_queues={}, secrets={}, missing=[])
    for key, option, service, finder in (
        ("kinesis_streams", "kinesis_streams", "kinesis", find_stream),
        ("sqs_queues", "sqs_queues", "sqs", find_queue),
        ("secrets", "secret_names", "secretsmanager", find_secret),
    ):
        for name in params[option]:
            found = finder(clients(service), name)
            result[key][name] = found
            if found is None:
                result["missing"].append(name)
    return result


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            kinesis_streams=dict(type="list", elements="str", default=[]),
            sqs_queues=dict(type="list", elements="str", default=[]),
            # names, not secret values: nothing here needs hiding
            secret_names=dict(type="list", elements="str", default=[], no_log=False),
        ),
        supports_check_mode=True,
    )
    cache = {}

    def clients(service):
        if service not in cache:
            cache[service] = module.client(service, retry_decorator=AWSRetry.jittered_backoff(retries=10))
        return cache[service]

    try:
        result = look_up(clients, module.params)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to look up the named resources")
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
