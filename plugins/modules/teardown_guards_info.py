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
module: teardown_guards_info
short_description: Read what may stop the teardown of a pipeline environment
version_added: 1.1.0
description:
  - Reads, in one process and before anything is deleted, the state of every
    resource whose deletion loses data that someone may still need, so a teardown
    that must refuse does so before its first delete.
  - The Aurora cluster's deletion protection (C(rds:DescribeDBClusters)) and the
    number of messages in the dead-letter queue (C(sqs:GetQueueUrl),
    C(sqs:GetQueueAttributes)). What counts as a refusal is the caller's policy.
author:
  - StreamFlix Platform Engineering (@streamflix)
options:
  cluster_identifier:
    description: The Aurora cluster to read; omitted, it is not read.
    type: str
  queue_name:
    description: The SQS queue whose messages to count; omitted, it is not read.
    type: str
notes:
  - Reads only; runs the same in check mode.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Read the guards of prod before the first delete
  streamflix.video_pipeline.teardown_guards_info:
    cluster_identifier: video-metadata-cluster-prod
    queue_name: video-processing-dlq-prod
  register: guards
"""

RETURN = r"""
cluster:
  description: The cluster, when O(cluster_identifier) was given.
  returned: when O(cluster_identifier) is given
  type: dict
  contains:
    exists:
      description: Whether the cluster exists (and is not already being deleted).
      type: bool
    deletion_protection:
      description: Whether deletion protection is on.
      type: bool
    status:
      description: The cluster's status, empty when it does not exist.
      type: str
queue:
  description: The queue, when O(queue_name) was given.
  returned: when O(queue_name) is given
  type: dict
  contains:
    exists:
      description: Whether the queue exists.
      type: bool
    url:
      description: The queue URL, empty when it does not exist.
      type: str
    messages:
      description: Visible, in-flight and delayed messages together.
      type: int
"""

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

MESSAGE_COUNTS = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)


def read_cluster(client, module, identifier):
    try:
        clusters = client.describe_db_clusters(DBClusterIdentifier=identifier, aws_retry=True)["DBClusters"]
    except is_boto3_error_code("DBClusterNotFoundFault"):
        clusters = []
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Could not read the Aurora cluster {0}".format(identifier))
    cluster = clusters[0] if clusters else {}
    status = cluster.get("Status", "")
    return dict(
        exists=bool(cluster) and status != "deleting",
        deletion_protection=bool(cluster.get("DeletionProtection", False)),
        status=status,
    )


def read_queue(client, module, name):
    try:
        url = client.get_queue_url(QueueName=name, aws_retry=True)["QueueUrl"]
        attributes = client.get_queue_attributes(QueueUrl=url, AttributeNames=list(MESSAGE_COUNTS), aws_retry=True)
    except is_boto3_error_code(["AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"]):
        return dict(exists=False, url="", messages=0)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Could not read the queue {0}".format(name))
    counts = attributes.get("Attributes", {})
    return dict(exists=True, url=url, messages=sum(int(counts.get(key, 0)) for key in MESSAGE_COUNTS))


def main():
    argument_spec = dict(cluster_identifier=dict(type="str"), queue_name=dict(type="str"))
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    retry = AWSRetry.jittered_backoff(retries=8, delay=1, max_delay=15)
    result = dict(changed=False)
    if module.params["cluster_identifier"]:
        rds = module.client("rds", retry_decorator=retry)
        result["cluster"] = read_cluster(rds, module, module.params["cluster_identifier"])
    if module.params["queue_name"]:
        sqs = module.client("sqs", retry_decorator=retry)
        result["queue"] = read_queue(sqs, module, module.params["queue_name"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
