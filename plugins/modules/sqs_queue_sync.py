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
module: sqs_queue_sync
short_description: A standard SQS queue with its retention, encryption and tags, or its guarded deletion
version_added: 1.0.0
description:
  - Creates the queue with its attributes and tags in one C(CreateQueue) call, or brings an
    existing one in line, writing only the attributes and tags that differ.
  - "A run that changes nothing reads C(GetQueueUrl), C(GetQueueAttributes) (only the managed
    attributes and the ARN) and C(ListQueueTags) once each (M(community.aws.sqs_queue) reads
    attributes and tags twice)."
  - With O(state=absent) the queue is deleted; with O(keep_if_messages=true) a queue that still
    holds messages (visible, in flight or delayed) is kept instead and the result says so
    (RV(kept), RV(messages)), so that a playbook can refuse to drop them.
  - Only the attributes given are managed; the others are left as they are.
author:
  - StreamFlix Platform Engineering (@streamflix)
options:
  name:
    description: Name of the queue (a standard queue; FIFO queues are not handled).
    required: true
    type: str
  state:
    description: Whether the queue should exist.
    type: str
    choices: [present, absent]
    default: present
  message_retention_period:
    description: Seconds a message is kept (60 to 1209600).
    type: int
  visibility_timeout:
    description: Seconds a received message stays invisible (0 to 43200).
    type: int
  kms_master_key_id:
    description:
      - KMS key (ARN, key ID or alias) for server-side encryption. Left as it is when not given
        or empty. A key ARN and its key ID count as the same key.
    type: str
  kms_data_key_reuse_period:
    description: Seconds SQS reuses a data key before calling KMS again (60 to 86400).
    type: int
  keep_if_messages:
    description: With O(state=absent), keep a queue that still holds messages (see RV(kept)).
    type: bool
    default: false
notes:
  - Supports check mode and diff mode.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Dead-letter queue, 14 days, encrypted
  streamflix.video_pipeline.sqs_queue_sync:
    name: video-processing-dlq-dev
    message_retention_period: 1209600
    kms_master_key_id: "{{ key.key_arn }}"
    tags:
      Environment: dev
  register: dlq

- name: Delete it unless it holds messages
  streamflix.video_pipeline.sqs_queue_sync:
    name: video-processing-dlq-prod
    state: absent
    keep_if_messages: true
  register: dlq_teardown

- name: Refuse to drop messages
  ansible.builtin.fail:
    msg: "{{ dlq_teardown.messages }} message(s) in {{ dlq_teardown.queue_url }}"
  when: dlq_teardown.kept
"""

RETURN = r"""
queue_url:
  description: URL of the queue (empty when it does not exist, or in check mode before its creation).
  returned: always
  type: str
  sample: https://sqs.us-east-1.amazonaws.com/123456789012/video-processing-dlq-dev
queue_arn:
  description: ARN of the queue (empty when it does not exist, or in check mode before its creation).
  returned: always
  type: str
  sample: arn:aws:sqs:us-east-1:123456789012:video-processing-dlq-dev
attributes:
  description: The managed attributes after the run, as SQS names them (values are strings).
  returned: state=present
  type: dict
  sample: {MessageRetentionPeriod: "1209600"}
tags:
  description: Tags of the queue after the run.
  returned: state=present
  type: dict
  sample: {Environment: dev}
kept:
  description: With O(keep_if_messages=true), whether the queue was kept because it holds messages.
  returned: state=absent
  type: bool
  sample: false
messages:
  description: Messages in the queue (visible + in flight + delayed) when they were counted.
  returned: state=absent, keep_if_messages=true and the queue exists
  type: int
  sample: 0
