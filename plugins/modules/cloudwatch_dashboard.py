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
module: cloudwatch_dashboard
short_description: Create, update or delete a CloudWatch dashboard
version_added: 1.0.0
description:
  - Manages one Amazon CloudWatch dashboard by name.
  - The wanted body is compared with the current one as parsed JSON, so key
    order and whitespace never count as a difference; C(PutDashboard) is called
    only when the content really differs.
  - Validation messages returned by C(PutDashboard) are reported as a failure,
    so a dashboard with broken widgets is never silently accepted.
author:
  - StreamFlix Platform Engineering (@streamflix)
options:
  dashboard_name:
    description:
      - Name of the dashboard (up to 255 characters, letters, digits, C(-) and C(_)).
    required: true
    type: str
    aliases: [name]
  dashboard_body:
    description:
      - The dashboard definition (C(widgets) and optional C(start), C(end),
        C(periodOverride)), as a dictionary or as a JSON string.
      - Required when O(state=present).
      - See the CloudWatch "Dashboard Body Structure and Syntax" reference.
    type: raw
  state:
    description:
      - V(present) creates the dashboard or updates it when its body differs.
      - V(absent) deletes it if it exists.
    type: str
    default: present
    choices: [present, absent]
notes:
  - Supports check mode and diff mode; the diff shows the parsed bodies
    before and after.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Dashboard of the pipeline, body rendered from a template
  streamflix.video_pipeline.cloudwatch_dashboard:
    dashboard_name: video-processing-dev
    dashboard_body: "{{ lookup('ansible.builtin.template', 'dashboard.json.j2') }}"

- name: Dashboard given as YAML
  streamflix.video_pipeline.cloudwatch_dashboard:
    name: my-dashboard
    dashboard_body:
      widgets:
        - type: text
          x: 0
          y: 0
          width: 24
          height: 2
          properties:
            markdown: "# Hello"

- name: Remove the dashboard (no change when it does not exist)
  streamflix.video_pipeline.cloudwatch_dashboard:
    dashboard_name: video-processing-dev
    state: absent
"""

RETURN = r"""
dashboard_name:
  description: Name of the dashboard.
  returned: always
  type: str
  sample: video-processing-dev
dashboard_arn:
  description:
    - ARN of the dashboard.
    - Empty when the dashboard does not exist (after O(state=absent), or when
      check mode would create it).
  returned: always
  type: str
  sample: arn:aws:cloudwatch::123456789012:dashboard/video-processing-dev
dashboard_body:
  description:
    - The dashboard body as a dictionary; the wanted body for O(state=present)
      (what AWS holds after the run), empty for O(state=absent).
  returned: always
  type: dict
  sample:
    widgets:
      - {"type": "text", "x": 0, "y": 0, "width": 24, "height": 2, "properties": {"markdown": "# Hello"}}
validation_messages:
  description: Validation messages returned by C(PutDashboard) (the module fails when there are any).
  returned: when PutDashboard reported problems
  type: list
  elements: dict
  sample: [{"data_path": "/widgets/0/properties", "message": "Should have required property 'metrics'"}]
