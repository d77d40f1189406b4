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
module: cloudwatch_alarm_tags
short_description: Set the tags of existing CloudWatch metric alarms
version_added: 1.0.0
description:
  - Brings the tags of one or more existing CloudWatch alarms to the given
    dictionary (C(TagResource) / C(UntagResource) only where they differ).
  - M(amazon.aws.cloudwatch_metric_alarm) cannot tag alarms; run this module
    after it so that alarms carry the same tags as every other resource (and
    are found by tag-based inventories and teardown sweeps).
author:
  - StreamFlix Platform Engineering (@streamflix)
options:
  alarm_names:
    description: Names of the alarms to tag (at most 100).
    required: true
    type: list
    elements: str
notes:
  - Supports check mode and diff mode. In check mode an alarm that does not
    exist yet (because the task that creates it ran in check mode too) is
    reported as changed instead of failing.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Tag the pipeline's alarms
  streamflix.video_pipeline.cloudwatch_alarm_tags:
    alarm_names:
      - video-processing-iterator-age-dev
      - video-processing-dlq-messages-dev
    tags:
      Project: video-processing
      Component: monitoring
    purge_tags: true
"""

RETURN = r"""
alarms:
  description: Per alarm name, its ARN and its tags after the run (the wanted tags in check mode).
  returned: always
  type: dict
  sample:
    video-processing-iterator-age-dev:
      alarm_arn: arn:aws:cloudwatch:us-east-1:123456789012:alarm:video-processing-iterator-age-dev
      tags: {"Component": "monitoring"}
"""

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)


def alarm_arns(client, module, names):
    """{name: arn} of the alarms that exist among `names`."""
    try:
        paginator = client.get_paginator("describe_alarms")
        result = paginator.paginate(AlarmNames=names, AlarmTypes=["MetricAlarm"]).build_full_result()
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Could not describe the alarms")
    return {alarm["AlarmName"]: alarm["AlarmArn"] for alarm in result.get("MetricAlarms", [])}


def current_tags(client, module, arn):
    try:
        response = client.list_tags_for_resource(ResourceARN=arn, aws_retry=True)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Could not list the tags of {0}".format(arn))
    return boto3_tag_list_to_ansible_dict(response.get("Tags", []))


def apply(client, module, arn, to_set, to_unset):
    if module.check_mode:
        return
    try:
        if to_unset:
            client.untag_resource(ResourceARN=arn, TagKeys=list(to_unset), aws_retry=True)
        if to_set:
            client.tag_resource(ResourceARN=arn, Tags=ansible_dict_to_boto3_tag_list(to_set), aws_retry=True)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Could not tag {0}".format(arn))


def ensure(client, module, names, tags, purge_tags):
    arns = alarm_arns(client, module, names)
    missing = [name for name in names if name not in arns]
    if missing and not module.check_mode:
        module.fail_json(msg="These alarms do not exist (create them first): {0}".format(", ".join(missing)))
    changed = bool(missing)
    alarms, before, after = {}, {}, {}
    for name in names:
        if name in missing:
            alarms[name] = dict(alarm_arn="", tags=tags)
            before[name], after[name] = {}, tags
            continue
        arn = arns[name]
        current = current_tags(client, module, arn)
        to_set, to_unset = compare_aws_tags(current, tags, purge_tags=purge_tags)
        wanted = dict((k, v) for k, v in current.items() if k not in to_unset)
        wanted.update(to_set)
        if to_set or to_unset:
            changed = True
            apply(client, module, arn, to_set, to_unset)
        alarms[name] = dict(alarm_arn=arn, tags=wanted)
        before[name], after[name] = current, wanted
    return dict(changed=changed, alarms=alarms, diff=dict(before=before, after=after))


def main():
    argument_spec = dict(
        alarm_names=dict(type="list", elements="str", required=True),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    names = module.params["alarm_names"]
    if len(names) > 100:
        module.fail_json(msg="alarm_names holds {0} names; DescribeAlarms takes at most 100".format(len(names)))
    if module.params["tags"] is None:
        module.exit_json(changed=False, alarms={})  # tags not given: nothing to manage
    client = module.client("cloudwatch", retry_decorator=AWSRetry.jittered_backoff(retries=10))
    module.exit_json(**ensure(client, module, names, module.params["tags"], module.params["purge_tags"]))


if __name__ == "__main__":
    main()
