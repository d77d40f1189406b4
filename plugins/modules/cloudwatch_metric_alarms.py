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
module: cloudwatch_metric_alarms
short_description: Converge a group of CloudWatch metric alarms, their tags included, in one run
version_added: 1.0.0
description:
  - Brings every alarm of O(alarms) to the given settings and tags, or deletes them all.
  - One C(DescribeAlarms) reads every alarm, one C(GetResources) call of the Resource Groups
    Tagging API reads the tags of all of them; C(PutMetricAlarm) is called only for the alarms
    whose settings differ, C(TagResource) / C(UntagResource) only for those whose tags differ.
  - A new alarm gets its tags in its C(PutMetricAlarm) call, so no alarm is ever untagged.
  - The tagging API can lag behind a tag change by a short while, so an alarm it does not list,
    or lists with other tags than the wanted ones, is read again with C(ListTagsForResource)
    before anything is written. Without the C(tag:GetResources) permission every alarm is read
    that way.
  - With O(state=absent) one C(DeleteAlarms) call deletes the listed alarms that exist.
  - Replaces M(amazon.aws.cloudwatch_metric_alarm) (one process and two calls per alarm, no tags)
    for a set of alarms that belong together.
author:
  - StreamFlix Platform Engineering (@streamflix)
options:
  alarms:
    description:
      - The alarms, at most 100 (one C(DescribeAlarms) call reads 100 names).
      - With O(state=absent) only O(alarms[].name) is used.
    required: true
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the alarm.
        required: true
        type: str
      namespace:
        description: Namespace of the metric. Required when O(state=present).
        type: str
      metric_name:
        description: Name of the metric. Required when O(state=present).
        type: str
      statistic:
        description: Statistic applied to the metric. Required when O(state=present).
        type: str
        choices: [SampleCount, Average, Sum, Minimum, Maximum]
      comparison_operator:
        description: How the statistic is compared with O(alarms[].threshold). Required when O(state=present).
        type: str
        choices:
          - GreaterThanOrEqualToThreshold
          - GreaterThanThreshold
          - LessThanThreshold
          - LessThanOrEqualToThreshold
      threshold:
        description: The value the statistic is compared with. Required when O(state=present).
        type: float
      period:
        description:
          - Length of one evaluated period in seconds (10, 30 or a multiple of 60).
          - Required when O(state=present).
        type: int
      evaluation_periods:
        description: Number of periods evaluated. Required when O(state=present).
        type: int
      dimensions:
        description: Dimensions of the metric, name to value.
        type: dict
        default: {}
      treat_missing_data:
        description: How periods without data are evaluated.
        type: str
        default: missing
        choices: [breaching, notBreaching, ignore, missing]
      description:
        description: Description of the alarm.
        type: str
        default: ""
      actions_enabled:
        description: Whether the alarm runs its actions when it changes state.
        type: bool
        default: true
      alarm_actions:
        description: ARNs notified when the alarm goes to ALARM.
        type: list
        elements: str
        default: []
      ok_actions:
        description: ARNs notified when the alarm goes back to OK.
        type: list
        elements: str
        default: []
      insufficient_data_actions:
        description: ARNs notified when the alarm goes to INSUFFICIENT_DATA.
        type: list
        elements: str
        default: []
  state:
    description: V(present) creates or updates the alarms, V(absent) deletes them.
    type: str
    default: present
    choices: [present, absent]
notes:
  - Supports check mode and diff mode. Check mode reads, compares and reports; it writes nothing.
  - PutMetricAlarm replaces an alarm's whole configuration, so settings this module does not
    know (unit, datapoints to alarm, extended statistics) are cleared when an alarm is updated.
  - The order of the action lists and of the dimensions does not matter.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Alarms of the pipeline
  streamflix.video_pipeline.cloudwatch_metric_alarms:
    alarms:
      - name: video-processing-iterator-age-dev
        namespace: AWS/Kinesis
        metric_name: GetRecords.IteratorAgeMilliseconds
        statistic: Maximum
        comparison_operator: GreaterThanThreshold
        threshold: 300000
        period: 300
        evaluation_periods: 1
        dimensions:
          StreamName: video-ingestion-stream-dev
        treat_missing_data: notBreaching
        description: Workers fall behind, check the ECS service.
        alarm_actions: [arn:aws:sns:us-east-1:123456789012:video-processing-alarms-dev]
        ok_actions: [arn:aws:sns:us-east-1:123456789012:video-processing-alarms-dev]
    tags:
      Project: video-processing
      Component: monitoring

