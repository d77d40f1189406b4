#!/usr/bin/python
# -*- coding: utf-8 -*-

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: tagged_resources_info
short_description: List every AWS resource of one video pipeline environment
version_added: 1.0.0
description:
  - Lists the resources of one environment of the video processing pipeline in the
    region, that is everything the Resource Groups Tagging API finds tagged
    C(Environment=<environment>) and C(Project=<project>), plus direct lookups of every
    resource named in the pipeline's specification.
  - The direct lookups cover what the tagging API does not index (IAM roles are global;
    the local emulator's tagging API also misses Kinesis streams, DB subnet groups and
    dashboards) and are the authority for what they cover, because the tagging index on
    AWS lags deletions by minutes.
  - EC2 resources (VPC, subnets, internet gateway, route tables, security groups, NAT
    gateways, flow logs) are found by tag filter; flow logs also by their log group.
    Everything else is found by its specification name (KMS alias
    C(alias/video-processing-<env>), stream, queue, topic, Aurora cluster, instances and
    subnet group, the two secrets, the four IAM roles, ECS cluster, service and task
    definition family, the two log groups, alarms named C(video-processing-*-<env>), the
    dashboard).
  - It also lists the log groups that AWS creates for the pipeline without tags and does
    not delete with their owner, Aurora's C(/aws/rds/cluster/<cluster>/postgresql) log
    export and ECS Container Insights' C(/aws/ecs/containerinsights/<cluster>/*).
  - Used by the teardown playbook to prove that nothing is left, and by the deploy
    playbook to summarize what exists. Read-only; it runs unchanged in check mode.
author:
  - StreamFlix Platform Engineering (@streamflix)
options:
  environment:
    description:
      - The environment name (the C(env) the playbooks were run with).
      - Must match C(^[a-z][a-z0-9-]{1,15}$).
    type: str
    required: true
  project:
    description:
      - Value of the C(Project) tag that the tagging API and the EC2 filters match.
      - Lookups by specification name do not check this tag.
    type: str
    default: video-processing
notes:
  - Excluded from O(environment)'s resources by design, and returned separately so that
    a sweep does not count them as leftovers. RV(retained) holds manual and final Aurora
    snapshots (kept on purpose, prod takes one on teardown) and inactive ECS task
    definition revisions (ECS keeps them). RV(pending_deletion) holds KMS keys pending
    deletion, secrets in their recovery window, and streams, DB clusters, DB instances,
    NAT gateways and ECS services that AWS is already deleting.
  - Tagging API entries that a direct lookup no longer finds are returned in RV(stale),
    not in RV(resources).
  - Lookups by name do not verify the C(Project) tag; alarms whose name fits
    C(video-processing-*-<env>) but that are tagged for another environment are skipped.
  - Makes about 35 read-only API calls (one per lookup, more when results are paginated).
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: List what the dev environment holds
  streamflix.video_pipeline.tagged_resources_info:
    environment: dev
  register: dev_resources

- name: Look for leftovers of pr-123 after its teardown
  streamflix.video_pipeline.tagged_resources_info:
    environment: pr-123
  register: leftovers

- name: Fail when anything of pr-123 is left
  ansible.builtin.assert:
    that: leftovers.count == 0
    fail_msg: "Left behind: {{ leftovers.resources | map(attribute='arn') | join(', ') }}"

- name: Show the stream ARN
  ansible.builtin.debug:
    msg: "{{ dev_resources.resources | selectattr('type', 'eq', 'kinesis:stream') | map(attribute='arn') | first }}"
"""

RETURN = r"""
resources:
  description:
    - The resources of the environment, deduplicated and sorted by type and id.
    - Resources found by a direct lookup carry extra keys where useful (C(url) for the
      queue; C(endpoint), C(reader_endpoint), C(master_user_secret_arn) for the cluster).
  returned: always
  type: list
  elements: dict
  contains:
    arn:
      description: The resource's ARN.
      type: str
      sample: arn:aws:ec2:us-east-1:123456789012:vpc/vpc-0abc
    id:
      description: The part of the ARN that names the resource within its type.
      type: str
      sample: vpc-0abc
    type:
      description: C(<service>:<resource type>) as the tagging API spells it.
      type: str
      sample: ec2:vpc
    name:
      description: The C(Name) tag or the specification name, else the id.
      type: str
      sample: video-processing-vpc-dev
    source:
      description: Who found it, C(tagging_api), C(lookup) or C(both).
      type: str
      sample: both
  sample:
    - arn: arn:aws:kinesis:us-east-1:123456789012:stream/video-ingestion-stream-dev
      id: video-ingestion-stream-dev
      type: kinesis:stream
      name: video-ingestion-stream-dev
      source: lookup
count:
  description: Number of entries in RV(resources).
  returned: always
  type: int
  sample: 31
retained:
  description: Resources kept on purpose (same keys as RV(resources) plus C(reason)).
  returned: always
  type: list
  elements: dict
  sample:
    - arn: arn:aws:rds:us-east-1:123456789012:cluster-snapshot:video-metadata-cluster-prod-final
      id: video-metadata-cluster-prod-final
      type: rds:cluster-snapshot
      name: video-metadata-cluster-prod-final
      source: lookup
      reason: DB cluster snapshot kept on purpose
pending_deletion:
  description: Resources AWS is already removing (same keys as RV(resources) plus C(reason)).
  returned: always
  type: list
  elements: dict
  sample:
    - arn: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
      id: 1234abcd-12ab-34cd-56ef-1234567890ab
      type: kms:key
      name: alias/video-processing-dev
      source: both
      reason: KMS key scheduled for deletion on 2026-12-03 09:44:25+00:00
stale:
  description: Tagging API entries that a direct lookup no longer finds (recently deleted).
  returned: always
  type: list
  elements: dict
  sample: []
"""

import re  # noqa: E402 - the documentation comes first in Ansible modules

try:
    import botocore
except ImportError:
    botocore = None  # AnsibleAWSModule reports the missing dependency

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule  # noqa: E402
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry  # noqa: E402
from ansible_collections.streamflix.video_pipeline.plugins.module_utils.tagged_resources import (  # noqa: E402
    Collector,
)

ENV_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,15}$")


def main():
    argument_spec = dict(
        environment=dict(type="str", required=True),
        project=dict(type="str", default="video-processing"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    env = module.params["environment"]
    if not ENV_PATTERN.match(env):
        module.fail_json(
            msg="environment={0!r} is not a valid environment name: it must match ^[a-z][a-z0-9-]{{1,15}}$".format(env)
        )
    if not module.params["project"]:
        module.fail_json(msg="project must not be empty (the pipeline tags its resources Project=video-processing)")

    retry = AWSRetry.jittered_backoff(retries=10)
    clients = {}

    def client(service):
        if service not in clients:
            clients[service] = module.client(service, retry_decorator=retry)
        return clients[service]

    try:
        identity = client("sts").get_caller_identity(aws_retry=True)
        partition = identity["Arn"].split(":")[1]
        collector = Collector(client, env, module.params["project"], module.region, partition, identity["Account"])
        result = collector.collect()
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        module.fail_json_aws(error, msg="Could not list the resources of environment {0}".format(env))

    module.exit_json(changed=False, environment=env, **result)


if __name__ == "__main__":
    main()
