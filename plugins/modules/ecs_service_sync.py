#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: StreamFlix Platform Engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: ecs_service_sync
short_description: Keep an awsvpc ECS service's task definition, size, network and deployment settings in line
version_added: 1.0.0
description:
  - Creates, updates or deletes an ECS service that runs in C(awsvpc) mode.
  - Unlike M(community.aws.ecs_service) it compares and updates the network configuration and
    the deployment configuration (circuit breaker, percentages), sends only what differs, and
    can wait for the deployment to finish (failing when the circuit breaker rolled it back).
  - Some endpoints drop C(deploymentConfiguration) given to C(CreateService); the module reads
    the service back after creating it and applies the configuration with C(UpdateService) when
    it is missing, so the next run finds nothing to change.
  - With O(state=absent) the service is scaled to 0, deleted, and (with O(wait)) waited for until
    it is C(INACTIVE).
  - With O(state=steady) nothing is changed; the module waits until the service's deployment is
    complete, so a playbook can start a deployment (O(state=present), O(wait=false)), do other work,
    and wait for it later.
options:
  name:
    description: Service name.
    type: str
    required: true
  cluster:
    description: Cluster name or ARN.
    type: str
    required: true
  state:
    description:
      - Whether the service should exist (C(present), C(absent)), or, with C(steady), only wait until
        its deployment is complete (one deployment, running = desired) without changing anything.
      - C(steady) fails when the service does not exist, when its deployment failed, when the circuit
        breaker rolled it back from O(task_definition) (if given), or after O(wait_timeout).
    type: str
    choices: [present, absent, steady]
    default: present
  task_definition:
    description:
      - Task definition ARN or C(family:revision). Required with O(state=present).
      - With O(state=steady), the revision the deployment must end on (optional).
    type: str
  desired_count:
    description: Number of tasks to keep running.
    type: int
    default: 1
  launch_type:
    description: Launch type (set at creation; a different one needs a new service).
    type: str
    choices: [FARGATE, EC2, EXTERNAL]
    default: FARGATE
  subnets:
    description: Subnet IDs of the tasks' network interfaces. Required with O(state=present).
    type: list
    elements: str
  security_groups:
    description: Security group IDs of the tasks' network interfaces. Required with O(state=present).
    type: list
    elements: str
  assign_public_ip:
    description: Give each task a public IP (needed in public subnets without a NAT gateway).
    type: bool
    default: false
  circuit_breaker:
    description: Enable the deployment circuit breaker.
    type: bool
    default: true
  circuit_breaker_rollback:
    description: Roll back to the last good deployment when the circuit breaker trips.
    type: bool
    default: true
  maximum_percent:
    description: Upper limit of running tasks during a deployment, in percent of O(desired_count).
    type: int
    default: 200
  minimum_healthy_percent:
    description: Lower limit of healthy tasks during a deployment, in percent of O(desired_count).
    type: int
    default: 100
  propagate_tags:
    description: Copy the service's (or the task definition's) tags to its tasks.
    type: str
    choices: [SERVICE, TASK_DEFINITION, NONE]
    default: SERVICE
  wait:
    description:
      - After a change, wait until the deployment is complete (one deployment, running = desired),
        or, with O(state=absent), until the service is C(INACTIVE).
      - Fails when the deployment failed or was rolled back to another task definition.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait.
    type: int
    default: 900
  wait_delay:
    description: Seconds between two checks while waiting.
    type: int
    default: 15
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - streamflix.video_pipeline.ecs
author:
  - StreamFlix Platform Engineering (@streamflix)
"""

EXAMPLES = r"""
- name: Worker service in the public subnets
  streamflix.video_pipeline.ecs_service_sync:
    name: video-processing-service-dev
    cluster: video-processing-cluster-dev
    task_definition: arn:aws:ecs:us-east-1:123456789012:task-definition/video-processing-dev:3
    desired_count: 1
    subnets: [subnet-0123, subnet-4567]
    security_groups: [sg-0123]
    assign_public_ip: true
    tags:
      Environment: dev

- name: Later in the play, wait until that deployment is complete (changes nothing)
  streamflix.video_pipeline.ecs_service_sync:
    name: video-processing-service-dev
    cluster: video-processing-cluster-dev
    task_definition: arn:aws:ecs:us-east-1:123456789012:task-definition/video-processing-dev:3
    state: steady
    wait_delay: 10

- name: Scale to 0 and delete
  streamflix.video_pipeline.ecs_service_sync:
    name: video-processing-service-dev
    cluster: video-processing-cluster-dev
    state: absent