- name: Delete them (one call; no change when they are gone)
  streamflix.video_pipeline.cloudwatch_metric_alarms:
    alarms:
      - name: video-processing-iterator-age-dev
    state: absent
"""

RETURN = r"""
alarms:
  description:
    - Per alarm name, its ARN after the run (empty for an alarm check mode would create, and
      after O(state=absent)) and the names of the settings that differed (C(created) for a new alarm).
  returned: always
  type: dict
  sample:
    video-processing-iterator-age-dev:
      alarm_arn: arn:aws:cloudwatch:us-east-1:123456789012:alarm:video-processing-iterator-age-dev
      changes: [threshold, tags]
"""

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)

MAX_ALARMS = 100  # AlarmNames of DescribeAlarms and DeleteAlarms: at most 100 names
REQUIRED_WHEN_PRESENT = (
    "namespace",
    "metric_name",
    "statistic",
    "comparison_operator",
    "threshold",
    "period",
    "evaluation_periods",
)
# option -> (PutMetricAlarm / DescribeAlarms key, value AWS reports when the alarm has none)
SETTINGS = (
    ("namespace", "Namespace", None),
    ("metric_name", "MetricName", None),
    ("statistic", "Statistic", None),
    ("comparison_operator", "ComparisonOperator", None),
    ("threshold", "Threshold", None),
    ("period", "Period", None),
    ("evaluation_periods", "EvaluationPeriods", None),
    ("dimensions", "Dimensions", []),
    ("treat_missing_data", "TreatMissingData", "missing"),
    ("description", "AlarmDescription", ""),
    ("actions_enabled", "ActionsEnabled", True),
    ("alarm_actions", "AlarmActions", []),
    ("ok_actions", "OKActions", []),
    ("insufficient_data_actions", "InsufficientDataActions", []),
)
ACTION_LISTS = ("alarm_actions", "ok_actions", "insufficient_data_actions")


# Decisions (no AWS calls)


def problems(alarms, state):
    """What is wrong with the input, as messages ([] when it can be applied)."""
    found = []
    if len(alarms) > MAX_ALARMS:
        found.append("alarms holds {0} alarms, at most {1} are supported".format(len(alarms), MAX_ALARMS))
    names = [alarm["name"] for alarm in alarms]
    duplicates = sorted(set(name for name in names if names.count(name) > 1))
    if duplicates:
        found.append("alarm names given more than once: {0}".format(", ".join(duplicates)))
    if state == "present":
        for alarm in alarms:
            missing = [option for option in REQUIRED_WHEN_PRESENT if alarm.get(option) is None]
            if missing:
                found.append("alarm {0} lacks {1}".format(alarm["name"], ", ".join(missing)))
    return found


def comparable(alarm):
    """The settings of a wanted alarm (options) in a form equal to comparable_described() of the same alarm."""
    view = {}
    for option, _key, default in SETTINGS:
        value = alarm.get(option)
        if value is None:
            value = default
        if option == "dimensions":
            value = dict((str(k), str(v)) for k, v in (value or {}).items())
        elif option in ACTION_LISTS:
            value = sorted(value or [])
        elif option == "threshold":
            value = float(value)
        elif option in ("period", "evaluation_periods"):
            value = int(value)
        view[option] = value
    return view


def comparable_described(described):
    """The settings of an alarm as DescribeAlarms returns it, in the options' form."""
    view = {}
    for option, key, default in SETTINGS:
        value = described.get(key, default)
        if value is None:
            value = default
        if option == "dimensions":
            value = dict((d["Name"], d["Value"]) for d in value or [])
        elif option in ACTION_LISTS:
            value = sorted(value or [])
        elif option == "threshold" and value is not None:
            value = float(value)
        view[option] = value
    return view


def setting_differences(wanted, described):
    """Names of the options in which an existing alarm differs from the wanted one (sorted)."""
    have = comparable_described(described)
    want = comparable(wanted)
    return sorted(option for option in want if want[option] != have[option])


