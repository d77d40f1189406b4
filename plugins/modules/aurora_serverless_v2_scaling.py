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
module: aurora_serverless_v2_scaling
short_description: Manage the Serverless v2 scaling (min/max ACU, auto-pause) of an Aurora cluster
version_added: 1.0.0
description:
  - Sets the Aurora Serverless v2 capacity range and the auto-pause delay of an existing Aurora DB cluster.
  - M(amazon.aws.rds_cluster) knows nothing of auto-pause (C(MinCapacity=0) with C(SecondsUntilAutoPause)) and
    compares the whole nested scaling dict, so it reports a change forever once AWS returns an extra key. This
    module compares field by field and calls C(ModifyDBCluster) (with C(ApplyImmediately=true)) only when a
    field differs.
  - Give M(amazon.aws.rds_cluster) the scaling only when it creates the cluster (AWS needs it before a
    C(db.serverless) instance can join) and let this module own it afterwards.
  - Every value is checked against the AWS limits before any AWS call (some emulators accept values AWS refuses).
  - Supports check mode and diff mode.
author:
  - StreamFlix Platform Engineering (@streamflix)
options:
  cluster_identifier:
    description:
      - Identifier of the existing Aurora DB cluster.
    type: str
    required: true
    aliases: [db_cluster_identifier]
  min_capacity:
    description:
      - Minimum capacity in Aurora capacity units (ACU), V(0) to V(256) in steps of V(0.5).
      - V(0) lets the cluster pause when idle (see O(seconds_until_auto_pause)); it needs Aurora PostgreSQL
        13.15, 14.12, 15.7, 16.3 or later, or Aurora MySQL 3.08.0 or later.
      - Left out, the cluster's current minimum is kept.
      - Must not be greater than O(max_capacity).
    type: float
  max_capacity:
    description:
      - Maximum capacity in ACU, V(1) to V(256) in steps of V(0.5).
      - Left out, the cluster's current maximum is kept.
    type: float
  seconds_until_auto_pause:
    description:
      - Idle time in seconds before a cluster with a minimum of 0 ACU pauses, V(300) to V(86400).
      - Allowed only when the (given or current) minimum is V(0). Left out with a minimum of 0, the current value
        is kept (AWS applies 300 s when there is none).
      - When the minimum is above 0 the auto-pause setting is neither sent nor compared.
    type: int
  wait:
    description:
      - Wait until the cluster is C(available) again with the new scaling after a change (real AWS shows
        C(modifying) for about a minute), and wait for a busy cluster to become C(available) before changing it.
      - Nothing is waited for when nothing changes.
    type: bool
    default: true
  wait_timeout:
    description:
      - How long to wait in seconds, in total.
    type: int
    default: 600
notes:
  - A cluster that is not C(aurora-postgresql) or C(aurora-mysql), whose engine mode is not C(provisioned), or
    whose engine version is older than the first Serverless v2 release of its line is refused with a message.
  - The scaling configuration is replaced as a unit by AWS, so a change always sends the minimum and the maximum
    together.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: A dev cluster that pauses after an idle hour
  streamflix.video_pipeline.aurora_serverless_v2_scaling:
    cluster_identifier: video-metadata-cluster-dev
    min_capacity: 0
    max_capacity: 4
    seconds_until_auto_pause: 3600

- name: Production never pauses; raise the ceiling without waiting
  streamflix.video_pipeline.aurora_serverless_v2_scaling:
    cluster_identifier: video-metadata-cluster-prod
    min_capacity: 0.5
    max_capacity: 16
    wait: false

- name: Only raise the maximum, keep the current minimum and auto-pause
  streamflix.video_pipeline.aurora_serverless_v2_scaling:
    cluster_identifier: video-metadata-cluster-dev
    max_capacity: 8
"""

RETURN = r"""
cluster_identifier:
  description: Identifier of the cluster.
  returned: always
  type: str
  sample: video-metadata-cluster-dev
status:
  description: The cluster's status after the change (before it, in check mode).
  returned: always
  type: str
  sample: available
serverless_v2_scaling_configuration:
  description: The scaling in effect after the run (in check mode, the scaling the run would set).
  returned: always
  type: dict
  contains:
    min_capacity:
      description: Minimum ACU.
      type: float
      sample: 0.0
    max_capacity:
      description: Maximum ACU.
      type: float
      sample: 4.0
    seconds_until_auto_pause:
      description: Idle seconds before the cluster pauses; null when the minimum is above 0 or AWS reports none.
      type: int
      sample: 3600
