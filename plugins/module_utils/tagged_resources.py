# -*- coding: utf-8 -*-

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Find every resource that belongs to one pipeline environment.

Two sources are merged:

* the Resource Groups Tagging API (one paginated call finds whatever AWS indexes
  for the tags), and
* direct lookups of every resource in SPEC.md, by tag filter (EC2) or by its
  SPEC name (everything else), because the tagging API does not index IAM roles
  (global), and the emulator's version of it misses Kinesis streams, DB subnet
  groups and dashboards.

Each resource is identified by (type, id) parsed from its ARN, so the same
resource found by both sources is reported once. A direct lookup is the
authority for what it covers: the tagging index on AWS lags deletions by
minutes, so an indexed ARN that a direct lookup no longer finds is reported
as ``stale`` instead of as a leftover.

Resources that AWS is already removing (KMS keys pending deletion, secrets in
their recovery window, streams or clusters being deleted) go to
``pending_deletion``; what is kept on purpose (manual/final Aurora snapshots,
inactive task definition revisions) goes to ``retained``. Neither counts as a
leftover.

The code is written for clients made by AnsibleAWSModule.client() with a retry
decorator: every call passes ``aws_retry=True``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    import botocore
except ImportError:
    botocore = None  # AnsibleAWSModule reports the missing dependency

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

SPEC_PROJECT = "video-processing"

# EC2 describe calls that take a tag filter. Their answer is complete for that
# filter, so they are authoritative for the whole type. (operation, filter
# parameter name, result key, resource type in the ARN, id key)
EC2_LOOKUPS = (
    ("describe_vpcs", "Filters", "Vpcs", "vpc", "VpcId"),
    ("describe_subnets", "Filters", "Subnets", "subnet", "SubnetId"),
    ("describe_internet_gateways", "Filters", "InternetGateways", "internet-gateway", "InternetGatewayId"),
    ("describe_route_tables", "Filters", "RouteTables", "route-table", "RouteTableId"),
    ("describe_security_groups", "Filters", "SecurityGroups", "security-group", "GroupId"),
    ("describe_nat_gateways", "Filter", "NatGateways", "natgateway", "NatGatewayId"),
    ("describe_flow_logs", "Filter", "FlowLogs", "vpc-flow-log", "FlowLogId"),
)

# ARN resource types that differ between AWS and the emulator, mapped to AWS's.
TYPE_ALIASES = {"ec2:flow-logs": "ec2:vpc-flow-log"}

SNAPSHOT_TYPES = ("rds:cluster-snapshot", "rds:snapshot")

NOT_FOUND_CODES = (
    "ResourceNotFoundException",
    "ResourceNotFound",
    "NotFoundException",
    "NotFound",
    "NoSuchEntity",
    "DBClusterNotFoundFault",
    "DBInstanceNotFound",
    "DBSubnetGroupNotFoundFault",
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
    "ClusterNotFoundException",
    "ServiceNotFoundException",
)


def spec_names(env):
    """The SPEC.md names of one environment (the contract tests look up)."""
    return {
        "kms_alias": "alias/video-processing-{0}".format(env),
        "stream": "video-ingestion-stream-{0}".format(env),
        "queue": "video-processing-dlq-{0}".format(env),
        "topic": "video-processing-alarms-{0}".format(env),
        "db_cluster": "video-metadata-cluster-{0}".format(env),
        "db_instances": ["video-metadata-instance-1-{0}".format(env), "video-metadata-instance-2-{0}".format(env)],
        "db_subnet_group": "video-metadata-subnets-{0}".format(env),
        "secrets": ["video-processing-db-credentials-{0}".format(env), "video-processing-api-keys-{0}".format(env)],
        "roles": [
            "video-processing-exec-role-{0}".format(env),
            "video-processing-task-role-{0}".format(env),
            "video-processing-flowlogs-role-{0}".format(env),
            "video-metadata-monitoring-role-{0}".format(env),
        ],
        "ecs_cluster": "video-processing-cluster-{0}".format(env),
        "ecs_service": "video-processing-service-{0}".format(env),
        "task_family": "video-processing-{0}".format(env),
        "log_groups": ["/ecs/video-processing-{0}".format(env), "/vpc/video-processing-{0}".format(env)],
        # Log groups AWS creates on the pipeline's behalf (untagged, and not
        # removed with the cluster): Aurora's postgresql log export and ECS
        # Container Insights. Prefixes end in "/", so look-alike envs never match.
        "aws_log_group_prefixes": [
            "/aws/rds/cluster/video-metadata-cluster-{0}/".format(env),
            "/aws/ecs/containerinsights/video-processing-cluster-{0}/".format(env),
        ],
        "alarm_prefix": "video-processing-",
        "alarm_suffix": "-{0}".format(env),
        "dashboard": "video-processing-{0}".format(env),
    }


