#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: StreamFlix Platform Engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: ecs_task_definition_sync
short_description: Register an ECS task definition revision only when it really differs
version_added: 1.0.0
description:
  - Compares the wanted task definition with the latest C(ACTIVE) revision of the family and
    registers a new revision only when they differ.
  - Unlike M(community.aws.ecs_taskdefinition) the comparison covers every field of the
    revision (task CPU and memory, roles, volumes, network mode, containers), ignores key
    order and list order where AWS gives it no meaning, and ignores the defaults AWS fills in
    (for example C(essential=true), container C(cpu=0), empty lists).
  - The latest C(ACTIVE) revision and its tags are read with one C(DescribeTaskDefinition) of the
    bare family. C(ListTaskDefinitions) is called only when that finds no C(ACTIVE) revision (and
    with O(state=absent)); its revisions are sorted by number here, because its sorting is not
    honoured by every endpoint, and matched on the exact family (C(familyPrefix) is a prefix match).
  - New revisions get O(tags) at registration; the latest revision's tags are kept in line.
  - With O(state=absent) every C(ACTIVE) revision of the family is deregistered.
options:
  family:
    description: Task definition family.
    type: str
    required: true
  state:
    description: C(present) registers when needed; C(absent) deregisters every active revision.
    type: str
    choices: [present, absent]
    default: present
  container_definitions:
    description:
      - Container definitions exactly as C(RegisterTaskDefinition) takes them (camelCase keys).
      - Required with O(state=present).
    type: list
    elements: dict
  volumes:
    description: Volumes as C(RegisterTaskDefinition) takes them (camelCase keys).
    type: list
    elements: dict
    default: []
  cpu:
    description: Task CPU units (for example C(1024)).
    type: str
  memory:
    description: Task memory in MiB (for example C(2048)).
    type: str
  network_mode:
    description: Docker network mode.
    type: str
    choices: [bridge, host, awsvpc, none]
    default: awsvpc
  requires_compatibilities:
    description: Launch types the revision must be valid for.
    type: list
    elements: str
    default: [FARGATE]
  task_role_arn:
    description: IAM role the containers' code runs as.
    type: str
  execution_role_arn:
    description: IAM role ECS uses to pull the image, write logs and read secrets.
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - streamflix.video_pipeline.ecs
author:
  - StreamFlix Platform Engineering (@streamflix)
"""

EXAMPLES = r"""
- name: Worker task definition (registers a revision only on a real change)
  streamflix.video_pipeline.ecs_task_definition_sync:
    family: video-processing-dev
    cpu: "1024"
    memory: "2048"
    execution_role_arn: arn:aws:iam::123456789012:role/video-processing-exec-role-dev
    task_role_arn: arn:aws:iam::123456789012:role/video-processing-task-role-dev
    volumes:
      - name: scratch
    container_definitions:
      - name: worker
        image: public.ecr.aws/docker/library/python:3.11-slim
        readonlyRootFilesystem: true
        mountPoints:
          - sourceVolume: scratch
            containerPath: /tmp
    tags:
      Environment: dev

- name: Deregister every revision of the family
  streamflix.video_pipeline.ecs_task_definition_sync:
    family: video-processing-dev
    state: absent
"""

RETURN = r"""
task_definition_arn:
  description:
    - ARN of the revision that is now current (the new one, or the unchanged latest).
    - Absent in check mode before the first revision exists.
  returned: state=present
  type: str
  sample: arn:aws:ecs:us-east-1:123456789012:task-definition/video-processing-dev:3
revision:
  description: Revision number of RV(task_definition_arn).
  returned: state=present
  type: int
  sample: 3
registered:
  description: Whether a new revision was (or, in check mode, would be) registered.
  returned: state=present
  type: bool
differences:
  description: Top-level fields that differ from the latest active revision (empty when the same).
  returned: state=present
  type: list
  elements: str
  sample: [containerDefinitions, memory]