changes:
  description: The fields that differed, each with its value before and after.
  returned: always
  type: dict
  sample: {"max_capacity": {"before": 4.0, "after": 8.0}}
"""

try:
    import botocore
except ImportError:
    pass  # AnsibleAWSModule reports it

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.streamflix.video_pipeline.plugins.module_utils.aurora import (
    build_modify_request,
    compute_changes,
    current_scaling,
    describe_cluster_or_fail,
    serverless_v2_problem,
    validate_scaling,
    wait_for_available,
    wanted_scaling,
)

# Seconds between two describe calls while waiting.
WAIT_DELAY = 10


def main():
    argument_spec = dict(
        cluster_identifier=dict(type="str", required=True, aliases=["db_cluster_identifier"]),
        min_capacity=dict(type="float"),
        max_capacity=dict(type="float"),
        seconds_until_auto_pause=dict(type="int"),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=600),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        required_one_of=[["min_capacity", "max_capacity", "seconds_until_auto_pause"]],
        supports_check_mode=True,
    )
    params = module.params
    cluster_identifier = params["cluster_identifier"]

    # Refuse bad input before any AWS call.
    problems = validate_scaling(params["min_capacity"], params["max_capacity"], params["seconds_until_auto_pause"])
    if params["wait_timeout"] < 0:
        problems.append(f"wait_timeout must be 0 or more seconds, got {params['wait_timeout']}")
    if problems:
        module.fail_json(msg="Invalid Serverless v2 scaling: " + "; ".join(problems) + ".")

    client = module.client("rds", retry_decorator=AWSRetry.jittered_backoff(retries=10))

    cluster = describe_cluster_or_fail(module, client, cluster_identifier)
    if cluster is None:
        module.fail_json(
            msg=(
                f"DB cluster {cluster_identifier} not found (DBClusterNotFoundFault): create it first, "
                "e.g. with amazon.aws.rds_cluster and an initial serverless_v2_scaling_configuration"
            ),
            cluster_identifier=cluster_identifier,
        )

    current = current_scaling(cluster)
    wanted = wanted_scaling(current, params["min_capacity"], params["max_capacity"], params["seconds_until_auto_pause"])
    if wanted["min_capacity"] is None or wanted["max_capacity"] is None:
        module.fail_json(
            msg=(
                f"DB cluster {cluster_identifier} has no Serverless v2 scaling yet: give both min_capacity "
                "and max_capacity"
            ),
            cluster_identifier=cluster_identifier,
        )
    # The merged values (a given max against the current min, auto-pause
    # against the current min) obey the same rules as the given ones.
    problems = validate_scaling(wanted["min_capacity"], wanted["max_capacity"], params["seconds_until_auto_pause"])
    if problems:
        module.fail_json(
            msg=f"Invalid Serverless v2 scaling for {cluster_identifier} (with its current values): "
            + "; ".join(problems)
            + ".",
            cluster_identifier=cluster_identifier,
        )
    problem = serverless_v2_problem(cluster, wants_auto_pause=wanted["min_capacity"] == 0)
    if problem:
        module.fail_json(msg=problem[0].upper() + problem[1:] + ".", cluster_identifier=cluster_identifier)

    changes = compute_changes(current, wanted)
    result_cluster = cluster
    if changes and not module.check_mode:
        if params["wait"] and cluster.get("Status") != "available":
            # AWS refuses ModifyDBCluster while the cluster is busy.
            wait_for_available(module, client, cluster_identifier, params["wait_timeout"], WAIT_DELAY)
        try:
            response = client.modify_db_cluster(aws_retry=True, **build_modify_request(cluster_identifier, wanted))
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
            module.fail_json_aws(e, msg=f"Failed to modify the Serverless v2 scaling of {cluster_identifier}")
        result_cluster = response.get("DBCluster", cluster)
        if params["wait"]:
            result_cluster = wait_for_available(
                module, client, cluster_identifier, params["wait_timeout"], WAIT_DELAY, wanted=wanted
            )
        else:
            result_cluster = describe_cluster_or_fail(module, client, cluster_identifier) or result_cluster

    if module.check_mode:
        after = dict(current, **{k: v["after"] for k, v in changes.items()})
    else:
        after = current_scaling(result_cluster)
    result = dict(
        changed=bool(changes),
        cluster_identifier=cluster_identifier,
        status=result_cluster.get("Status"),
        serverless_v2_scaling_configuration=after,
        changes=changes,
    )
    if module._diff:
        # Unchanged fields stay as AWS reports them, so an unchanged run shows no diff.
        result["diff"] = {"before": current, "after": dict(current, **{k: v["after"] for k, v in changes.items()})}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
