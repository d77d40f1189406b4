#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: StreamFlix Platform Engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Ansible's module layout puts DOCUMENTATION/EXAMPLES/RETURN before the imports.
# ruff: noqa: E402

DOCUMENTATION = r"""
---
module: aurora_instances_sync
short_description: The DB instances of an Aurora cluster, as an ordered list (writer first)
version_added: 1.1.0
description:
  - Converges the instances of an Aurora DB cluster in one process, from one C(DescribeDBInstances) filtered on the
    cluster (tags included).
  - Instance number 0 of O(instance_identifiers) is the writer (created first, promotion tier 0, in the first zone of
    O(availability_zones)); the others are readers in the following zones in turn, with promotion tiers 1, 2, ...
  - Missing instances are created with every setting in one C(CreateDBInstance) call each, all at once and without
    waiting for them unless O(wait) is set. AWS adds an instance only to an C(available) cluster, so a cluster that
    is still being created or changed is waited for first.
  - Existing instances get one C(ModifyDBInstance) (applied immediately) with only the settings that differ; tags
    are compared with the description's tags. The zone of an existing instance is never changed.
  - Instances of the cluster that are not in the list are deleted (without waiting unless O(wait) is set).
  - With O(state=absent) every instance of the cluster is deleted at once.
  - Supports check mode and diff mode.
author:
  - StreamFlix Platform Engineering (@streamflix)
options:
  cluster_identifier:
    description: The Aurora DB cluster.
    type: str
    required: true
    aliases: [db_cluster_identifier]
  state:
    description: Whether the listed instances should exist (V(present)), or no instance of the cluster (V(absent)).
    type: str
    choices: [present, absent]
    default: present
  instance_identifiers:
    description: The instances, the writer first; needed with O(state=present). At most 15.
    type: list
    elements: str
    default: []
  availability_zones:
    description: Zones the instances are placed in, in turn (instance I(i) in zone I(i) modulo their number).
    type: list
    elements: str
    default: []
  engine:
    description: The cluster's engine.
    type: str
    choices: [aurora-postgresql, aurora-mysql]
    default: aurora-postgresql
  instance_class:
    description: Instance class.
    type: str
    default: db.serverless
  publicly_accessible:
    description: Whether the instances get a public address.
    type: bool
    default: false
  monitoring_interval:
    description: Enhanced monitoring interval in seconds; V(0) turns it off.
    type: int
    choices: [0, 1, 5, 10, 15, 30, 60]
    default: 0
  monitoring_role_arn:
    description: Role RDS assumes to publish enhanced monitoring metrics; needed when O(monitoring_interval) is set.
    type: str
  performance_insights:
    description:
      - Performance Insights on every instance.
      - Compared on an existing instance only when it reports its Performance Insights state (AWS always does).
    type: bool
    default: false
  performance_insights_kms_key_id:
    description: KMS key that encrypts the Performance Insights data (only when it is turned on).
    type: str
  performance_insights_retention_period:
    description: Days of Performance Insights data kept, V(7) or a multiple of V(31) up to V(731).
    type: int
    default: 7
  tags:
    description: Tags of every instance; each also gets C(Name) = its identifier.
    type: dict
    aliases: [resource_tags]
  purge_tags:
    description: Remove tags that are not in O(tags).
    type: bool
    default: true
  wait:
    description:
      - With O(state=present), wait until every listed instance, then the cluster, are C(available) (a cluster
        changed just before, e.g. its scaling, is C(modifying) meanwhile).
      - With O(state=absent), wait until no instance of the cluster is left.
    type: bool
    default: false
  poll_interval:
    description: Seconds between two describe calls while waiting.
    type: int
    default: 15
  wait_timeout:
    description: Longest wait in seconds (for the cluster before creating instances, and for O(wait)).
    type: int
    default: 1800
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Writer in the first zone, a reader in the second, with enhanced monitoring and Performance Insights
  streamflix.video_pipeline.aurora_instances_sync:
    cluster_identifier: video-metadata-cluster-prod
    instance_identifiers: [video-metadata-instance-1-prod, video-metadata-instance-2-prod]
    availability_zones: [us-east-1a, us-east-1b]
    monitoring_interval: 60
    monitoring_role_arn: arn:aws:iam::123456789012:role/video-metadata-monitoring-role-prod
    performance_insights: true
    performance_insights_kms_key_id: "{{ key_arn }}"
    tags: {Environment: prod}

- name: Delete every instance of the cluster and wait until they are gone
  streamflix.video_pipeline.aurora_instances_sync:
    cluster_identifier: video-metadata-cluster-prod
    state: absent
    wait: true
    poll_interval: 15
"""

