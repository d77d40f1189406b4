# -*- coding: utf-8 -*-
# Copyright: StreamFlix Platform Engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Shared ECS helpers for the ecs_*_sync modules.

The comparison helpers are pure functions (no AWS calls) so the unit tests can
prove what counts as "the same" task definition or service.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import time

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)

try:  # noqa: SIM105  (the amazon.aws pattern: AnsibleAWSModule reports a missing botocore)
    import botocore
except ImportError:
    pass

# Top-level RegisterTaskDefinition fields that ecs_task_definition_sync
# manages. Everything else DescribeTaskDefinition returns is either computed by
# AWS (arn, revision, status, compatibilities, requiresAttributes,
# registeredAt/By) or a field this module never sets; comparing those could only
# report a difference the module cannot remove, and register forever.
TASK_DEFINITION_FIELDS = (
    "family",
    "taskRoleArn",
    "executionRoleArn",
    "networkMode",
    "containerDefinitions",
    "volumes",
    "requiresCompatibilities",
    "cpu",
    "memory",
)

# Values AWS fills in when a field is left out; an explicit default and an
# omitted field mean the same revision.
DEFAULT_VALUES = {
    "essential": True,
    "readOnly": False,
    "readonlyRootFilesystem": False,
    "privileged": False,
    "disableNetworking": False,
    "interactive": False,
    "pseudoTerminal": False,
    "initProcessEnabled": False,
    "enableFaultInjection": False,
    "configuredAtLaunch": False,
    "protocol": "tcp",
    "versionConsistency": "enabled",
}
# Container-level cpu 0 means "no reservation", which is what AWS stores when
# the field is omitted. (Task-level cpu is a non-zero string, so no clash.)
ZERO_DEFAULT_KEYS = ("cpu",)
# Scalar lists whose order carries no meaning. (command / entryPoint order
# matters and is kept.)
UNORDERED_SCALAR_LISTS = ("requiresCompatibilities", "dnsServers", "dnsSearchDomains", "links", "dockerSecurityOptions")
# Maps whose keys are user data and must not be normalised (env var names,
# log driver options, docker labels).
OPAQUE_MAPS = ("options", "dockerLabels")


def _canonical(value):
    return json.dumps(value, sort_keys=True, default=str)


def _normalize(value, key=None):
    if isinstance(value, dict):
        result = {}
        for k, v in value.items():
            if key in OPAQUE_MAPS:
                result[k] = "" if v is None else str(v)
                continue
            if v is None or v == [] or v == {}:
                continue
            if k in DEFAULT_VALUES and v == DEFAULT_VALUES[k] and type(v) is type(DEFAULT_VALUES[k]):
                continue
            if k in ZERO_DEFAULT_KEYS and not isinstance(v, bool) and v in (0, "0"):
                continue
            nv = _normalize(v, k)
            if nv is None or nv == [] or nv == {}:
                continue
            result[k] = nv
        return result
    if isinstance(value, (list, tuple)):
        items = [_normalize(v, key) for v in value]
        if all(isinstance(i, dict) for i in items):
            return sorted(items, key=_canonical)
        if key in UNORDERED_SCALAR_LISTS:
            return sorted(items, key=_canonical)
        return items
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        # AWS returns task cpu/memory as strings; callers may pass numbers.
        return str(value)
    return value


def normalize_task_definition(definition):
    """The comparable form of a task definition (wanted or described)."""
    picked = dict((k, definition.get(k)) for k in TASK_DEFINITION_FIELDS if k in definition)
    return _normalize(picked)


def task_definition_differences(wanted, current):
    """Top-level fields whose normalised values differ (sorted); [] means same revision."""
    if current is None:
        return ["(no active revision)"]
    a = normalize_task_definition(wanted)
    b = normalize_task_definition(current)
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


def revision_of(arn):
    """`...:task-definition/family:12` -> ("family", 12)."""
    name = arn.rsplit("/", 1)[-1]
    family, _sep, revision = name.rpartition(":")
    return family, int(revision)


def active_revision_arns(client, family):
    """ARNs of the ACTIVE revisions of exactly `family`, oldest first.

    familyPrefix is a prefix match (video-processing-dev also matches
    video-processing-dev2) and moto ignores `sort`, so filter and sort here.
    """
    arns = []
    params = dict(familyPrefix=family, status="ACTIVE")
    while True:
        page = client.list_task_definitions(aws_retry=True, **params)
        arns.extend(page.get("taskDefinitionArns", []))
        if not page.get("nextToken"):
            break
        params["nextToken"] = page["nextToken"]
    mine = [a for a in arns if revision_of(a)[0] == family]
    return sorted(set(mine), key=lambda a: revision_of(a)[1])


