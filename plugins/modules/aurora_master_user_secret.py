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
module: aurora_master_user_secret
short_description: Let RDS manage an Aurora cluster's master password in Secrets Manager, encrypted with a given key
version_added: 1.0.0
description:
  - Turns on C(ManageMasterUserPassword) for an existing Aurora DB cluster, with the master user secret encrypted by
    the given KMS key. RDS then generates the password, keeps it only in its own secret and rotates it (every 7 days).
  - M(amazon.aws.rds_cluster) (amazon.aws 10.1.2) has no C(manage_master_user_password) option, so a cluster made by
    it starts with a one-time password that this module replaces with the managed secret on the first run.
  - Does nothing when the password is already managed with that key, and fails clearly when it is managed with another
    key (AWS cannot re-encrypt an existing managed secret).
  - Supports check mode and diff mode.
author:
  - StreamFlix Platform Engineering (@streamflix)
options:
  cluster_identifier:
    description: Identifier of the existing Aurora DB cluster.
    type: str
    required: true
    aliases: [db_cluster_identifier]
  kms_key_id:
    description:
      - ARN or id of the customer managed KMS key that encrypts the master user secret.
      - Left out, AWS uses the C(aws/secretsmanager) key.
    type: str
  wait:
    description: Wait until the cluster is C(available) again after turning management on.
    type: bool
    default: true
  wait_timeout:
    description: How long to wait in seconds.
    type: int
    default: 600
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: RDS owns the master password, encrypted with the pipeline key
  streamflix.video_pipeline.aurora_master_user_secret:
    cluster_identifier: video-metadata-cluster-dev
    kms_key_id: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
"""

RETURN = r"""
cluster_identifier:
  description: Identifier of the cluster.
  returned: always
  type: str
  sample: video-metadata-cluster-dev
master_user_secret:
  description: The managed secret (in check mode before it exists, null values).
  returned: always
  type: dict
  contains:
    secret_arn:
      description: ARN of the secret RDS manages (its value is never returned).
      type: str
      sample: arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-1234-AbCdEf
    secret_status:
      description: C(creating), C(active), C(rotating) or C(impaired).
      type: str
      sample: active
    kms_key_id:
      description: The key that encrypts the secret.
      type: str
      sample: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
"""

try:
    import botocore
except ImportError:
    pass  # AnsibleAWSModule reports it

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.streamflix.video_pipeline.plugins.module_utils.aurora import (
    describe_cluster_or_fail,
    master_secret_plan,
    master_secret_result,
    wait_for_available,
)

WAIT_DELAY = 10


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            cluster_identifier=dict(type="str", required=True, aliases=["db_cluster_identifier"]),
            kms_key_id=dict(type="str"),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=600),
        ),
        supports_check_mode=True,
    )
    cluster_identifier = module.params["cluster_identifier"]
    kms_key_id = module.params["kms_key_id"]
    client = module.client("rds", retry_decorator=AWSRetry.jittered_backoff(retries=10))

    cluster = describe_cluster_or_fail(module, client, cluster_identifier)
    if cluster is None:
        module.fail_json(msg=f"DB cluster {cluster_identifier} not found (DBClusterNotFoundFault)")

    action, problem = master_secret_plan(cluster, kms_key_id)
    if action == "fail":
        module.fail_json(msg=problem[0].upper() + problem[1:] + ".", cluster_identifier=cluster_identifier)

    before = master_secret_result(cluster)
    result_cluster = cluster
    if action == "enable" and not module.check_mode:
        request = dict(DBClusterIdentifier=cluster_identifier, ManageMasterUserPassword=True, ApplyImmediately=True)
        if kms_key_id:
            request["MasterUserSecretKmsKeyId"] = kms_key_id
        if module.params["wait"] and cluster.get("Status") != "available":
            wait_for_available(module, client, cluster_identifier, module.params["wait_timeout"], WAIT_DELAY)
        try:
            result_cluster = client.modify_db_cluster(aws_retry=True, **request).get("DBCluster", cluster)
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
            module.fail_json_aws(e, msg=f"Failed to turn on the managed master password of {cluster_identifier}")
        if module.params["wait"]:
            result_cluster = wait_for_available(
                module, client, cluster_identifier, module.params["wait_timeout"], WAIT_DELAY
            )

    after = master_secret_result(result_cluster)
    if action == "enable" and module.check_mode:
        after = dict(before, kms_key_id=kms_key_id)
    result = dict(changed=action == "enable", cluster_identifier=cluster_identifier, master_user_secret=after)
    if module._diff:
        result["diff"] = {
            "before": {"managed": before["secret_arn"] is not None, **before},
            "after": {"managed": True, **after},
        }
    module.exit_json(**result)


if __name__ == "__main__":
    main()