RETURN = r"""
instances:
  description:
    - The listed instances in order, each with its managed settings after the run (in check mode, what the run would
      set) and its status (C(creating) for a new one, empty in check mode).
  returned: always
  type: list
  elements: dict
  sample:
    - db_instance_identifier: video-metadata-instance-1-dev
      db_instance_class: db.serverless
      availability_zone: us-east-1a
      promotion_tier: 0
      publicly_accessible: false
      monitoring_interval: 0
      performance_insights_enabled: false
      status: creating
      tags: {Name: video-metadata-instance-1-dev}
created:
  description: Identifiers of the instances created.
  returned: always
  type: list
  elements: str
deleted:
  description: Identifiers of the instances deleted (not listed, or all with O(state=absent)).
  returned: always
  type: list
  elements: str
changes:
  description: Per existing instance, the settings that differed, before and after.
  returned: always
  type: dict
  sample: {video-metadata-instance-1-dev: {promotion_tier: {before: 1, after: 0}}}
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.streamflix.video_pipeline.plugins.module_utils.aurora import (
    apply_tags,
    describe_cluster,
    describe_cluster_instances,
    instance_changes,
    instance_create_request,
    instance_modify_request,
    instance_settings,
    pi_retention_problem,
    poll,
    tag_changes,
    wait_for_cluster,
    wanted_instance,
)
from ansible_collections.streamflix.video_pipeline.plugins.module_utils.errors import AWS_ERRORS

MAX_INSTANCES = 15
# Statuses that end with the instance gone; it is neither modified nor deleted again.
LEAVING = ("deleting",)


def validate(params):
    """Problems with the input, found before any AWS call."""
    problems = []
    ids = params["instance_identifiers"]
    if params["state"] == "present":
        if not ids:
            problems.append("instance_identifiers must name at least one instance (the writer)")
        if len(ids) > MAX_INSTANCES:
            problems.append(f"an Aurora cluster holds at most {MAX_INSTANCES} instances, got {len(ids)}")
        if len(set(ids)) != len(ids):
            problems.append("instance_identifiers must not repeat a name")
    if params["monitoring_interval"] and not params["monitoring_role_arn"]:
        problems.append("monitoring_role_arn is needed when monitoring_interval is above 0")
    if params["performance_insights"]:
        problem = pi_retention_problem(params["performance_insights_retention_period"])
        if problem:
            problems.append(problem)
    if params["poll_interval"] < 1:
        problems.append(f"poll_interval must be 1 or more seconds, got {params['poll_interval']}")
    if params["wait_timeout"] < 0:
        problems.append(f"wait_timeout must be 0 or more seconds, got {params['wait_timeout']}")
    return problems


class InstancesSync:
    """One run of the module: one batched read, writes only what differs."""

    def __init__(self, module, client):
        self.module = module
        self.client = client
        self.params = module.params
        self.cluster = self.params["cluster_identifier"]
        self.changed = False
        self.created, self.deleted, self.changes = [], [], {}
        self.diff = {"before": {}, "after": {}}

    def call(self, doing, method, **kwargs):
        """One write, unless in check mode (then it only counts as a change)."""
        self.changed = True
        if self.module.check_mode:
            return {}
        try:
            return getattr(self.client, method)(aws_retry=True, **kwargs)
        except AWS_ERRORS as e:
            self.module.fail_json_aws(e, msg=f"Failed to {doing}")

    def read(self):
        try:
            return describe_cluster_instances(self.client, self.cluster)
        except AWS_ERRORS as e:
            self.module.fail_json_aws(e, msg=f"Failed to describe the instances of DB cluster {self.cluster}")

    def wait_instances(self, settled, what):
        params = self.params
        return poll(
            self.module,
            lambda: describe_cluster_instances(self.client, self.cluster),
            settled,
            params["wait_timeout"],
            params["poll_interval"],
            what,
        )

    def cluster_ready_for_instances(self):
        """AWS adds an instance only to an available cluster: wait for one that is being created or changed."""
        try:
            cluster = describe_cluster(self.client, self.cluster)
        except AWS_ERRORS as e:
            self.module.fail_json_aws(e, msg=f"Failed to describe DB cluster {self.cluster}")
        if cluster is None:
            self.module.fail_json(msg=f"DB cluster {self.cluster} does not exist: create it before its instances")
        if cluster.get("Status") != "available":
            wait_for_cluster(
                self.module, self.client, self.cluster, self.params["wait_timeout"], self.params["poll_interval"]
            )

    def delete(self, instance):
        identifier = instance["DBInstanceIdentifier"]
        self.deleted.append(identifier)
        self.diff["before"][identifier] = {"status": instance.get("DBInstanceStatus")}
        self.diff["after"][identifier] = {"status": "deleted"}
        # Aurora instances hold no data of their own: the cluster keeps it (and its snapshots).
        self.call(
            f"delete DB instance {identifier}",
            "delete_db_instance",
            DBInstanceIdentifier=identifier,
            SkipFinalSnapshot=True,
        )

    def update(self, instance, wanted):
        identifier = wanted["db_instance_identifier"]
        current = instance_settings(instance)
        changes = instance_changes(current, wanted)
        # tags left out: no opinion (a Name tag alone would purge the others)
        wanted_tags = wanted["tags"] if self.params["tags"] is not None else None
        to_set, to_remove, tags_after = tag_changes(current["tags"], wanted_tags, self.params["purge_tags"])
        after = dict(current, **{field: change["after"] for field, change in changes.items()}, tags=tags_after)
        self.diff["before"][identifier] = current
        self.diff["after"][identifier] = after
        if to_set or to_remove:
            changes["tags"] = {"before": current["tags"], "after": tags_after}
        if not changes:
            return after
        self.changes[identifier] = changes
        if len(changes) > ("tags" in changes):
            if current["status"] != "available" and not self.module.check_mode:
                # AWS refuses ModifyDBInstance while the instance is busy.
                self.wait_instances(
                    lambda found: any(
                        i["DBInstanceIdentifier"] == identifier and i.get("DBInstanceStatus") == "available"
                        for i in found
                    ),
                    f"DB instance {identifier} to be available before changing it",
                )
            modified = self.call(
                f"modify DB instance {identifier}", "modify_db_instance", **instance_modify_request(changes, wanted)
            )
            after["status"] = ((modified or {}).get("DBInstance") or {}).get("DBInstanceStatus", current["status"])
        if to_set or to_remove:
            self.changed = True
            if not self.module.check_mode:
                try:
                    apply_tags(self.client, instance["DBInstanceArn"], to_set, to_remove)
                except AWS_ERRORS as e:
                    self.module.fail_json_aws(e, msg=f"Failed to tag DB instance {identifier}")
        return after

    def present(self):
        params = self.params
        found = {i["DBInstanceIdentifier"]: i for i in self.read()}
        wanted_ids = params["instance_identifiers"]
        results, to_create = [], []
        for index, identifier in enumerate(wanted_ids):
            wanted = wanted_instance(params, index, identifier)
            instance = found.get(identifier)
            if instance is not None and instance.get("DBInstanceStatus") in LEAVING:
                self.module.fail_json(
                    msg=f"DB instance {identifier} is being deleted: run again once it is gone to create it anew"
                )
            if instance is None:
                to_create.append(wanted)
                results.append(dict(wanted, status=""))
            else:
                results.append(self.update(instance, wanted))
        for identifier, instance in found.items():
            if identifier not in wanted_ids and instance.get("DBInstanceStatus") not in LEAVING:
                self.delete(instance)
        if to_create and not self.module.check_mode:
            self.cluster_ready_for_instances()
        # In list order, so the first one created (the writer) is the cluster's writer.
        for wanted in to_create:
            identifier = wanted["db_instance_identifier"]
            self.created.append(identifier)
            self.diff["before"][identifier] = {}
            self.diff["after"][identifier] = {k: v for k, v in wanted.items() if v is not None}
            response = self.call(
                f"create DB instance {identifier}",
                "create_db_instance",
                **instance_create_request(self.cluster, params["engine"], wanted),
            )
            status = ((response or {}).get("DBInstance") or {}).get("DBInstanceStatus", "")
            results[wanted_ids.index(identifier)]["status"] = status
        if params["wait"] and not self.module.check_mode:
            self.wait_available(results)
        return dict(instances=results)

    def wait_available(self, results):
        """Until every listed instance (then the cluster, e.g. after a change) is available."""
        wanted_ids = set(self.params["instance_identifiers"])

        def settled(found):
            statuses = {i["DBInstanceIdentifier"]: i.get("DBInstanceStatus") for i in found}
            return all(statuses.get(identifier) == "available" for identifier in wanted_ids)

        # A status read before this run's writes (or answered by a create call) proves nothing.
        if self.created or self.changes or any(r["status"] != "available" for r in results):
            self.wait_instances(settled, f"the instances of DB cluster {self.cluster} to be available")
        wait_for_cluster(
            self.module, self.client, self.cluster, self.params["wait_timeout"], self.params["poll_interval"]
        )
        for result in results:
            result["status"] = "available"

    def absent(self):
        found = self.read()
        for instance in found:
            if instance.get("DBInstanceStatus") not in LEAVING:
                self.delete(instance)
        if found and self.params["wait"] and not self.module.check_mode:
            self.wait_instances(lambda left: not left, f"the instances of DB cluster {self.cluster} to be deleted")
        return dict(instances=[])


def main():
    argument_spec = dict(
        cluster_identifier=dict(type="str", required=True, aliases=["db_cluster_identifier"]),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        instance_identifiers=dict(type="list", elements="str", default=[]),
        availability_zones=dict(type="list", elements="str", default=[]),
        engine=dict(type="str", choices=["aurora-postgresql", "aurora-mysql"], default="aurora-postgresql"),
        instance_class=dict(type="str", default="db.serverless"),
        publicly_accessible=dict(type="bool", default=False),
        monitoring_interval=dict(type="int", choices=[0, 1, 5, 10, 15, 30, 60], default=0),
        monitoring_role_arn=dict(type="str"),
        performance_insights=dict(type="bool", default=False),
        performance_insights_kms_key_id=dict(type="str"),
        performance_insights_retention_period=dict(type="int", default=7),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        wait=dict(type="bool", default=False),
        poll_interval=dict(type="int", default=15),
        wait_timeout=dict(type="int", default=1800),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)

    # Refuse bad input before any AWS call.
    problems = validate(module.params)
    if problems:
        module.fail_json(msg="Invalid Aurora instance settings: " + "; ".join(problems) + ".")

    client = module.client("rds", retry_decorator=AWSRetry.jittered_backoff(retries=10))
    sync = InstancesSync(module, client)
    result = sync.present() if module.params["state"] == "present" else sync.absent()
    result.update(changed=sync.changed, created=sync.created, deleted=sync.deleted, changes=sync.changes)
    if module._diff:
        result["diff"] = sync.diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