def latest_active_revision(client, family):
    """(the latest ACTIVE revision of exactly `family` as DescribeTaskDefinition returns it, its tags).

    (None, {}) when the family has no ACTIVE revision. One call on a family that has
    one: DescribeTaskDefinition with the bare family answers with its latest ACTIVE
    revision, tags included. Only when that fails (no revision at all) or answers
    with an INACTIVE one (the emulator takes the highest revision whatever its
    status) does ListTaskDefinitions say which ACTIVE revision is the latest.
    """
    described = None
    try:
        described = client.describe_task_definition(aws_retry=True, taskDefinition=family, include=["TAGS"])
    except botocore.exceptions.ClientError as e:
        # ECS answers ClientException ("Unable to describe task definition") for an unknown family.
        if e.response.get("Error", {}).get("Code") != "ClientException":
            raise
    if described and described["taskDefinition"].get("status") == "ACTIVE":
        return described["taskDefinition"], ecs_tags_to_dict(described.get("tags"))
    arns = active_revision_arns(client, family)
    if not arns:
        return None, {}
    described = client.describe_task_definition(aws_retry=True, taskDefinition=arns[-1], include=["TAGS"])
    return described["taskDefinition"], ecs_tags_to_dict(described.get("tags"))


def ecs_tags_to_dict(tags):
    return boto3_tag_list_to_ansible_dict(tags or [], "key", "value")


def dict_to_ecs_tags(tags):
    return ansible_dict_to_boto3_tag_list(tags or {}, "key", "value")


def sync_tags(client, arn, current, wanted, purge, check_mode):
    """Make the resource's tags match `wanted`; returns True when something changed."""
    if wanted is None:
        return False
    to_set, to_remove = compare_aws_tags(current or {}, wanted, purge_tags=purge)
    if not to_set and not to_remove:
        return False
    if not check_mode:
        if to_remove:
            client.untag_resource(aws_retry=True, resourceArn=arn, tagKeys=to_remove)
        if to_set:
            client.tag_resource(aws_retry=True, resourceArn=arn, tags=dict_to_ecs_tags(to_set))
    return True


def normalize_service(service):
    """The parts of a service (DescribeServices shape) that ecs_service_sync owns."""
    network = (service.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}
    deployment = service.get("deploymentConfiguration") or {}
    breaker = deployment.get("deploymentCircuitBreaker") or {}
    return {
        "taskDefinition": (service.get("taskDefinition") or "").rsplit("/", 1)[-1],
        "desiredCount": service.get("desiredCount"),
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": sorted(network.get("subnets") or []),
                "securityGroups": sorted(network.get("securityGroups") or []),
                "assignPublicIp": network.get("assignPublicIp", "DISABLED"),
            }
        },
        "deploymentConfiguration": {
            "deploymentCircuitBreaker": {
                "enable": bool(breaker.get("enable", False)),
                "rollback": bool(breaker.get("rollback", False)),
            },
            "maximumPercent": deployment.get("maximumPercent"),
            "minimumHealthyPercent": deployment.get("minimumHealthyPercent"),
        },
        "propagateTags": service.get("propagateTags", "NONE"),
    }


def service_updates(wanted, current):
    """UpdateService arguments for the owned fields that differ ({} when converged)."""
    a = normalize_service(wanted)
    b = normalize_service(current)
    updates = {}
    for key in a:
        if a[key] != b[key]:
            updates[key] = wanted[key]
    return updates


def deployment_state(service):
    """('stable' | 'in_progress' | 'failed', primary deployment) of a described service."""
    deployments = service.get("deployments") or []
    primary = next((d for d in deployments if d.get("status") == "PRIMARY"), None)
    if primary is None:
        return "in_progress", None
    if primary.get("rolloutState") == "FAILED":
        return "failed", primary
    if (
        len(deployments) == 1
        and service.get("runningCount") == service.get("desiredCount")
        and primary.get("rolloutState") in (None, "COMPLETED")
    ):
        return "stable", primary
    return "in_progress", primary


def wait_for(fetch, done, timeout, delay=15, sleep=time.sleep, clock=time.monotonic):
    """Poll fetch() until done(result) is true; returns (result, finished_in_time)."""
    deadline = clock() + timeout
    while True:
        result = fetch()
        if done(result):
            return result, True
        if clock() + delay > deadline:
            return result, False
        sleep(delay)


class SyncFailure(Exception):
    """A state the module cannot reach; run_sync reports it with fail_json (no AWS error to attach)."""


def ecs_argument_spec(**options):
    """The module's own options plus O(state) and the tag options (doc fragment streamflix.video_pipeline.ecs)."""
    return dict(
        options,
        state=dict(type="str", choices=["present", "absent"], default="present"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )


def run_sync(module, ensure_present, ensure_absent, failure_msg, resource_key=None, other_states=None):
    """Run ensure_present, ensure_absent or other_states[state] (by O(state)) with an ECS client and exit.

    SyncFailure becomes fail_json, AWS errors fail_json_aws with failure_msg;
    result[resource_key] (a described resource) is returned in snake_case,
    its tags (user data) as they are.
    """
    client = module.client("ecs", retry_decorator=AWSRetry.jittered_backoff(retries=10))
    ensure = dict(other_states or {}, present=ensure_present, absent=ensure_absent)[module.params["state"]]
    try:
        result = ensure(client, module.params, module.check_mode)
    except SyncFailure as e:
        module.fail_json(msg=str(e))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=failure_msg)
    if resource_key and result.get(resource_key):
        result[resource_key] = camel_dict_to_snake_dict(result[resource_key], ignore_list=["tags"])
    module.exit_json(**result)
