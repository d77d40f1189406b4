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
module: vpc_flow_log
short_description: Manage a VPC flow log that delivers to CloudWatch Logs
version_added: 1.0.0
description:
  - Creates, replaces or deletes the flow log of one VPC (or subnet or network
    interface) that delivers to one CloudWatch Logs log group.
  - A flow log is identified by its resource and its log group. AWS cannot
    modify a flow log, so when the traffic type, the delivery role, the
    aggregation interval or the log format differ, the flow log is deleted
    and created again. Tags are updated in place.
  - Neither amazon.aws nor community.aws has a flow-log module.
author:
  - StreamFlix Platform Engineering (@streamflix)
options:
  resource_id:
    description:
      - ID of the VPC, subnet or network interface whose traffic is logged.
      - Required when O(state=present). With O(state=absent) and no O(resource_id), every flow
        log that delivers to O(log_group_name) is deleted, whatever it logs (a teardown that
        runs after the VPC's owner, or without knowing the VPC, needs no lookup).
    type: str
  resource_type:
    description: Type of O(resource_id).
    type: str
    default: VPC
    choices: [VPC, Subnet, NetworkInterface]
  log_group_name:
    description: CloudWatch Logs log group that receives the records.
    required: true
    type: str
  deliver_logs_permission_arn:
    description:
      - ARN of the IAM role that the flow-logs service assumes to write to the log group.
      - Required when O(state=present).
    type: str
  traffic_type:
    description: Which traffic to log.
    type: str
    default: ALL
    choices: [ALL, ACCEPT, REJECT]
  max_aggregation_interval:
    description: Longest time in seconds over which a flow is captured into one record.
    type: int
    default: 600
    choices: [60, 600]
  log_format:
    description:
      - Custom record format (C(${field} ...)). When not given, the AWS default
        format is used and the current format is not compared.
    type: str
  state:
    description: V(present) ensures the flow log exists as described, V(absent) deletes it.
    type: str
    default: present
    choices: [present, absent]
notes:
  - Supports check mode and diff mode.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Log all traffic of the VPC to CloudWatch Logs
  streamflix.video_pipeline.vpc_flow_log:
    resource_id: vpc-0123456789abcdef0
    log_group_name: /vpc/video-processing-dev
    deliver_logs_permission_arn: arn:aws:iam::123456789012:role/video-processing-flowlogs-role-dev
    traffic_type: ALL
    tags:
      Component: monitoring

- name: Remove it (no change when it does not exist)
  streamflix.video_pipeline.vpc_flow_log:
    resource_id: vpc-0123456789abcdef0
    log_group_name: /vpc/video-processing-dev
    state: absent

- name: Remove every flow log that writes to the group
  streamflix.video_pipeline.vpc_flow_log:
    log_group_name: /vpc/video-processing-dev
    state: absent
"""

RETURN = r"""
flow_log_id:
  description:
    - ID of the flow log.
    - Empty when it does not exist (after O(state=absent), or when check mode would create it).
  returned: always
  type: str
  sample: fl-0123456789abcdef0
flow_log:
  description:
    - The flow log after the run (snake_case keys, tags as a dictionary); empty when it does not exist.
    - It is built from what was read and written, not read back; a flow log made by this run shows
      the requested settings and the ID AWS assigned (C(log_format) only when O(log_format) is given).
  returned: always
  type: dict
  contains:
    flow_log_id:
      description: ID of the flow log.
      type: str
    resource_id:
      description: The logged resource.
      type: str
    traffic_type:
      description: ALL, ACCEPT or REJECT.
      type: str
    log_destination_type:
      description: Always C(cloud-watch-logs) for flow logs made by this module.
      type: str
    log_group_name:
      description: The receiving log group.
      type: str
    deliver_logs_permission_arn:
      description: The delivery role.
      type: str
    max_aggregation_interval:
      description: Aggregation interval in seconds.
      type: int
    log_format:
      description: Record format.
      type: str
    tags:
      description: Tags of the flow log.
      type: dict
"""

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    boto3_tag_specifications,
    compare_aws_tags,
)

# Settings AWS cannot change on an existing flow log: a difference means replace.
IMMUTABLE = (
    ("TrafficType", "traffic_type"),
    ("DeliverLogsPermissionArn", "deliver_logs_permission_arn"),
    ("MaxAggregationInterval", "max_aggregation_interval"),
    ("LogFormat", "log_format"),
)


def find_flow_logs(client, module, resource_id, log_group_name):
    """The flow logs of `resource_id` (None: of any resource) that deliver to `log_group_name`."""
    filters = [
        {"Name": "log-destination-type", "Values": ["cloud-watch-logs"]},
        {"Name": "log-group-name", "Values": [log_group_name]},
    ]
    if resource_id:
        filters.insert(0, {"Name": "resource-id", "Values": [resource_id]})
    found, request = [], dict(Filters=filters)
    try:
        while True:  # by hand, not a paginator: every page goes through the retrying client
            page = client.describe_flow_logs(aws_retry=True, **request)
            found.extend(page.get("FlowLogs", []))
            if not page.get("NextToken"):
                break
            request["NextToken"] = page["NextToken"]
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Could not list the flow logs that write to {0}".format(log_group_name))
    # Filter again: not every implementation honours every filter.
    return [
        fl
        for fl in found
        if fl.get("LogGroupName") == log_group_name and (not resource_id or fl.get("ResourceId") == resource_id)
    ]


def differences(flow_log, wanted):
    """Names of the immutable settings in which `flow_log` differs from `wanted` (None = not compared)."""
    diffs = []
    for aws_key, param in IMMUTABLE:
        value = wanted.get(param)
        if value is None:
            continue
        if flow_log.get(aws_key) != value:
            diffs.append(param)
    return diffs


def describe(flow_log):
    """A flow log as returned to the user: snake_case keys, tags as a dict."""
    if not flow_log:
        return {}
    tags = boto3_tag_list_to_ansible_dict(flow_log.get("Tags", []))
    result = camel_dict_to_snake_dict({k: v for k, v in flow_log.items() if k != "Tags"})
    result["tags"] = tags
    for volatile in ("creation_time", "deliver_logs_status", "deliver_logs_error_message", "flow_log_status"):
        result.pop(volatile, None)
    return result


def wanted_view(params, tags):
    """The flow log as it will look after the run, for the diff."""
    view = {
        "resource_id": params["resource_id"],
        "log_destination_type": "cloud-watch-logs",
        "log_group_name": params["log_group_name"],
        "deliver_logs_permission_arn": params["deliver_logs_permission_arn"],
        "traffic_type": params["traffic_type"],
        "max_aggregation_interval": params["max_aggregation_interval"],
        "tags": tags,
    }
    if params.get("log_format"):
        view["log_format"] = params["log_format"]
    return view


def delete_flow_logs(client, module, flow_log_ids):
    if not flow_log_ids or module.check_mode:
        return
    try:
        response = client.delete_flow_logs(FlowLogIds=flow_log_ids, aws_retry=True)
    except is_boto3_error_code("InvalidFlowLogId.NotFound"):
        return  # deleted meanwhile: the wanted state is reached
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Could not delete flow logs {0}".format(", ".join(flow_log_ids)))
    problems = [
        item
        for item in response.get("Unsuccessful", [])
        if item.get("Error", {}).get("Code") != "InvalidFlowLogId.NotFound"
    ]
    if problems:
        module.fail_json(
            msg="AWS refused to delete flow logs", unsuccessful=[camel_dict_to_snake_dict(item) for item in problems]
        )


def create_flow_log(client, module, params, tags):
    request = dict(
        ResourceIds=[params["resource_id"]],
        ResourceType=params["resource_type"],
        TrafficType=params["traffic_type"],
        LogDestinationType="cloud-watch-logs",
        LogGroupName=params["log_group_name"],
        DeliverLogsPermissionArn=params["deliver_logs_permission_arn"],
        MaxAggregationInterval=params["max_aggregation_interval"],
    )
    if params.get("log_format"):
        request["LogFormat"] = params["log_format"]
    if tags:
        request["TagSpecifications"] = boto3_tag_specifications(tags, types=["vpc-flow-log"])
    try:
        response = client.create_flow_logs(aws_retry=True, **request)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Could not create the flow log of {0}".format(params["resource_id"]))
    if response.get("Unsuccessful") or not response.get("FlowLogIds"):
        module.fail_json(
            msg="AWS did not create the flow log of {0}".format(params["resource_id"]),
            unsuccessful=[camel_dict_to_snake_dict(item) for item in response.get("Unsuccessful", [])],
        )
    return response["FlowLogIds"][0]


def update_tags(client, module, flow_log, tags, purge_tags):
    """Bring the tags of an existing flow log to `tags`; returns its tags after the run."""
    current = boto3_tag_list_to_ansible_dict(flow_log.get("Tags", []))
    if tags is None:
        return current
    to_set, to_unset = compare_aws_tags(current, tags, purge_tags=purge_tags)
    after = dict((k, v) for k, v in current.items() if k not in to_unset)
    after.update(to_set)
    if not (to_set or to_unset) or module.check_mode:
        return after
    try:
        if to_unset:
            client.delete_tags(
                Resources=[flow_log["FlowLogId"]], Tags=[{"Key": key} for key in to_unset], aws_retry=True
            )
        if to_set:
            client.create_tags(
                Resources=[flow_log["FlowLogId"]], Tags=ansible_dict_to_boto3_tag_list(to_set), aws_retry=True
            )
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Could not tag flow log {0}".format(flow_log["FlowLogId"]))
    return after


def ensure_present(client, module, params):
    tags = params.get("tags")
    existing = find_flow_logs(client, module, params["resource_id"], params["log_group_name"])
    keep = next((fl for fl in existing if not differences(fl, params)), None)
    # Flow logs that deliver to the same group with other settings (or duplicates)
    # would write a second, different record stream: they are replaced.
    stale = [fl["FlowLogId"] for fl in existing if keep is None or fl["FlowLogId"] != keep["FlowLogId"]]
    before = describe(keep or (existing[0] if existing else None))

    changed = bool(stale)
    delete_flow_logs(client, module, stale)

    if keep is None:
        # The result is built from the request (and the ID AWS assigned), not read back.
        after = wanted_view(params, tags if tags is not None else {})
        flow_log_id = "" if module.check_mode else create_flow_log(client, module, params, tags)
        if flow_log_id:
            after = dict(after, flow_log_id=flow_log_id)
        return dict(
            changed=True,
            flow_log_id=flow_log_id,
            flow_log=after if flow_log_id else {},
            diff=dict(before=before, after=after),
        )

    before_tags = before.get("tags", {})
    after = dict(before, tags=update_tags(client, module, keep, tags, params["purge_tags"]))
    changed |= after["tags"] != before_tags
    return dict(changed=changed, flow_log_id=keep["FlowLogId"], flow_log=after, diff=dict(before=before, after=after))


def ensure_absent(client, module, params):
    existing = find_flow_logs(client, module, params["resource_id"], params["log_group_name"])
    if not existing:
        return dict(changed=False, flow_log_id="", flow_log={}, diff=dict(before={}, after={}))
    delete_flow_logs(client, module, [fl["FlowLogId"] for fl in existing])
    return dict(changed=True, flow_log_id="", flow_log={}, diff=dict(before=describe(existing[0]), after={}))


def main():
    argument_spec = dict(
        resource_id=dict(type="str"),
        resource_type=dict(type="str", default="VPC", choices=["VPC", "Subnet", "NetworkInterface"]),
        log_group_name=dict(type="str", required=True),
        deliver_logs_permission_arn=dict(type="str"),
        traffic_type=dict(type="str", default="ALL", choices=["ALL", "ACCEPT", "REJECT"]),
        max_aggregation_interval=dict(type="int", default=600, choices=[60, 600]),
        log_format=dict(type="str"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        required_if=[("state", "present", ["resource_id", "deliver_logs_permission_arn"])],
        supports_check_mode=True,
    )
    client = module.client("ec2", retry_decorator=AWSRetry.jittered_backoff(retries=10))
    if module.params["state"] == "absent":
        result = ensure_absent(client, module, module.params)
    else:
        result = ensure_present(client, module, module.params)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