def put_request(alarm, tags=None):
    """PutMetricAlarm arguments for a wanted alarm (with Tags when creating)."""
    request = dict(
        AlarmName=alarm["name"],
        Namespace=alarm["namespace"],
        MetricName=alarm["metric_name"],
        Statistic=alarm["statistic"],
        ComparisonOperator=alarm["comparison_operator"],
        Threshold=float(alarm["threshold"]),
        Period=int(alarm["period"]),
        EvaluationPeriods=int(alarm["evaluation_periods"]),
        Dimensions=[dict(Name=str(k), Value=str(v)) for k, v in sorted((alarm.get("dimensions") or {}).items())],
        TreatMissingData=alarm.get("treat_missing_data") or "missing",
        AlarmDescription=alarm.get("description") or "",
        ActionsEnabled=alarm.get("actions_enabled", True) is not False,
        AlarmActions=list(alarm.get("alarm_actions") or []),
        OKActions=list(alarm.get("ok_actions") or []),
        InsufficientDataActions=list(alarm.get("insufficient_data_actions") or []),
    )
    if tags:
        request["Tags"] = ansible_dict_to_boto3_tag_list(tags)
    return request


def tags_after(current, wanted, purge_tags):
    """The tags an alarm has after the run; (tags, to_set, to_unset). wanted None: tags not managed."""
    if wanted is None:
        return dict(current), {}, []
    to_set, to_unset = compare_aws_tags(current, wanted, purge_tags=purge_tags)
    after = dict((k, v) for k, v in current.items() if k not in to_unset)
    after.update(to_set)
    return after, to_set, to_unset


# AWS calls


def describe_alarms(client, module, names):
    """{name: described alarm} of the alarms that exist among `names`."""
    if not names:
        return {}
    found, request = [], dict(AlarmNames=names, AlarmTypes=["MetricAlarm"])
    try:
        while True:  # by hand, not a paginator: every page goes through the retrying client
            page = client.describe_alarms(aws_retry=True, **request)
            found.extend(page.get("MetricAlarms", []))
            if not page.get("NextToken"):
                break
            request["NextToken"] = page["NextToken"]
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Could not describe the alarms {0}".format(", ".join(names)))
    return dict((alarm["AlarmName"], alarm) for alarm in found if alarm["AlarmName"] in names)


def listed_tags(tagging, module, arns):
    """{arn: tags} from one GetResources call; None when the tagging API may not be used."""
    try:
        response = tagging.get_resources(ResourceARNList=list(arns), aws_retry=True)
    except is_boto3_error_code(["AccessDeniedException", "AccessDenied", "UnauthorizedOperation"]):
        return None
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Could not read the tags of the alarms")
    return dict(
        (mapping["ResourceARN"], boto3_tag_list_to_ansible_dict(mapping.get("Tags", [])))
        for mapping in response.get("ResourceTagMappingList", [])
    )


def alarm_tags(client, module, arn):
    """The tags of one alarm, read from CloudWatch itself (always current)."""
    try:
        response = client.list_tags_for_resource(ResourceARN=arn, aws_retry=True)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Could not list the tags of {0}".format(arn))
    return boto3_tag_list_to_ansible_dict(response.get("Tags", []))


def current_tags(client, tagging, module, existing, wanted, purge_tags):
    """{name: tags} of the existing alarms, read as cheaply as the wanted tags allow."""
    arns = dict((name, alarm["AlarmArn"]) for name, alarm in existing.items())
    listed = listed_tags(tagging, module, arns.values())
    tags = {}
    for name, arn in arns.items():
        seen = None if listed is None else listed.get(arn)
        if seen is not None and not any(compare_aws_tags(seen, wanted, purge_tags=purge_tags)):
            tags[name] = seen
        else:
            # Not listed (never tagged, or the tagging API lags) or not as wanted:
            # read CloudWatch's own answer before deciding to write.
            tags[name] = alarm_tags(client, module, arn)
    return tags


def put_alarm(client, module, request):
    try:
        client.put_metric_alarm(aws_retry=True, **request)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Could not write alarm {0}".format(request["AlarmName"]))


def retag_alarm(client, module, arn, to_set, to_unset):
    try:
        if to_unset:
            client.untag_resource(ResourceARN=arn, TagKeys=list(to_unset), aws_retry=True)
        if to_set:
            client.tag_resource(ResourceARN=arn, Tags=ansible_dict_to_boto3_tag_list(to_set), aws_retry=True)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Could not tag {0}".format(arn))


def delete_alarms(client, module, names):
    try:
        client.delete_alarms(AlarmNames=names, aws_retry=True)
    except is_boto3_error_code("ResourceNotFound"):
        pass  # deleted meanwhile: the wanted state is reached
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Could not delete the alarms {0}".format(", ".join(names)))


