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
module: aurora_cluster_sync
short_description: An Aurora Serverless v2 cluster with its DB subnet group, RDS-managed master password and scaling
version_added: 1.1.0
description:
  - Converges an Aurora DB cluster (engine mode C(provisioned), for C(db.serverless) instances) and the DB subnet
    group it lives in, in one process.
  - A new cluster is made with one C(CreateDBCluster) call that carries every setting known at creation, the
    RDS-managed master password (C(ManageMasterUserPassword), encrypted with O(master_user_secret_kms_key_id)) and the
    Serverless v2 scaling included, so no C(ModifyDBCluster) (a C(modifying) phase each) follows before an instance
    may join.
  - An existing cluster is read with one C(DescribeDBClusters) (tags included) and changed with at most one
    C(ModifyDBCluster) (applied immediately) holding only the settings that differ, compared field by field. Options
    left out are not compared. Settings AWS fixes at creation (engine, database name, master user name, storage key)
    are reported with a warning when they differ, never changed.
  - The engine version is only ever raised (AWS cannot downgrade, and may have applied a minor upgrade itself).
  - Every value is checked against AWS's limits before any AWS call (the emulator accepts values AWS refuses).
  - With O(state=absent) a protected cluster is refused before anything is deleted (unless
    O(lift_deletion_protection)); otherwise its instances are deleted, all at once, and waited for (AWS deletes a
    cluster only without instances), then the cluster (with a final snapshot when O(final_snapshot_identifier) is
    given), then its subnet group.
  - Supports check mode and diff mode.
author:
  - StreamFlix Platform Engineering (@streamflix)