"""

import json

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible.module_utils.six import string_types
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry


class DashboardBodyError(ValueError):
    """The wanted body is neither a mapping nor a JSON object."""


def normalize_body(body):
    """Return the body as a dict, whether it came as a dict or as a JSON string.

    Comparing parsed objects makes key order and whitespace irrelevant, while
    list order (the order of widgets and metrics, which AWS keeps) still counts.
    """
    if isinstance(body, string_types):
        try:
            body = json.loads(body)
        except ValueError as e:
            raise DashboardBodyError("dashboard_body is not valid JSON: {0}".format(e)) from e
    if not isinstance(body, dict):
        raise DashboardBodyError(
            "dashboard_body must be a dictionary or a JSON object, got {0}".format(type(body).__name__)
        )
    # A round trip through JSON turns tuples into lists and rejects values that
    # AWS could not store, so the comparison below sees what AWS would see.
    try:
        return json.loads(json.dumps(body))
    except (TypeError, ValueError) as e:
        raise DashboardBodyError("dashboard_body cannot be written as JSON: {0}".format(e)) from e


def bodies_differ(current, wanted):
    """True when the current body (None: no dashboard) is not the wanted one."""
    return current is None or current != wanted


def get_dashboard(client, module, name):
    """The dashboard as {'arn': ..., 'body': dict}, or None when it does not exist."""
    try:
        response = client.get_dashboard(DashboardName=name, aws_retry=True)
    except is_boto3_error_code("ResourceNotFound"):
        return None
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Could not read dashboard {0}".format(name))
    raw = response.get("DashboardBody") or "{}"
    try:
        body = json.loads(raw)
    except ValueError:
        # Not JSON: treat it as different from anything we could want.
        body = {"__unparseable_body__": raw}
    return {"arn": response.get("DashboardArn", ""), "body": body}


def put_dashboard(client, module, name, body):
    try:
        response = client.put_dashboard(
            DashboardName=name, DashboardBody=json.dumps(body, sort_keys=True), aws_retry=True
        )
    except is_boto3_error_code("InvalidParameterInput") as e:
        messages = e.response.get("DashboardValidationMessages") or []
        module.fail_json_aws(
            e,
            msg="CloudWatch refused the body of dashboard {0}".format(name),
            validation_messages=[camel_dict_to_snake_dict(m) for m in messages],
        )
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Could not write dashboard {0}".format(name))
    messages = response.get("DashboardValidationMessages") or []
    if messages:
        # AWS stores the dashboard but some widgets will not render: fail so the
        # operator fixes the template instead of shipping a broken dashboard.
        module.fail_json(
            msg="CloudWatch reported problems in the body of dashboard {0}: {1}".format(
                name, "; ".join("{0}: {1}".format(m.get("DataPath", ""), m.get("Message", "")) for m in messages)
            ),
            changed=True,
            validation_messages=[camel_dict_to_snake_dict(m) for m in messages],
        )


def delete_dashboard(client, module, name):
    try:
        client.delete_dashboards(DashboardNames=[name], aws_retry=True)
    except is_boto3_error_code("ResourceNotFound"):
        pass  # deleted meanwhile: the wanted state is reached
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Could not delete dashboard {0}".format(name))


def ensure_present(client, module, name, wanted):
    current = get_dashboard(client, module, name)
    before = current["body"] if current else {}
    changed = bodies_differ(current["body"] if current else None, wanted)
    arn = current["arn"] if current else ""
    if changed and not module.check_mode:
        put_dashboard(client, module, name, wanted)
        written = get_dashboard(client, module, name)
        arn = written["arn"] if written else ""
    return dict(
        changed=changed,
        dashboard_name=name,
        dashboard_arn=arn,
        dashboard_body=wanted,
        diff=dict(before=before, after=wanted),
    )


def ensure_absent(client, module, name):
    current = get_dashboard(client, module, name)
    if current is None:
        return dict(
            changed=False, dashboard_name=name, dashboard_arn="", dashboard_body={}, diff=dict(before={}, after={})
        )
    if not module.check_mode:
        delete_dashboard(client, module, name)
    return dict(
        changed=True,
        dashboard_name=name,
        dashboard_arn="",
        dashboard_body={},
        diff=dict(before=current["body"], after={}),
    )


def main():
    argument_spec = dict(
        dashboard_name=dict(type="str", required=True, aliases=["name"]),
        dashboard_body=dict(type="raw"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        required_if=[("state", "present", ["dashboard_body"])],
        supports_check_mode=True,
    )
    name = module.params["dashboard_name"]

    client = module.client("cloudwatch", retry_decorator=AWSRetry.jittered_backoff(retries=10))

    if module.params["state"] == "absent":
        result = ensure_absent(client, module, name)
    else:
        try:
            wanted = normalize_body(module.params["dashboard_body"])
        except DashboardBodyError as e:
            module.fail_json(msg=str(e))
        result = ensure_present(client, module, name, wanted)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
