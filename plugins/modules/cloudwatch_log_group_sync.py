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
module: cloudwatch_log_group_sync
short_description: One CloudWatch Logs log group with its retention, KMS key and tags
version_added: 1.0.0
description:
  - Creates a log group with its KMS key and tags in one C(CreateLogGroup) call, then keeps its
    retention (C(PutRetentionPolicy) / C(DeleteRetentionPolicy)), KMS key (C(AssociateKmsKey)) and
    tags (C(TagResource) / C(UntagResource)) in line, calling only what differs; or deletes it.
  - Reads the group with one C(DescribeLogGroups) (name prefix, exact match) and its tags with
    C(ListTagsForResource).
  - Unlike M(amazon.aws.cloudwatchlogs_log_group) 10.1.2, check mode changes nothing (that module
    sets the retention of an existing group even in check mode).
author:
  - StreamFlix Platform Engineering (@streamflix)
options:
  log_group_name:
    description: Name of the log group.
    required: true
    type: str
  retention_days:
    description:
      - Days the group keeps its events, one of the values CloudWatch Logs accepts.
      - When not given (null), events never expire; a retention set earlier is removed.
    type: int
  kms_key_id:
    description:
      - ARN of the KMS key that encrypts the group's events (CloudWatch Logs takes key ARNs only).
      - When not given, the group's key is left as it is.
    type: str
  tags:
    description:
      - Tags of the log group.
      - When not given, the group's tags are left alone.
    type: dict
    aliases: [resource_tags]
  purge_tags:
    description: Remove tags not listed in O(tags).
    type: bool
    default: true
  state:
    description: Whether the log group should exist.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Supports check mode and diff mode.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Worker log group, 7 days, encrypted with the pipeline key
  streamflix.video_pipeline.cloudwatch_log_group_sync:
    log_group_name: /ecs/video-processing-dev
    retention_days: 7
    kms_key_id: arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555
    tags:
      Environment: dev

- name: Delete it
  streamflix.video_pipeline.cloudwatch_log_group_sync:
    log_group_name: /ecs/video-processing-dev
    state: absent
"""

RETURN = r"""
log_group:
  description:
    - The log group after the run (what check mode would make).
    - C(arn) is empty when the group was (or would be) created by this run, since C(CreateLogGroup)
      returns nothing and reading it back only to report its ARN would cost a call.
  returned: state=present
  type: dict
  sample:
    log_group_name: /ecs/video-processing-dev
    arn: arn:aws:logs:us-east-1:123456789012:log-group:/ecs/video-processing-dev
    retention_days: 7
    kms_key_id: arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555
    tags: {Environment: dev}
changes:
  description: What was (or in check mode would be) changed.
  returned: always
  type: list
  elements: str
  sample: [retention_days, tags]