options:
  cluster_identifier:
    description: Identifier of the Aurora DB cluster.
    type: str
    required: true
    aliases: [db_cluster_identifier]
  state:
    description: Whether the cluster (and its subnet group) should exist.
    type: str
    choices: [present, absent]
    default: present
  engine:
    description: Aurora engine.
    type: str
    choices: [aurora-postgresql, aurora-mysql]
    default: aurora-postgresql
  engine_version:
    description:
      - Engine version, e.g. C(16.6). A cluster on an older version is upgraded, one on a newer version is left as it
        is.
    type: str
  database_name:
    description: Database created with the cluster.
    type: str
  master_username:
    description: Master user name; needed to create the cluster. RDS generates, keeps and rotates its password.
    type: str
  master_user_secret_kms_key_id:
    description:
      - KMS key (ARN or id) that encrypts the RDS-managed master user secret; left out, AWS uses
        C(aws/secretsmanager).
      - The key of an existing managed secret cannot be changed; a different one fails the module.
    type: str
  port:
    description: Port the cluster listens on.
    type: int
  db_subnet_group:
    description:
      - The DB subnet group of the cluster, created (or brought to these subnets, description and tags) before the
        cluster, and deleted after it with O(state=absent).
      - The subnet group of an existing cluster cannot be changed in place; a different name is a warning.
    type: dict
    suboptions:
      name:
        description: Name of the DB subnet group.
        type: str
        required: true
      description:
        description: Description of the group; needed to create it.
        type: str
      subnet_ids:
        description: Subnets of the group (at least two availability zones); needed to create it.
        type: list
        elements: str
      tags:
        description: Tags of the group (purged like the cluster's, see O(purge_tags)).
        type: dict
  vpc_security_group_ids:
    description: Security groups of the cluster (the whole list).
    type: list
    elements: str
  kms_key_id:
    description: KMS key that encrypts the storage (always encrypted); left out, AWS uses C(aws/rds).
    type: str
  backup_retention_period:
    description: Days of automated backups, V(1) to V(35).
    type: int
  deletion_protection:
    description: Deletion protection.
    type: bool
  copy_tags_to_snapshot:
    description: Copy the cluster's tags to its snapshots.
    type: bool
  enable_iam_database_authentication:
    description: IAM database authentication.
    type: bool
  enable_cloudwatch_logs_exports:
    description: Log types exported to CloudWatch Logs (the whole list; others are turned off).
    type: list
    elements: str
  min_capacity:
    description:
      - Serverless v2 minimum in ACU, V(0) to V(256) in steps of V(0.5); needed to create the cluster.
      - V(0) lets the cluster pause when idle (Aurora PostgreSQL 13.15, 14.12, 15.7, 16.3 or later).
    type: float
  max_capacity:
    description: Serverless v2 maximum in ACU, V(1) to V(256) in steps of V(0.5); needed to create the cluster.
    type: float
  seconds_until_auto_pause:
    description:
      - Idle seconds before a cluster with a minimum of 0 ACU pauses, V(300) to V(86400); only with a minimum of 0.
      - Left out with a minimum of 0, the current value is kept (AWS applies 300 s when there is none).
    type: int
  tags:
    description: Tags of the cluster.
    type: dict
    aliases: [resource_tags]
  purge_tags:
    description: Remove tags (of the cluster and its subnet group) that are not in O(tags).
    type: bool
    default: true
  final_snapshot_identifier:
    description: With O(state=absent), the name of the cluster snapshot AWS takes before it deletes the cluster.
    type: str
  lift_deletion_protection:
    description:
      - With O(state=absent), turn deletion protection off first (before the instances are deleted, so the change
        is applied meanwhile); otherwise a protected cluster fails the module and nothing is deleted.
    type: bool
    default: false
  wait:
    description:
      - With O(state=present), wait until the cluster is C(available) after creating or changing it.
      - With O(state=absent), wait until it is gone (always done when O(db_subnet_group) is given, since AWS deletes
        the group only then). Its instances are always waited for (AWS deletes the cluster only once they are gone).
      - A cluster that is busy when a change must be made is always waited for (AWS refuses changes meanwhile).
    type: bool
    default: false
  poll_interval:
    description: Seconds between two C(DescribeDBClusters) calls while waiting.
    type: int
    default: 15
  wait_timeout:
    description: Longest wait in seconds.
    type: int
    default: 1800
notes:
  - Waiting polls the cluster's C(Status) field every O(poll_interval) seconds, so it suits both AWS (minutes) and a
    local emulator (seconds, with a small O(poll_interval)).
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: A dev cluster that pauses after an idle hour, in its own subnet group
  streamflix.video_pipeline.aurora_cluster_sync:
    cluster_identifier: video-metadata-cluster-dev
    engine_version: "16.6"
    database_name: videometadata
    master_username: videoadmin
    master_user_secret_kms_key_id: "{{ key_arn }}"
    port: 5432
    db_subnet_group:
      name: video-metadata-subnets-dev
      description: Private subnets of the video metadata cluster
      subnet_ids: "{{ private_subnet_ids }}"
      tags: {Name: video-metadata-subnets-dev, Environment: dev}
    vpc_security_group_ids: ["{{ db_sg_id }}"]
    kms_key_id: "{{ key_arn }}"
    backup_retention_period: 1
    deletion_protection: false
    copy_tags_to_snapshot: true
    enable_iam_database_authentication: true
    enable_cloudwatch_logs_exports: [postgresql]
    min_capacity: 0
    max_capacity: 4
    seconds_until_auto_pause: 3600
    tags: {Name: video-metadata-cluster-dev, Environment: dev}

- name: Delete its instances, then the cluster keeping a final snapshot, then its subnet group
  streamflix.video_pipeline.aurora_cluster_sync:
    cluster_identifier: video-metadata-cluster-prod
    state: absent
    lift_deletion_protection: true
    final_snapshot_identifier: video-metadata-cluster-prod-final-20261207-120000
    db_subnet_group:
      name: video-metadata-subnets-prod
    poll_interval: 15
"""

RETURN = r"""
cluster:
  description:
    - The cluster as AWS described it (snake_case, C(tags) as a dict), as created or last read; after a change,
      the C(ModifyDBCluster) answer. Empty when it does not exist (also in check mode before creation).
  returned: always
  type: dict
  sample:
    db_cluster_identifier: video-metadata-cluster-dev
    db_cluster_arn: arn:aws:rds:us-east-1:123456789012:cluster:video-metadata-cluster-dev
    status: creating
    endpoint: video-metadata-cluster-dev.cluster-abc.us-east-1.rds.amazonaws.com
    reader_endpoint: video-metadata-cluster-dev.cluster-ro-abc.us-east-1.rds.amazonaws.com
    port: 5432
    master_user_secret: {secret_arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-1-AbC"}
settings:
  description: The managed settings after the run (in check mode, what the run would set).
  returned: when O(state=present)
  type: dict
  sample: {min_capacity: 0.0, max_capacity: 4.0, seconds_until_auto_pause: 3600, deletion_protection: false}
changes:
  description: The settings that differed (the cluster's, and C(db_subnet_group) for its group), before and after.
  returned: always
  type: dict
  sample: {max_capacity: {before: 4.0, after: 8.0}}
db_subnet_group:
  description: Name, ARN, description and subnets of the DB subnet group, when O(db_subnet_group) is given.
  returned: when O(db_subnet_group) is given and O(state=present)
  type: dict
  sample:
    name: video-metadata-subnets-dev
    arn: arn:aws:rds:us-east-1:123456789012:subgrp:video-metadata-subnets-dev
    subnet_ids: [subnet-1, subnet-2]
"""

import time

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
)
from ansible_collections.streamflix.video_pipeline.plugins.module_utils.aurora import (
    IMMUTABLE_SETTINGS,
    apply_tags,
    cluster_changes,
    cluster_create_request,
    cluster_modify_request,
    cluster_settings,
    describe_cluster,
    describe_cluster_instances,
    describe_subnet_group,
    list_tags,
    master_secret_plan,
    poll,
    serverless_v2_problem,
    subnet_group_changes,
    tag_changes,
    validate_scaling,
    wait_for_cluster,
    wanted_cluster_settings,
)
from ansible_collections.streamflix.video_pipeline.plugins.module_utils.errors import AWS_ERRORS

# Statuses in which AWS accepts ModifyDBCluster / DeleteDBCluster.
READY = ("available",)


def cluster_result(cluster):
    """The cluster description, snake_case with tags as a dict; {} for none."""
    if not cluster:
        return {}
    cluster = dict(cluster)
    tags = boto3_tag_list_to_ansible_dict(cluster.pop("TagList", None) or [])
    result = camel_dict_to_snake_dict(cluster)
    result["tags"] = tags
    return result


def validate(params):
    """Problems with the input, found before any AWS call."""
    problems = validate_scaling(params["min_capacity"], params["max_capacity"], params["seconds_until_auto_pause"])
    retention = params["backup_retention_period"]
    if retention is not None and not 1 <= retention <= 35:
        problems.append(f"backup_retention_period must be 1-35 days, got {retention}")
    port = params["port"]
    if port is not None and not 1150 <= port <= 65535:
        problems.append(f"port must be 1150-65535, got {port}")
    if params["poll_interval"] < 1:
        problems.append(f"poll_interval must be 1 or more seconds, got {params['poll_interval']}")
    if params["wait_timeout"] < 0:
        problems.append(f"wait_timeout must be 0 or more seconds, got {params['wait_timeout']}")
    return problems


def creation_problems(params):
    """What a new cluster needs beyond the options every run gives."""
    missing = [name for name in ("master_username", "min_capacity", "max_capacity") if params[name] is None]
    group = params["db_subnet_group"]
    problems = [f"{', '.join(missing)} needed to create the cluster"] if missing else []
    probe = {
        "DBClusterIdentifier": params["cluster_identifier"],
        "Engine": params["engine"],
        "EngineVersion": params["engine_version"],
    }
    problem = serverless_v2_problem(probe, wants_auto_pause=params["min_capacity"] == 0)
    if problem:
        problems.append(problem)
    if group and group.get("subnet_ids") is None:
        problems.append(f"db_subnet_group.subnet_ids needed to create the DB subnet group {group['name']}")
    return problems


class ClusterSync:
    """One run of the module: reads once, writes only what differs."""

    def __init__(self, module, client):
        self.module = module
        self.client = client
        self.params = module.params
        self.identifier = self.params["cluster_identifier"]
        self.changed = False
        self.changes = {}
        self.diff = {"before": {}, "after": {}}

    def call(self, doing, method, **kwargs):
        """One write, unless in check mode (it then reports the change and returns {})."""
        self.changed = True
        if self.module.check_mode:
            return {}
        try:
            return getattr(self.client, method)(aws_retry=True, **kwargs)
        except AWS_ERRORS as e:
            self.module.fail_json_aws(e, msg=f"Failed to {doing}")

    def wait(self, gone=False):
        params = self.params
        return wait_for_cluster(
            self.module, self.client, self.identifier, params["wait_timeout"], params["poll_interval"], gone=gone
        )

    def read_cluster(self):
        try:
            return describe_cluster(self.client, self.identifier)
        except AWS_ERRORS as e:
            self.module.fail_json_aws(e, msg=f"Failed to describe DB cluster {self.identifier}")

    # -- the subnet group ------------------------------------------------------------

    def subnet_group_present(self):
        wanted = self.params["db_subnet_group"]
        name = wanted["name"]
        try:
            group = describe_subnet_group(self.client, name)
            tags = list_tags(self.client, group["DBSubnetGroupArn"]) if group else {}
        except AWS_ERRORS as e:
            self.module.fail_json_aws(e, msg=f"Failed to describe DB subnet group {name}")
        if group is None:
            if wanted.get("subnet_ids") is None or wanted.get("description") is None:
                self.module.fail_json(
                    msg=f"DB subnet group {name} does not exist: give db_subnet_group.description and subnet_ids"
                )
            request = {
                "DBSubnetGroupName": name,
                "DBSubnetGroupDescription": wanted["description"],
                "SubnetIds": wanted["subnet_ids"],
            }
            if wanted.get("tags"):
                request["Tags"] = ansible_dict_to_boto3_tag_list(wanted["tags"])
            created = self.call(f"create DB subnet group {name}", "create_db_subnet_group", **request)
            self.changes["db_subnet_group"] = {"before": None, "after": name}
            self.diff["after"]["db_subnet_group"] = dict(wanted)
            group = (created or {}).get("DBSubnetGroup") or {}
            return subnet_group_result(group, wanted, wanted.get("tags") or {})

        current, changes = subnet_group_changes(group, wanted)
        to_set, to_remove, tags_after = tag_changes(tags, wanted.get("tags"), self.params["purge_tags"])
        if to_set or to_remove:
            changes["tags"] = {"before": tags, "after": tags_after}
        self.diff["before"]["db_subnet_group"] = dict(current, name=name, tags=tags)
        self.diff["after"]["db_subnet_group"] = dict(
            current, name=name, tags=tags_after, **{k: v["after"] for k, v in changes.items() if k != "tags"}
        )
        if "description" in changes or "subnet_ids" in changes:
            self.call(
                f"modify DB subnet group {name}",
                "modify_db_subnet_group",
                DBSubnetGroupName=name,
                DBSubnetGroupDescription=wanted.get("description") or current["description"],
                SubnetIds=wanted.get("subnet_ids") or current["subnet_ids"],
            )
        if to_set or to_remove:
            self.changed = True
            if not self.module.check_mode:
                try:
                    apply_tags(self.client, group["DBSubnetGroupArn"], to_set, to_remove)
                except AWS_ERRORS as e:
                    self.module.fail_json_aws(e, msg=f"Failed to tag DB subnet group {name}")
        if changes:
            self.changes["db_subnet_group"] = changes
        return subnet_group_result(group, wanted, tags_after)

    def subnet_group_absent(self):
        name = self.params["db_subnet_group"]["name"]
        try:
            group = describe_subnet_group(self.client, name)
        except AWS_ERRORS as e:
            self.module.fail_json_aws(e, msg=f"Failed to describe DB subnet group {name}")
        if group is None:
            return
        self.call(f"delete DB subnet group {name}", "delete_db_subnet_group", DBSubnetGroupName=name)
        self.changes["db_subnet_group"] = {"before": name, "after": None}

    # -- the cluster ---------------------------------------------------------------

    def create(self):
        params = self.params
        problems = creation_problems(params)
        if problems:
            self.module.fail_json(msg=f"Cannot create DB cluster {self.identifier}: " + "; ".join(problems) + ".")
        group = params["db_subnet_group"]
        request = cluster_create_request(self.identifier, params, group["name"] if group else None, params["tags"])
        wanted = wanted_cluster_settings({}, params)
        self.diff["after"].update(wanted, tags=params["tags"] or {})
        self.changes["cluster"] = {"before": None, "after": self.identifier}
        created = self.call(f"create DB cluster {self.identifier}", "create_db_cluster", **request)
        cluster = (created or {}).get("DBCluster") or {}
        if cluster and params["wait"]:
            cluster = self.wait()
        return cluster, wanted

    def update(self, cluster):
        params = self.params
        if cluster.get("Status") == "deleting":
            self.module.fail_json(
                msg=f"DB cluster {self.identifier} is being deleted: run again once it is gone to create it anew"
            )
        problem = serverless_v2_problem(cluster, wants_auto_pause=params["min_capacity"] == 0)
        if problem:
            self.module.fail_json(msg=problem[0].upper() + problem[1:] + ".")
        current = cluster_settings(cluster)
        wanted = wanted_cluster_settings(current, params)
        # the merged values (a given max against the current min) obey the same rules
        problems = validate_scaling(wanted["min_capacity"], wanted["max_capacity"], params["seconds_until_auto_pause"])
        if problems:
            self.module.fail_json(
                msg=f"Invalid Serverless v2 scaling for {self.identifier} (with its current values): "
                + "; ".join(problems)
                + "."
            )
        changes = cluster_changes(current, wanted)
        if current["manage_master_user_password"] and "master_user_secret_kms_key_id" in changes:
            _action, why = master_secret_plan(cluster, params["master_user_secret_kms_key_id"])
            self.module.fail_json(msg=why[0].upper() + why[1:] + ".")
        for field in IMMUTABLE_SETTINGS:
            if field in changes:
                change = changes.pop(field)
                self.module.warn(
                    f"DB cluster {self.identifier} has {field} {change['before']!r}, not {change['after']!r}; "
                    "AWS fixes it at creation, so it is left as it is"
                )
                wanted[field] = change["before"]
        group = params["db_subnet_group"]
        if group and cluster.get("DBSubnetGroup") != group["name"]:
            self.module.warn(
                f"DB cluster {self.identifier} is in DB subnet group {cluster.get('DBSubnetGroup')}, not "
                f"{group['name']}; a cluster cannot move to another subnet group in place"
            )

        tags = boto3_tag_list_to_ansible_dict(cluster.get("TagList") or [])
        to_set, to_remove, tags_after = tag_changes(tags, params["tags"], params["purge_tags"])
        if to_set or to_remove:
            changes["tags"] = {"before": tags, "after": tags_after}
        self.diff["before"].update(current, tags=tags)
        self.diff["after"].update(wanted, tags=tags_after)
        self.changes.update(changes)

        request = cluster_modify_request(self.identifier, changes, wanted)
        result = cluster
        if request:
            if cluster.get("Status") not in READY and not self.module.check_mode:
                cluster = self.wait()  # AWS refuses ModifyDBCluster while the cluster is busy
            modified = self.call(f"modify DB cluster {self.identifier}", "modify_db_cluster", **request)
            result = dict((modified or {}).get("DBCluster") or cluster, TagList=cluster.get("TagList") or [])
        if to_set or to_remove:
            self.changed = True
            if not self.module.check_mode:
                try:
                    apply_tags(self.client, cluster["DBClusterArn"], to_set, to_remove)
                except AWS_ERRORS as e:
                    self.module.fail_json_aws(e, msg=f"Failed to tag DB cluster {self.identifier}")
                result = dict(result, TagList=ansible_dict_to_boto3_tag_list(tags_after))
        if request and params["wait"] and not self.module.check_mode:
            result = self.wait()
        return result, wanted

    def present(self):
        group = None
        if self.params["db_subnet_group"]:
            group = self.subnet_group_present()
        cluster = self.read_cluster()
        if cluster is None:
            cluster, wanted = self.create()
        else:
            cluster, wanted = self.update(cluster)
        result = dict(cluster=cluster_result(cluster), settings=wanted)
        if group is not None:
            result["db_subnet_group"] = group
        return result

    def absent(self):
        params = self.params
        cluster = self.read_cluster()
        if cluster is not None and cluster.get("Status") != "deleting":
            self.lift_protection(cluster)
            self.delete_instances()
            self.delete(cluster)
        if cluster is not None and (params["wait"] or params["db_subnet_group"]) and not self.module.check_mode:
            self.wait(gone=True)
        if params["db_subnet_group"]:
            self.subnet_group_absent()
        return dict(cluster=cluster_result(cluster))

    def lift_protection(self, cluster):
        """Refuse a protected cluster before anything is deleted, or turn the protection off when told to.

        Turned off first, so the change is applied while the instances go.
        """
        self.diff["before"] = {
            "status": cluster.get("Status"),
            "deletion_protection": cluster.get("DeletionProtection"),
        }
        self.diff["after"] = {"status": "deleted"}
        if not cluster.get("DeletionProtection"):
            return
        if not self.params["lift_deletion_protection"]:
            self.module.fail_json(
                msg=(
                    f"DB cluster {self.identifier} has deletion protection on: nothing was deleted. "
                    "Set lift_deletion_protection to turn it off and delete the cluster."
                )
            )
        self.call(
            f"turn deletion protection off on {self.identifier}",
            "modify_db_cluster",
            DBClusterIdentifier=self.identifier,
            DeletionProtection=False,
            ApplyImmediately=True,
        )

    def delete_instances(self):
        """AWS deletes a cluster only once its instances are gone: delete them all at once, wait until gone."""
        try:
            instances = describe_cluster_instances(self.client, self.identifier)
        except AWS_ERRORS as e:
            self.module.fail_json_aws(e, msg=f"Failed to describe the instances of DB cluster {self.identifier}")
        if not instances:
            return
        for instance in instances:
            if instance.get("DBInstanceStatus") != "deleting":
                # Aurora instances hold no data of their own (the cluster and its snapshot do).
                identifier = instance["DBInstanceIdentifier"]
                self.call(
                    f"delete DB instance {identifier}",
                    "delete_db_instance",
                    DBInstanceIdentifier=identifier,
                    SkipFinalSnapshot=True,
                )
        self.changes["instances"] = {"before": sorted(i["DBInstanceIdentifier"] for i in instances), "after": []}
        if not self.module.check_mode:
            poll(
                self.module,
                lambda: describe_cluster_instances(self.client, self.identifier),
                lambda left: not left,
                self.params["wait_timeout"],
                self.params["poll_interval"],
                f"the instances of DB cluster {self.identifier} to be deleted",
            )

    def delete(self, cluster):
        params = self.params
        request = {"DBClusterIdentifier": self.identifier, "SkipFinalSnapshot": True}
        if params["final_snapshot_identifier"]:
            # AWS takes it as part of the deletion (CopyTagsToSnapshot gives it the cluster's tags).
            request = {
                "DBClusterIdentifier": self.identifier,
                "SkipFinalSnapshot": False,
                "FinalDBSnapshotIdentifier": params["final_snapshot_identifier"],
            }
        self.changes["cluster"] = {"before": self.identifier, "after": None}
        self.changed = True
        if self.module.check_mode:
            return
        deadline = time.monotonic() + params["wait_timeout"]
        while True:
            try:
                self.client.delete_db_cluster(aws_retry=True, **request)
                return
            except is_boto3_error_code("DBClusterNotFoundFault"):
                return
            except is_boto3_error_code("InvalidDBClusterStateFault") as e:
                # Still busy (applying the protection change, or its last instance
                # just gone): try again after a poll interval.
                if time.monotonic() + params["poll_interval"] > deadline:
                    self.module.fail_json_aws(e, msg=f"Failed to delete DB cluster {self.identifier}")
                time.sleep(params["poll_interval"])
            except AWS_ERRORS as e:  # pylint: disable=duplicate-except
                self.module.fail_json_aws(e, msg=f"Failed to delete DB cluster {self.identifier}")


def subnet_group_result(group, wanted, tags):
    return {
        "name": wanted["name"],
        "arn": group.get("DBSubnetGroupArn", ""),
        "description": group.get("DBSubnetGroupDescription", wanted.get("description")),
        "subnet_ids": sorted(s["SubnetIdentifier"] for s in group["Subnets"])
        if group.get("Subnets")
        else sorted(wanted.get("subnet_ids") or []),
        "vpc_id": group.get("VpcId", ""),
        "tags": tags,
    }


def main():
    argument_spec = dict(
        cluster_identifier=dict(type="str", required=True, aliases=["db_cluster_identifier"]),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        engine=dict(type="str", choices=["aurora-postgresql", "aurora-mysql"], default="aurora-postgresql"),
        engine_version=dict(type="str"),
        database_name=dict(type="str"),
        master_username=dict(type="str"),
        master_user_secret_kms_key_id=dict(type="str"),
        port=dict(type="int"),
        db_subnet_group=dict(
            type="dict",
            options=dict(
                name=dict(type="str", required=True),
                description=dict(type="str"),
                subnet_ids=dict(type="list", elements="str"),
                tags=dict(type="dict"),
            ),
        ),
        vpc_security_group_ids=dict(type="list", elements="str"),
        kms_key_id=dict(type="str"),
        backup_retention_period=dict(type="int"),
        deletion_protection=dict(type="bool"),
        copy_tags_to_snapshot=dict(type="bool"),
        enable_iam_database_authentication=dict(type="bool"),
        enable_cloudwatch_logs_exports=dict(type="list", elements="str"),
        min_capacity=dict(type="float"),
        max_capacity=dict(type="float"),
        seconds_until_auto_pause=dict(type="int"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        final_snapshot_identifier=dict(type="str"),
        lift_deletion_protection=dict(type="bool", default=False),
        wait=dict(type="bool", default=False),
        poll_interval=dict(type="int", default=15),
        wait_timeout=dict(type="int", default=1800),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)

    # Refuse bad input before any AWS call.
    problems = validate(module.params)
    if problems:
        module.fail_json(msg="Invalid Aurora cluster settings: " + "; ".join(problems) + ".")

    client = module.client("rds", retry_decorator=AWSRetry.jittered_backoff(retries=10))
    sync = ClusterSync(module, client)
    result = sync.present() if module.params["state"] == "present" else sync.absent()
    result.update(changed=sync.changed, changes=sync.changes)
    if module._diff:
        result["diff"] = sync.diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