def parse_arn(arn):
    """Split an ARN into partition, service, region, account, type and id.

    type is "<service>:<resource type>" as the tagging API's ResourceTypeFilters
    spell it (ec2:vpc, rds:cluster, sqs:queue ...); id is what names the
    resource inside that type (vpc-123, a log group name, family:revision).
    """
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        raise ValueError("not an ARN: {0}".format(arn))
    partition, service, region, account, resource = parts[1], parts[2], parts[3], parts[4], parts[5]
    if service in ("sqs", "sns") and ":" not in resource and "/" not in resource:
        rtype, rid = ("queue" if service == "sqs" else "topic"), resource
    elif service == "s3":
        rtype, rid = "bucket", resource
    else:
        cut = min([i for i in (resource.find("/"), resource.find(":")) if i >= 0] or [len(resource)])
        rtype, rid = resource[:cut], resource[cut + 1 :]
        if service == "logs" and rid.endswith(":*"):
            rid = rid[:-2]  # DescribeLogGroups appends ":*"; the tagging API does not
        if service == "iam":
            rid = rid.rsplit("/", 1)[-1]  # drop the path: role names are unique
    full_type = "{0}:{1}".format(service, rtype)
    full_type = TYPE_ALIASES.get(full_type, full_type)
    return {
        "partition": partition,
        "service": service,
        "region": region,
        "account": account,
        "type": full_type,
        "id": rid,
    }


def resource_key(item):
    return (item["type"], item["id"])


def make_item(arn, name=None, source="lookup", **extra):
    parsed = parse_arn(arn)
    if parsed["type"] == "logs:log-group" and arn.endswith(":*"):
        arn = arn[:-2]  # the log group's own ARN, as the tagging API and IAM policies spell it
    item = {
        "arn": arn,
        "id": parsed["id"],
        "type": parsed["type"],
        "name": name or parsed["id"],
        "source": source,
    }
    item.update(extra)
    return item


def tag_dict(tags):
    """[{Key, Value}] (or {key, value}) -> {Key: Value}."""
    result = {}
    for tag in tags or []:
        key = tag.get("Key", tag.get("key"))
        value = tag.get("Value", tag.get("value"))
        result[key] = value
    return result


def is_not_found(error):
    code = error.response.get("Error", {}).get("Code", "")
    return code in NOT_FOUND_CODES


def _call(client, operation, **kwargs):
    return getattr(client, operation)(aws_retry=True, **kwargs)


def _call_unless_missing(client, operation, **kwargs):
    """_call's response, or None when AWS answers that the resource does not exist."""
    try:
        return _call(client, operation, **kwargs)
    except botocore.exceptions.ClientError as error:
        if is_not_found(error):
            return None
        raise


@AWSRetry.jittered_backoff(retries=10)
def _paginate(client, operation, **kwargs):
    return client.get_paginator(operation).paginate(**kwargs).build_full_result()