"""

import re

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.arn import parse_aws_arn
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

# PutRetentionPolicy accepts these values only.
RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
LOG_GROUP_NAME = re.compile(r"^[\.\-_/#A-Za-z0-9]{1,512}$")
# CloudWatch Logs throttles with ThrottlingException, a code AWSRetry does not retry by itself.
RETRY = AWSRetry.jittered_backoff(retries=10, catch_extra_error_codes=["ThrottlingException"])


def validate(params):
    """Every problem of the input, as messages ([] when fine); no AWS call needed."""
    problems = []
    if not LOG_GROUP_NAME.match(params["log_group_name"]):
        problems.append(f"log_group_name {params['log_group_name']!r} is not a valid log group name")
    if params["state"] == "absent":
        return problems
    retention = params.get("retention_days")
    if retention is not None and retention not in RETENTION_DAYS:
        problems.append(f"retention_days must be one of {', '.join(map(str, RETENTION_DAYS))} (got {retention})")
    key = params.get("kms_key_id")
    if key is not None:
        parsed = parse_aws_arn(key)
        if not parsed or parsed["service"] != "kms" or not parsed["resource"].startswith("key/"):
            problems.append(f"kms_key_id must be the ARN of a KMS key (got {key!r})")
    return problems


def plan(params, current):
    """The writes that bring `current` (read()'s dict, None when missing) to the wanted state. Pure."""
    if current is None:
        return dict(create=True)
    writes = {}
    if params.get("retention_days") != current["retention_days"]:
        writes["retention_days"] = params.get("retention_days")
    if params.get("kms_key_id") is not None and params["kms_key_id"] != current["kms_key_id"]:
        writes["kms_key_id"] = params["kms_key_id"]
    if params.get("tags") is not None:
        to_set, to_unset = compare_aws_tags(current["tags"], params["tags"], purge_tags=params["purge_tags"])
        if to_set:
            writes["tag"] = to_set
        if to_unset:
            writes["untag"] = sorted(to_unset)
    return writes


def after(params, current):
    """The group as it will be after the run (what is not managed stays as read)."""
    current = current or dict(arn="", retention_days=None, kms_key_id=None, tags={})
    tags = dict(current["tags"])
    if params.get("tags") is not None:
        tags = dict(params["tags"]) if params["purge_tags"] else dict(tags, **params["tags"])
    return dict(
        log_group_name=params["log_group_name"],
        arn=current["arn"],
        retention_days=params.get("retention_days"),
        kms_key_id=params["kms_key_id"] if params.get("kms_key_id") is not None else current["kms_key_id"],
        tags=tags,
    )


def change_labels(writes):
    if writes.get("create"):
        return ["created"]
    labels = [k for k in ("retention_days", "kms_key_id") if k in writes]
    if writes.get("tag") or writes.get("untag"):
        labels.append("tags")
    return labels


# AWS calls


class LogGroups:
    """The CloudWatch Logs calls of this module; every failure ends the module with what failed."""

    def __init__(self, module, client):
        self.module = module
        self.client = client

    def call(self, what, method, **kwargs):
        try:
            return getattr(self.client, method)(aws_retry=True, **kwargs)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(e, msg=f"Could not {what}")

    def find(self, name):
        """The DescribeLogGroups entry of exactly `name`, or None (the prefix also matches longer names)."""
        request = dict(logGroupNamePrefix=name)
        while True:
            page = self.call(f"describe the log group {name}", "describe_log_groups", **request)
            for group in page.get("logGroups", []):
                if group["logGroupName"] == name:
                    return group
            if not page.get("nextToken"):
                return None
            request["nextToken"] = page["nextToken"]

    def read(self, name):
        group = self.find(name)
        if group is None:
            return None
        arn = group.get("logGroupArn") or group["arn"].removesuffix(":*")
        tags = self.call(f"list the tags of {name}", "list_tags_for_resource", resourceArn=arn).get("tags", {})
        return dict(
            arn=arn,
            retention_days=group.get("retentionInDays"),
            kms_key_id=group.get("kmsKeyId"),
            tags=tags,
        )

    def create(self, params):
        name = params["log_group_name"]
        request = dict(logGroupName=name)
        if params.get("kms_key_id"):
            request["kmsKeyId"] = params["kms_key_id"]
        if params.get("tags"):
            request["tags"] = params["tags"]
        self.call(f"create the log group {name}", "create_log_group", **request)
        if params.get("retention_days") is not None:
            self.call(
                f"set the retention of {name}",
                "put_retention_policy",
                logGroupName=name,
                retentionInDays=params["retention_days"],
            )

    def update(self, params, current, writes):
        name = params["log_group_name"]
        if "retention_days" in writes:
            if writes["retention_days"] is None:
                self.call(f"remove the retention of {name}", "delete_retention_policy", logGroupName=name)
            else:
                self.call(
                    f"set the retention of {name}",
                    "put_retention_policy",
                    logGroupName=name,
                    retentionInDays=writes["retention_days"],
                )
        if "kms_key_id" in writes:
            self.call(
                f"associate the KMS key with {name}",
                "associate_kms_key",
                logGroupName=name,
                kmsKeyId=writes["kms_key_id"],
            )
        if writes.get("untag"):
            self.call(f"untag {name}", "untag_resource", resourceArn=current["arn"], tagKeys=writes["untag"])
        if writes.get("tag"):
            self.call(f"tag {name}", "tag_resource", resourceArn=current["arn"], tags=writes["tag"])

    def delete(self, name):
        try:
            self.client.delete_log_group(aws_retry=True, logGroupName=name)
        except is_boto3_error_code("ResourceNotFoundException"):
            pass  # deleted meanwhile: the outcome wanted
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e, msg=f"Could not delete the log group {name}")


def ensure_present(groups, module, params):
    current = groups.read(params["log_group_name"])
    writes = plan(params, current)
    wanted = after(params, current)
    result = dict(
        changed=bool(writes),
        changes=change_labels(writes),
        log_group=wanted,
        diff=dict(before=dict(current, log_group_name=params["log_group_name"]) if current else {}, after=wanted),
    )
    if module.check_mode or not writes:
        return result
    if writes.get("create"):
        groups.create(params)
    else:
        groups.update(params, current, writes)
    return result


def ensure_absent(groups, module, params):
    name = params["log_group_name"]
    current = groups.find(name)
    if current is None:
        return dict(changed=False, changes=[], diff=dict(before={}, after={}))
    if not module.check_mode:
        groups.delete(name)
    return dict(changed=True, changes=["deleted"], diff=dict(before=dict(log_group_name=name), after={}))


def main():
    argument_spec = dict(
        log_group_name=dict(type="str", required=True),
        retention_days=dict(type="int"),
        kms_key_id=dict(type="str"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    problems = validate(module.params)
    if problems:
        module.fail_json(msg="Invalid log group settings: " + "; ".join(problems))
    groups = LogGroups(module, module.client("logs", retry_decorator=RETRY))
    ensure = ensure_present if module.params["state"] == "present" else ensure_absent
    result = ensure(groups, module, module.params)
    if not module._diff:
        result.pop("diff")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