def ensure_present(client, tagging_client, module, alarms, tags, purge_tags):
    """tagging_client: makes the Resource Groups Tagging API client (only when there are tags to read)."""
    names = [alarm["name"] for alarm in alarms]
    existing = describe_alarms(client, module, names)
    tags_now = {}
    if tags is not None and existing:
        tags_now = current_tags(client, tagging_client(), module, existing, tags, purge_tags)
    results, before, after, created = {}, {}, {}, []
    for alarm in alarms:
        name = alarm["name"]
        described = existing.get(name)
        if described is None:
            results[name] = dict(alarm_arn="", changes=["created"])
            after[name] = dict(comparable(alarm), tags=tags or {})  # not in before: it does not exist
            created.append(name)
            if not module.check_mode:
                put_alarm(client, module, put_request(alarm, tags))
            continue
        arn = described["AlarmArn"]
        settings_changed = setting_differences(alarm, described)
        current = tags_now.get(name, {})
        new_tags, to_set, to_unset = tags_after(current, tags, purge_tags)
        tags_changed = bool(to_set or to_unset)
        results[name] = dict(alarm_arn=arn, changes=settings_changed + (["tags"] if tags_changed else []))
        before[name] = dict(comparable_described(described), tags=current)
        after[name] = dict(comparable(alarm), tags=new_tags)
        if module.check_mode:
            continue
        if settings_changed:
            put_alarm(client, module, put_request(alarm))  # PutMetricAlarm ignores Tags on an existing alarm
        if tags_changed:
            retag_alarm(client, module, arn, to_set, to_unset)
    if created and not module.check_mode:
        # The ARN holds the account, which nothing else here tells: read it for the new alarms.
        for name, described in describe_alarms(client, module, created).items():
            results[name]["alarm_arn"] = described["AlarmArn"]
    changed = any(result["changes"] for result in results.values())
    return dict(changed=changed, alarms=results, diff=dict(before=before, after=after))


def ensure_absent(client, module, alarms):
    names = [alarm["name"] for alarm in alarms]
    existing = describe_alarms(client, module, names)
    gone = [name for name in names if name in existing]
    if gone and not module.check_mode:
        delete_alarms(client, module, gone)
    results = dict((name, dict(alarm_arn="", changes=["deleted"] if name in existing else [])) for name in names)
    before = dict((name, comparable_described(alarm)) for name, alarm in existing.items())
    return dict(changed=bool(gone), alarms=results, diff=dict(before=before, after={}))


def main():
    alarm_spec = dict(
        name=dict(type="str", required=True),
        namespace=dict(type="str"),
        metric_name=dict(type="str"),
        statistic=dict(type="str", choices=["SampleCount", "Average", "Sum", "Minimum", "Maximum"]),
        comparison_operator=dict(
            type="str",
            choices=[
                "GreaterThanOrEqualToThreshold",
                "GreaterThanThreshold",
                "LessThanThreshold",
                "LessThanOrEqualToThreshold",
            ],
        ),
        threshold=dict(type="float"),
        period=dict(type="int"),
        evaluation_periods=dict(type="int"),
        dimensions=dict(type="dict", default={}),
        treat_missing_data=dict(
            type="str", default="missing", choices=["breaching", "notBreaching", "ignore", "missing"]
        ),
        description=dict(type="str", default=""),
        actions_enabled=dict(type="bool", default=True),
        alarm_actions=dict(type="list", elements="str", default=[]),
        ok_actions=dict(type="list", elements="str", default=[]),
        insufficient_data_actions=dict(type="list", elements="str", default=[]),
    )
    argument_spec = dict(
        alarms=dict(type="list", elements="dict", required=True, options=alarm_spec),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    found = problems(params["alarms"], params["state"])
    if found:
        module.fail_json(msg="Invalid alarms: {0}".format("; ".join(found)))
    retry = AWSRetry.jittered_backoff(retries=10)
    client = module.client("cloudwatch", retry_decorator=retry)
    if params["state"] == "absent":
        result = ensure_absent(client, module, params["alarms"])
    else:
        result = ensure_present(
            client,
            lambda: module.client("resourcegroupstaggingapi", retry_decorator=retry),
            module,
            params["alarms"],
            params["tags"],
            params["purge_tags"],
        )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