"""

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags
from ansible_collections.streamflix.video_pipeline.plugins.module_utils.errors import AWS_ERRORS

# option -> SQS attribute name
ATTRIBUTES = dict(
    message_retention_period="MessageRetentionPeriod",
    visibility_timeout="VisibilityTimeout",
    kms_master_key_id="KmsMasterKeyId",
    kms_data_key_reuse_period="KmsDataKeyReusePeriodSeconds",
)
RANGES = dict(
    message_retention_period=(60, 1209600),
    visibility_timeout=(0, 43200),
    kms_data_key_reuse_period=(60, 86400),
)
MESSAGE_COUNTS = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)
MISSING_QUEUE = ["AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"]


def wanted_attributes(params):
    """The managed attributes as SQS takes them (strings); options not given or empty are left out."""
    return dict((name, str(params[option])) for option, name in ATTRIBUTES.items() if params[option] not in (None, ""))


def key_id_part(key):
    """The key ID of a key ARN (arn:...:key/ID), else the value itself."""
    return key.split(":key/", 1)[1] if ":key/" in key else key


def attributes_to_set(current, wanted):
    """The wanted attributes whose current value differs (a key ARN equals its key ID)."""
    differ = {}
    for name, value in wanted.items():
        have = current.get(name)
        if name == "KmsMasterKeyId" and have and key_id_part(have) == key_id_part(value):
            continue
        if have != value:
            differ[name] = value
    return differ


def message_count(attributes):
    return sum(int(attributes.get(name, 0)) for name in MESSAGE_COUNTS)


# AWS calls


class Queue:
    """The SQS calls for one queue, each failing the module with what it was doing."""

    def __init__(self, client, module, name):
        self.client = client
        self.module = module
        self.name = name

    def call(self, what, method, **kwargs):
        try:
            return getattr(self.client, method)(aws_retry=True, **kwargs)
        except AWS_ERRORS as e:
            self.module.fail_json_aws(e, msg="Could not {0} of queue {1}".format(what, self.name))

    def url(self):
        """The queue URL, None when the queue does not exist."""
        try:
            return self.client.get_queue_url(QueueName=self.name, aws_retry=True)["QueueUrl"]
        except is_boto3_error_code(MISSING_QUEUE):
            return None
        except AWS_ERRORS as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e, msg="Could not look up queue {0}".format(self.name))

    def attributes(self, url, names):
        return self.call("read the attributes", "get_queue_attributes", QueueUrl=url, AttributeNames=names).get(
            "Attributes", {}
        )

    def tags(self, url):
        return self.call("list the tags", "list_queue_tags", QueueUrl=url).get("Tags", {})


def ensure_present(queue, module, params):
    wanted = wanted_attributes(params)
    url = queue.url()
    if url is None:
        tags = params["tags"] or {}
        result = dict(changed=True, queue_url="", queue_arn="", attributes=wanted, tags=tags)
        result["diff"] = dict(before={}, after=dict(attributes=wanted, tags=tags))
        if module.check_mode:
            return result
        request = dict(QueueName=queue.name, Attributes=wanted)
        if tags:
            request["tags"] = tags
        url = queue.call("create", "create_queue", **request)["QueueUrl"]
        # SQS assigns the ARN; it is what consumers (redrive policies, IAM) need
        arn = queue.attributes(url, ["QueueArn"])["QueueArn"]
        result.update(queue_url=url, queue_arn=arn)
        return result

    current = queue.attributes(url, [*sorted(wanted), "QueueArn"])
    arn = current.pop("QueueArn", "")
    current_tags = queue.tags(url) if params["tags"] is not None else {}
    to_set, to_unset = {}, []
    if params["tags"] is not None:
        to_set, to_unset = compare_aws_tags(current_tags, params["tags"], purge_tags=params["purge_tags"])
    differ = attributes_to_set(current, wanted)
    after_tags = dict((k, v) for k, v in current_tags.items() if k not in to_unset)
    after_tags.update(to_set)
    if not module.check_mode:
        if differ:
            queue.call("set the attributes", "set_queue_attributes", QueueUrl=url, Attributes=differ)
        if to_unset:
            queue.call("untag", "untag_queue", QueueUrl=url, TagKeys=to_unset)
        if to_set:
            queue.call("tag", "tag_queue", QueueUrl=url, Tags=to_set)
    return dict(
        changed=bool(differ or to_set or to_unset),
        queue_url=url,
        queue_arn=arn,
        attributes=dict(current, **differ),
        tags=after_tags,
        diff=dict(
            before=dict(attributes=current, tags=current_tags),
            after=dict(attributes=dict(current, **differ), tags=after_tags),
        ),
    )


def ensure_absent(queue, module, params):
    url = queue.url()
    if url is None:
        return dict(changed=False, queue_url="", queue_arn="", kept=False, diff=dict(before={}, after={}))
    result = dict(queue_url=url, queue_arn="", kept=False)
    if params["keep_if_messages"]:
        counts = queue.attributes(url, [*MESSAGE_COUNTS, "QueueArn"])
        result.update(queue_arn=counts.get("QueueArn", ""), messages=message_count(counts))
        if result["messages"] > 0:
            result.update(changed=False, kept=True, diff=dict(before={}, after={}))
            return result
    result.update(changed=True, diff=dict(before=dict(queue_url=url), after={}))
    if not module.check_mode:
        try:
            queue.client.delete_queue(QueueUrl=url, aws_retry=True)
        except is_boto3_error_code(MISSING_QUEUE):
            pass  # deleted by someone else in the meantime: the wanted end state
        except AWS_ERRORS as e:  # pylint: disable=duplicate-except
            module.fail_json_aws(e, msg="Could not delete queue {0}".format(queue.name))
    return result


def validate(module):
    """Input problems, found before any AWS call."""
    params = module.params
    problems = []
    for option, (low, high) in RANGES.items():
        value = params[option]
        if value is not None and not low <= value <= high:
            problems.append("{0} must be from {1} to {2} (got {3})".format(option, low, high, value))
    if params["name"].endswith(".fifo"):
        problems.append("FIFO queues are not handled by this module")
    if problems:
        module.fail_json(msg="; ".join(problems))


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        message_retention_period=dict(type="int"),
        visibility_timeout=dict(type="int"),
        kms_master_key_id=dict(type="str", no_log=False),
        kms_data_key_reuse_period=dict(type="int", no_log=False),
        keep_if_messages=dict(type="bool", default=False),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    validate(module)
    queue = Queue(
        module.client("sqs", retry_decorator=AWSRetry.jittered_backoff(retries=10)), module, module.params["name"]
    )
    if module.params["state"] == "present":
        module.exit_json(**ensure_present(queue, module, module.params))
    module.exit_json(**ensure_absent(queue, module, module.params))


if __name__ == "__main__":
    main()