class Inventory:
    """What one environment holds, merged from all sources."""

    def __init__(self):
        self.resources = {}
        self.retained = {}
        self.pending_deletion = {}
        self.stale = {}
        # (type, predicate(id)) pairs: a direct lookup that would have found
        # every resource of that type whose id matches.
        self._checked = []

    def checked(self, rtype, predicate):
        self._checked.append((rtype, predicate))

    def checked_names(self, rtype, ids):
        wanted = set(ids)
        self.checked(rtype, lambda rid: rid in wanted)

    def is_checked(self, rtype, rid):
        return any(rtype == t and predicate(rid) for t, predicate in self._checked)

    def _bucket_of(self, key):
        for bucket in (self.resources, self.retained, self.pending_deletion):
            if key in bucket:
                return bucket
        return None

    def add(self, item, bucket="resources", reason=None):
        target = getattr(self, bucket)
        key = resource_key(item)
        existing = self._bucket_of(key)
        if existing is not None:
            if existing[key]["source"] != item["source"]:
                existing[key]["source"] = "both"
            for field, value in item.items():
                existing[key].setdefault(field, value)
            return
        if reason:
            item = dict(item, reason=reason)
        target[key] = item

    def known(self, key):
        return self._bucket_of(key) is not None

    @staticmethod
    def _sorted(bucket):
        return [bucket[k] for k in sorted(bucket)]

    def result(self):
        resources = self._sorted(self.resources)
        return {
            "resources": resources,
            "count": len(resources),
            "retained": self._sorted(self.retained),
            "pending_deletion": self._sorted(self.pending_deletion),
            "stale": self._sorted(self.stale),
        }