deregistered:
  description: ARNs of the revisions that were (or would be) deregistered.
  returned: state=absent
  type: list
  elements: str
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule  # noqa: E402  (DOCUMENTATION comes first)
from ansible_collections.streamflix.video_pipeline.plugins.module_utils.ecs import (  # noqa: E402  (DOCUMENTATION comes first)
    active_revision_arns,
    dict_to_ecs_tags,
    ecs_argument_spec,
    latest_active_revision,
    normalize_task_definition,
    revision_of,
    run_sync,
    sync_tags,
    task_definition_differences,
)


def wanted_definition(params):
    """The RegisterTaskDefinition request (without tags) from the module parameters."""
    definition = dict(
        family=params["family"],
        containerDefinitions=params["container_definitions"],
        volumes=params["volumes"] or [],
        networkMode=params["network_mode"],
        requiresCompatibilities=params["requires_compatibilities"],
    )
    for option, key in (
        ("cpu", "cpu"),
        ("memory", "memory"),
        ("task_role_arn", "taskRoleArn"),
        ("execution_role_arn", "executionRoleArn"),
    ):
        if params.get(option) not in (None, ""):
            definition[key] = str(params[option]) if key in ("cpu", "memory") else params[option]
    return definition


def ensure_present(client, params, check_mode):
    wanted = wanted_definition(params)
    current, current_tags = latest_active_revision(client, params["family"])

    differences = task_definition_differences(wanted, current)
    result = dict(changed=False, registered=False, differences=differences)
    result["diff"] = dict(
        before=normalize_task_definition(current) if current else {},
        after=normalize_task_definition(wanted),
    )
    if differences:
        result.update(changed=True, registered=True)
        if check_mode:
            if current:
                # The ARN the registration would produce, so a service task in
                # the same check-mode run reports the roll-out it would do.
                result["revision"] = current["revision"] + 1
                result["task_definition_arn"] = f"{current['taskDefinitionArn'].rsplit(':', 1)[0]}:{result['revision']}"
            return result
        request = dict(wanted)
        if params.get("tags"):
            request["tags"] = dict_to_ecs_tags(params["tags"])
        registered = client.register_task_definition(aws_retry=True, **request)["taskDefinition"]
        result["task_definition_arn"] = registered["taskDefinitionArn"]
        result["revision"] = registered["revision"]
        return result

    result["task_definition_arn"] = current["taskDefinitionArn"]
    result["revision"] = current["revision"]
    if sync_tags(
        client, current["taskDefinitionArn"], current_tags, params.get("tags"), params["purge_tags"], check_mode
    ):
        result["changed"] = True
        result["diff"]["before"]["tags"] = current_tags
        result["diff"]["after"]["tags"] = params["tags"]
    return result


def ensure_absent(client, params, check_mode):
    arns = active_revision_arns(client, params["family"])
    if not check_mode:
        for arn in arns:
            client.deregister_task_definition(aws_retry=True, taskDefinition=arn)
    return dict(
        changed=bool(arns),
        deregistered=arns,
        diff=dict(before=dict(active_revisions=[revision_of(a)[1] for a in arns]), after=dict(active_revisions=[])),
    )


def main():
    argument_spec = ecs_argument_spec(
        family=dict(type="str", required=True),
        container_definitions=dict(type="list", elements="dict"),
        volumes=dict(type="list", elements="dict", default=[]),
        cpu=dict(type="str"),
        memory=dict(type="str"),
        network_mode=dict(type="str", choices=["bridge", "host", "awsvpc", "none"], default="awsvpc"),
        requires_compatibilities=dict(type="list", elements="str", default=["FARGATE"]),
        task_role_arn=dict(type="str"),
        execution_role_arn=dict(type="str"),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        required_if=[("state", "present", ["container_definitions"])],
        supports_check_mode=True,
    )
    run_sync(module, ensure_present, ensure_absent, f"Failed to sync task definition family {module.params['family']}")


if __name__ == "__main__":
    main()