"""

RETURN = r"""
service:
  description: The service as DescribeServices returns it (snake_case), after the change.
  returned: when the service exists
  type: dict
updates:
  description: Names of the settings that were (or would be) sent to UpdateService.
  returned: state=present
  type: list
  elements: str
  sample: [task_definition, desired_count]
created:
  description: Whether the service was (or would be) created.
  returned: state=present
  type: bool
"""

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict  # noqa: E402  (DOCUMENTATION comes first)
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule  # noqa: E402  (DOCUMENTATION comes first)
from ansible_collections.streamflix.video_pipeline.plugins.module_utils.ecs import (  # noqa: E402  (DOCUMENTATION comes first)
    SyncFailure,
    deployment_state,
    dict_to_ecs_tags,
    ecs_argument_spec,
    ecs_tags_to_dict,
    normalize_service,
    run_sync,
    service_updates,
    sync_tags,
    wait_for,
)

try:  # noqa: SIM105  (the amazon.aws pattern: AnsibleAWSModule reports a missing botocore)
    import botocore
except ImportError:
    pass


class ServiceFailure(SyncFailure):
    pass


def wanted_service(params):
    """The owned settings in DescribeServices shape."""
    return {
        "taskDefinition": params["task_definition"],
        "desiredCount": params["desired_count"],
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": list(params["subnets"]),
                "securityGroups": list(params["security_groups"]),
                "assignPublicIp": "ENABLED" if params["assign_public_ip"] else "DISABLED",
            }
        },
        "deploymentConfiguration": {
            "deploymentCircuitBreaker": {
                "enable": params["circuit_breaker"],
                "rollback": params["circuit_breaker_rollback"],
            },
            "maximumPercent": params["maximum_percent"],
            "minimumHealthyPercent": params["minimum_healthy_percent"],
        },
        "propagateTags": params["propagate_tags"],
    }


def describe(client, cluster, name):
    """The service, or None when it does not exist or is INACTIVE."""
    try:
        found = client.describe_services(aws_retry=True, cluster=cluster, services=[name], include=["TAGS"])
    except botocore.exceptions.ClientError as e:
        if e.response.get("Error", {}).get("Code") == "ClusterNotFoundException":
            return None
        raise
    services = [s for s in found.get("services", []) if s.get("status") != "INACTIVE"]
    return services[0] if services else None


def wait_stable(client, params, wanted_task_definition, what="disappeared while waiting for its deployment"):
    def fetch():
        return describe(client, params["cluster"], params["name"])

    def done(service):
        return service is None or deployment_state(service)[0] != "in_progress"

    service, in_time = wait_for(fetch, done, params["wait_timeout"], params["wait_delay"])
    if service is None:
        raise ServiceFailure(f"Service {params['name']} {what}")
    state, primary = deployment_state(service)
    if not in_time:
        raise ServiceFailure(
            f"Service {params['name']} did not reach a steady state within {params['wait_timeout']} s "
            f"(running {service.get('runningCount')} of {service.get('desiredCount')})"
        )
    if state == "failed":
        raise ServiceFailure(
            f"Deployment of {params['name']} failed: {primary.get('rolloutStateReason', 'no reason given')}"
        )
    if wanted_task_definition and (
        primary["taskDefinition"].rsplit("/", 1)[-1] != wanted_task_definition.rsplit("/", 1)[-1]
    ):
        raise ServiceFailure(
            f"The circuit breaker rolled {params['name']} back to {primary['taskDefinition']}: "
            f"{wanted_task_definition} did not start (see the service events and the task logs)"
        )
    return service


def ensure_present(client, params, check_mode):
    wanted = wanted_service(params)
    current = describe(client, params["cluster"], params["name"])
    result = dict(changed=False, created=False, updates=[])

    if current is None:
        result.update(changed=True, created=True, diff=dict(before={}, after=normalize_service(wanted)))
        if check_mode:
            return result
        request = dict(
            cluster=params["cluster"],
            serviceName=params["name"],
            taskDefinition=wanted["taskDefinition"],
            desiredCount=wanted["desiredCount"],
            launchType=params["launch_type"],
            networkConfiguration=wanted["networkConfiguration"],
            deploymentConfiguration=wanted["deploymentConfiguration"],
            propagateTags=wanted["propagateTags"],
        )
        if params.get("tags"):
            request["tags"] = dict_to_ecs_tags(params["tags"])
        current = client.create_service(aws_retry=True, **request)["service"]
        # Some endpoints drop deploymentConfiguration on create: apply what is missing now.
        leftover = service_updates(wanted, current)
        if "deploymentConfiguration" in leftover:
            current = client.update_service(
                aws_retry=True,
                cluster=params["cluster"],
                service=params["name"],
                deploymentConfiguration=wanted["deploymentConfiguration"],
            )["service"]
        if params["wait"]:
            current = wait_stable(client, params, wanted["taskDefinition"])
        result["service"] = current
        return result

    if current.get("launchType", params["launch_type"]) != params["launch_type"]:
        raise ServiceFailure(
            f"Service {params['name']} runs with launch type {current.get('launchType')}; "
            f"{params['launch_type']} needs a new service (delete it first)"
        )
    updates = service_updates(wanted, current)
    result["updates"] = sorted(camel_dict_to_snake_dict({k: 1 for k in updates}).keys())
    result["diff"] = dict(before=normalize_service(current), after=normalize_service(wanted))
    tags_changed = sync_tags(
        client,
        current["serviceArn"],
        ecs_tags_to_dict(current.get("tags")),
        params.get("tags"),
        params["purge_tags"],
        check_mode,
    )
    if tags_changed:
        result["diff"]["before"]["tags"] = ecs_tags_to_dict(current.get("tags"))
        result["diff"]["after"]["tags"] = params.get("tags")
    result["changed"] = bool(updates) or tags_changed
    if updates and not check_mode:
        current = client.update_service(aws_retry=True, cluster=params["cluster"], service=params["name"], **updates)[
            "service"
        ]
        # A new task definition, network or size starts a deployment worth waiting for.
        if params["wait"] and set(updates) & {"taskDefinition", "networkConfiguration", "desiredCount"}:
            current = wait_stable(client, params, wanted["taskDefinition"])
    result["service"] = current
    return result


def ensure_absent(client, params, check_mode):
    current = describe(client, params["cluster"], params["name"])
    if current is None:
        return dict(changed=False)
    result = dict(changed=True, diff=dict(before=dict(status=current.get("status")), after=dict(status="INACTIVE")))
    if check_mode or current.get("status") == "DRAINING":
        # DRAINING: a delete is already on its way; only wait for it.
        result["changed"] = current.get("status") != "DRAINING"
        if check_mode:
            return result
    else:
        if current.get("desiredCount", 0) > 0:
            client.update_service(aws_retry=True, cluster=params["cluster"], service=params["name"], desiredCount=0)
        client.delete_service(aws_retry=True, cluster=params["cluster"], service=params["name"], force=True)
    if params["wait"]:
        _service, in_time = wait_for(
            lambda: describe(client, params["cluster"], params["name"]),
            lambda s: s is None,
            params["wait_timeout"],
            params["wait_delay"],
        )
        if not in_time:
            raise ServiceFailure(f"Service {params['name']} was not INACTIVE after {params['wait_timeout']} s")
    return result


def ensure_steady(client, params, check_mode):
    """Change nothing; wait until the deployment under way (if any) is complete."""
    service = wait_stable(client, params, params.get("task_definition"), what="does not exist")
    return dict(changed=False, service=service)


def main():
    argument_spec = ecs_argument_spec(
        name=dict(type="str", required=True),
        cluster=dict(type="str", required=True),
        task_definition=dict(type="str"),
        desired_count=dict(type="int", default=1),
        launch_type=dict(type="str", choices=["FARGATE", "EC2", "EXTERNAL"], default="FARGATE"),
        subnets=dict(type="list", elements="str"),
        security_groups=dict(type="list", elements="str"),
        assign_public_ip=dict(type="bool", default=False),
        circuit_breaker=dict(type="bool", default=True),
        circuit_breaker_rollback=dict(type="bool", default=True),
        maximum_percent=dict(type="int", default=200),
        minimum_healthy_percent=dict(type="int", default=100),
        propagate_tags=dict(type="str", choices=["SERVICE", "TASK_DEFINITION", "NONE"], default="SERVICE"),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=900),
        wait_delay=dict(type="int", default=15),
    )
    argument_spec["state"] = dict(type="str", choices=["present", "absent", "steady"], default="present")
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        required_if=[("state", "present", ["task_definition", "subnets", "security_groups"])],
        supports_check_mode=True,
    )
    if module.params["desired_count"] < 0:
        module.fail_json(msg=f"desired_count must be 0 or more (got {module.params['desired_count']})")
    if module.params["state"] == "present" and not module.params["subnets"]:
        module.fail_json(msg="subnets needs at least one subnet ID")
    run_sync(
        module,
        ensure_present,
        ensure_absent,
        f"Failed to sync ECS service {module.params['name']}",
        "service",
        other_states=dict(steady=ensure_steady),
    )


if __name__ == "__main__":
    main()