class Collector:
    """Runs every lookup for one environment.

    client: callable(service name) -> boto3 client (made with a retry decorator)
    """

    def __init__(self, client, env, project, region, partition, account):
        self.client = client
        self.env = env
        self.project = project
        self.region = region
        self.partition = partition
        self.account = account
        self.names = spec_names(env)
        self.inventory = Inventory()

    def arn(self, service, resource, region=None):
        region = self.region if region is None else region
        return "arn:{0}:{1}:{2}:{3}:{4}".format(self.partition, service, region, self.account, resource)

    def tag_filters(self):
        return [{"Key": "Environment", "Values": [self.env]}, {"Key": "Project", "Values": [self.project]}]

    def collect(self):
        for lookup in (
            self.lookup_ec2,
            self.lookup_kms,
            self.lookup_kinesis,
            self.lookup_sqs,
            self.lookup_sns,
            self.lookup_rds,
            self.lookup_secrets,
            self.lookup_iam,
            self.lookup_ecs,
            self.lookup_logs,
            self.lookup_cloudwatch,
        ):
            lookup()
        # Last: the index only adds what the direct lookups could not see.
        self.lookup_tagging_api()
        return self.inventory.result()

    # --- EC2: tag filters, complete for each type --------------------------------
    def lookup_ec2(self):
        ec2 = self.client("ec2")
        filters = [{"Name": "tag:Environment", "Values": [self.env]}, {"Name": "tag:Project", "Values": [self.project]}]
        for operation, param, key, rtype, id_key in EC2_LOOKUPS:
            found = _paginate(ec2, operation, **{param: filters}).get(key, [])
            if rtype == "vpc-flow-log":
                # Flow logs delivering to the pipeline's log group belong to it
                # even if whoever created them forgot the tags.
                by_group = [{"Name": "log-group-name", "Values": [self.names["log_groups"][1]]}]
                seen = set(f[id_key] for f in found)
                found += [f for f in _paginate(ec2, operation, Filter=by_group).get(key, []) if f[id_key] not in seen]
            self.inventory.checked("ec2:" + rtype, lambda rid: True)
            for resource in found:
                state = resource.get("State")
                if state in ("deleted", "failed"):
                    continue  # NAT gateways stay listed for an hour after deletion
                item = make_item(
                    self.arn("ec2", "{0}/{1}".format(rtype, resource[id_key])),
                    name=tag_dict(resource.get("Tags")).get("Name") or resource.get("GroupName"),
                )
                if state == "deleting":
                    self.inventory.add(item, "pending_deletion", reason="NAT gateway is being deleted")
                else:
                    self.inventory.add(item)

    # --- KMS: by alias ------------------------------------------------------------
    def lookup_kms(self):
        kms = self.client("kms")
        alias = self.names["kms_alias"]
        aliases = _paginate(kms, "list_aliases").get("Aliases", [])
        target = [a.get("TargetKeyId") for a in aliases if a.get("AliasName") == alias and a.get("TargetKeyId")]
        if not target:
            return
        found = _call_unless_missing(kms, "describe_key", KeyId=target[0])
        if found is None:
            return
        key = found["KeyMetadata"]
        item = make_item(key["Arn"], name=alias)
        self.inventory.checked_names("kms:key", [key["KeyId"]])
        self._add_kms_key(item, key)

    def _add_kms_key(self, item, key):
        state = key.get("KeyState")
        if state in ("PendingDeletion", "PendingReplicaDeletion"):
            reason = "KMS key scheduled for deletion"
            if key.get("DeletionDate"):
                reason += " on {0}".format(key["DeletionDate"])
            self.inventory.add(item, "pending_deletion", reason=reason)
        else:
            self.inventory.add(item)

    # --- Kinesis ------------------------------------------------------------------
    def lookup_kinesis(self):
        name = self.names["stream"]
        self.inventory.checked_names("kinesis:stream", [name])
        found = _call_unless_missing(self.client("kinesis"), "describe_stream_summary", StreamName=name)
        if found is None:
            return
        stream = found["StreamDescriptionSummary"]
        item = make_item(stream["StreamARN"], name=name)
        if stream.get("StreamStatus") == "DELETING":
            self.inventory.add(item, "pending_deletion", reason="stream is being deleted")
        else:
            self.inventory.add(item)

    # --- SQS ----------------------------------------------------------------------
    def lookup_sqs(self):
        name = self.names["queue"]
        self.inventory.checked_names("sqs:queue", [name])
        found = _call_unless_missing(self.client("sqs"), "get_queue_url", QueueName=name)
        if found is None:
            return
        self.inventory.add(make_item(self.arn("sqs", name), name=name, url=found["QueueUrl"]))

    # --- SNS ----------------------------------------------------------------------
    def lookup_sns(self):
        name = self.names["topic"]
        arn = self.arn("sns", name)
        self.inventory.checked_names("sns:topic", [name])
        if _call_unless_missing(self.client("sns"), "get_topic_attributes", TopicArn=arn) is None:
            return
        self.inventory.add(make_item(arn, name=name))

    # --- RDS ----------------------------------------------------------------------
    def lookup_rds(self):
        rds = self.client("rds")
        cluster_id = self.names["db_cluster"]
        self.inventory.checked_names("rds:cluster", [cluster_id])
        members = []
        found = _call_unless_missing(rds, "describe_db_clusters", DBClusterIdentifier=cluster_id)
        clusters = [] if found is None else found["DBClusters"]
        for cluster in clusters:
            members += [m["DBInstanceIdentifier"] for m in cluster.get("DBClusterMembers", [])]
            item = make_item(
                cluster["DBClusterArn"],
                name=cluster_id,
                endpoint=cluster.get("Endpoint"),
                reader_endpoint=cluster.get("ReaderEndpoint"),
                master_user_secret_arn=(cluster.get("MasterUserSecret") or {}).get("SecretArn"),
            )
            if cluster.get("Status") == "deleting":
                self.inventory.add(item, "pending_deletion", reason="DB cluster is being deleted")
            else:
                self.inventory.add(item)

        instance_ids = sorted(set(self.names["db_instances"] + members))
        self.inventory.checked_names("rds:db", instance_ids)
        instances = _paginate(
            rds, "describe_db_instances", Filters=[{"Name": "db-instance-id", "Values": instance_ids}]
        ).get("DBInstances", [])
        for instance in instances:
            item = make_item(instance["DBInstanceArn"], name=instance["DBInstanceIdentifier"])
            if instance.get("DBInstanceStatus") == "deleting":
                self.inventory.add(item, "pending_deletion", reason="DB instance is being deleted")
            else:
                self.inventory.add(item)

        group = self.names["db_subnet_group"]
        self.inventory.checked_names("rds:subgrp", [group])
        found = _call_unless_missing(rds, "describe_db_subnet_groups", DBSubnetGroupName=group)
        groups = [] if found is None else found["DBSubnetGroups"]
        for found in groups:
            arn = found.get("DBSubnetGroupArn") or self.arn("rds", "subgrp:" + group)
            self.inventory.add(make_item(arn, name=group))

        # Final snapshots are kept on purpose (prod): report them, never count them.
        snapshots = _paginate(
            rds, "describe_db_cluster_snapshots", DBClusterIdentifier=cluster_id, SnapshotType="manual"
        ).get("DBClusterSnapshots", [])
        for snapshot in snapshots:
            item = make_item(snapshot["DBClusterSnapshotArn"], name=snapshot["DBClusterSnapshotIdentifier"])
            self.inventory.add(item, "retained", reason="DB cluster snapshot kept on purpose")

    # --- Secrets Manager --------------------------------------------------------
    def lookup_secrets(self):
        sm = self.client("secretsmanager")
        names = set(self.names["secrets"])
        # Secret ARNs end in the name plus "-" and six random characters.
        self.inventory.checked("secretsmanager:secret", lambda rid: rid.rsplit("-", 1)[0] in names)
        for name in self.names["secrets"]:
            secret = _call_unless_missing(sm, "describe_secret", SecretId=name)
            if secret is None:
                continue
            item = make_item(secret["ARN"], name=secret.get("Name", name))
            self._add_secret(item, secret)

    def _add_secret(self, item, secret):
        if secret.get("DeletedDate"):
            reason = "secret in its recovery window (scheduled {0})".format(secret["DeletedDate"])
            self.inventory.add(item, "pending_deletion", reason=reason)
        else:
            self.inventory.add(item)

    # --- IAM (global: the tagging API of a region does not list roles) ----------
    def lookup_iam(self):
        iam = self.client("iam")
        self.inventory.checked_names("iam:role", self.names["roles"])
        for name in self.names["roles"]:
            found = _call_unless_missing(iam, "get_role", RoleName=name)
            if found is not None:
                self.inventory.add(make_item(found["Role"]["Arn"], name=name))

    # --- ECS ----------------------------------------------------------------------
    def lookup_ecs(self):
        ecs = self.client("ecs")
        cluster_name = self.names["ecs_cluster"]
        service_name = self.names["ecs_service"]
        family = self.names["task_family"]
        self.inventory.checked_names("ecs:cluster", [cluster_name])
        # New-format service ARNs carry the cluster name: cluster/service.
        self.inventory.checked_names("ecs:service", ["{0}/{1}".format(cluster_name, service_name), service_name])
        self.inventory.checked("ecs:task-definition", lambda rid: rid.rsplit(":", 1)[0] == family)

        clusters = _call(ecs, "describe_clusters", clusters=[cluster_name]).get("clusters", [])
        active = [c for c in clusters if c.get("status") != "INACTIVE"]
        for cluster in active:
            self.inventory.add(make_item(cluster["clusterArn"], name=cluster_name))
        if active:
            described = _call(ecs, "describe_services", cluster=cluster_name, services=[service_name])
            for service in described.get("services", []):
                item = make_item(service["serviceArn"], name=service_name)
                if service.get("status") == "ACTIVE":
                    self.inventory.add(item)
                elif service.get("status") == "DRAINING":
                    self.inventory.add(item, "pending_deletion", reason="ECS service is draining")

        # familyPrefix is a prefix: video-processing-pr also matches
        # video-processing-pr-1, so keep the exact family only.
        for status in ("ACTIVE", "INACTIVE"):
            arns = _paginate(ecs, "list_task_definitions", familyPrefix=family, status=status).get(
                "taskDefinitionArns", []
            )
            for arn in arns:
                item = make_item(arn)
                if item["id"].rsplit(":", 1)[0] != family:
                    continue
                item["name"] = item["id"]
                if status == "ACTIVE":
                    self.inventory.add(item)
                else:
                    self.inventory.add(item, "retained", reason="inactive task definition revision (ECS keeps them)")

    # --- CloudWatch Logs ------------------------------------------------------------
    def lookup_logs(self):
        logs = self.client("logs")
        self.inventory.checked_names("logs:log-group", self.names["log_groups"])
        for name in self.names["log_groups"]:
            groups = _paginate(logs, "describe_log_groups", logGroupNamePrefix=name).get("logGroups", [])
            for group in groups:
                if group["logGroupName"] == name:
                    arn = group.get("arn") or self.arn("logs", "log-group:" + name)
                    self.inventory.add(make_item(arn, name=name))
        prefixes = self.names["aws_log_group_prefixes"]
        self.inventory.checked("logs:log-group", lambda rid: any(rid.startswith(p) for p in prefixes))
        for prefix in prefixes:
            for group in _paginate(logs, "describe_log_groups", logGroupNamePrefix=prefix).get("logGroups", []):
                name = group["logGroupName"]
                self.inventory.add(make_item(group.get("arn") or self.arn("logs", "log-group:" + name), name=name))

    # --- CloudWatch alarms and dashboard -------------------------------------------
    def lookup_cloudwatch(self):
        cw = self.client("cloudwatch")
        prefix, suffix = self.names["alarm_prefix"], self.names["alarm_suffix"]

        def ours(name):
            return name.startswith(prefix) and name.endswith(suffix)

        self.inventory.checked("cloudwatch:alarm", ours)
        alarms = _paginate(cw, "describe_alarms", AlarmNamePrefix=prefix)
        for alarm in alarms.get("MetricAlarms", []) + alarms.get("CompositeAlarms", []):
            if not ours(alarm["AlarmName"]):
                continue
            # "video-processing-x-dev" also ends like env "x-dev" would: an alarm
            # tagged for another environment is not ours.
            tags = tag_dict(_call(cw, "list_tags_for_resource", ResourceARN=alarm["AlarmArn"]).get("Tags"))
            if tags.get("Environment", self.env) != self.env:
                continue
            self.inventory.add(make_item(alarm["AlarmArn"], name=alarm["AlarmName"]))

        name = self.names["dashboard"]
        self.inventory.checked_names("cloudwatch:dashboard", [name])
        entries = _paginate(cw, "list_dashboards", DashboardNamePrefix=name).get("DashboardEntries", [])
        for entry in entries:
            if entry["DashboardName"] == name:
                arn = entry.get("DashboardArn") or self.arn("cloudwatch", "dashboard/" + name, region="")
                self.inventory.add(make_item(arn, name=name))

    # --- Resource Groups Tagging API ---------------------------------------------------
    def lookup_tagging_api(self):
        tagging = self.client("resourcegroupstaggingapi")
        mappings = _paginate(tagging, "get_resources", TagFilters=self.tag_filters()).get("ResourceTagMappingList", [])
        for mapping in mappings:
            tags = tag_dict(mapping.get("Tags"))
            item = make_item(mapping["ResourceARN"], name=tags.get("Name"), source="tagging_api")
            key = resource_key(item)
            if self.inventory.known(key):
                self.inventory.add(item)  # marks source "both"
            elif item["type"] in SNAPSHOT_TYPES:
                # Snapshots copy the cluster's tags, Name included: name them by id.
                item["name"] = item["id"]
                if item["id"].startswith("rds:"):
                    reason = "automated DB snapshot (AWS removes it when its retention ends)"
                else:
                    reason = "DB snapshot kept on purpose"
                self.inventory.add(item, "retained", reason=reason)
            elif self.inventory.is_checked(item["type"], item["id"]):
                # A direct lookup covers this resource and did not find it: the
                # index still lists a resource that was just deleted.
                self.inventory.stale[key] = dict(item, reason="listed by the tagging API, gone on direct lookup")
            else:
                self._classify(item)

    def _classify(self, item):
        """Tagging-API-only resources whose state decides whether they count."""
        try:
            if item["type"] == "kms:key":
                key = _call(self.client("kms"), "describe_key", KeyId=item["arn"])["KeyMetadata"]
                self._add_kms_key(item, key)
                return
            if item["type"] == "secretsmanager:secret":
                secret = _call(self.client("secretsmanager"), "describe_secret", SecretId=item["arn"])
                self._add_secret(item, secret)
                return
            if item["type"] == "ecs:task-definition":
                task = _call(self.client("ecs"), "describe_task_definition", taskDefinition=item["arn"])
                status = task["taskDefinition"].get("status")
                if status == "INACTIVE":
                    self.inventory.add(item, "retained", reason="inactive task definition revision (ECS keeps them)")
                elif status == "DELETE_IN_PROGRESS":
                    self.inventory.add(item, "pending_deletion", reason="task definition deletion in progress")
                else:
                    self.inventory.add(item)
                return
        except botocore.exceptions.ClientError as error:
            # ECS answers ClientException for an unknown task definition.
            code = error.response.get("Error", {}).get("Code")
            ecs_gone = item["type"] == "ecs:task-definition" and code == "ClientException"
            if is_not_found(error) or ecs_gone:
                self.inventory.stale[resource_key(item)] = dict(item, reason="listed by the tagging API, gone")
                return
            raise
        self.inventory.add(item)
