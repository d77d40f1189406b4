# -*- coding: utf-8 -*-
# Copyright: StreamFlix Platform Engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Aurora helpers shared by the collection's RDS modules.

Everything above the ``# AWS calls`` line is pure Python (no boto3, no
AnsibleModule) so the unit tests cover validation and change computation
without AWS. The limits are AWS's documented Serverless v2 limits; the local
emulator does not enforce them (it accepts MaxCapacity 300), so we do.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import time

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)
from ansible_collections.streamflix.video_pipeline.plugins.module_utils.errors import AWS_ERRORS

CAPACITY_MIN = 0.0
CAPACITY_MAX = 256.0
# A maximum below 1 ACU is refused by AWS.
MAX_CAPACITY_FLOOR = 1.0
AUTO_PAUSE_MIN_SECONDS = 300
AUTO_PAUSE_MAX_SECONDS = 86400

SUPPORTED_ENGINES = ("aurora-postgresql", "aurora-mysql")

# First engine version of each major line that runs Serverless v2, and the
# first that accepts MinCapacity 0 (auto-pause, since November 2024).
# Aurora MySQL is keyed on its own version (8.0.mysql_aurora.3.05.2 -> 3.5.2).
_SERVERLESS_V2_MINIMUM = {
    "aurora-postgresql": {13: (13, 6), 14: (14, 3), 15: (15, 2), 16: (16, 1), 17: (17, 4)},
    "aurora-mysql": {3: (3, 2, 0)},
}
_AUTO_PAUSE_MINIMUM = {
    "aurora-postgresql": {13: (13, 15), 14: (14, 12), 15: (15, 7), 16: (16, 3), 17: (17, 4)},
    "aurora-mysql": {3: (3, 8, 0)},
}

SCALING_FIELDS = ("min_capacity", "max_capacity", "seconds_until_auto_pause")


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _fmt(value):
    """1.0 -> '1', 0.5 -> '0.5' (messages read like the input)."""
    if _is_number(value) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _capacity_problem(name, value, low):
    if not _is_number(value):
        return f"{name} must be a number of ACUs, got {value!r}"
    if value < low or value > CAPACITY_MAX or (value * 2) != int(value * 2):
        return (
            f"{name} must be between {_fmt(low)} and {_fmt(CAPACITY_MAX)} ACU in steps of 0.5 "
            f"(0, 0.5, 1, 1.5, ...), got {_fmt(value)}"
        )
    return None


def validate_scaling(min_capacity=None, max_capacity=None, seconds_until_auto_pause=None):
    """Check the requested scaling; return a list of messages (empty = valid).

    Options left out (None) are not checked here; call again on the merged
    wanted configuration (see wanted_scaling) once the cluster is known.
    """
    problems = []
    if min_capacity is not None:
        problem = _capacity_problem("min_capacity", min_capacity, CAPACITY_MIN)
        if problem:
            problems.append(problem)
    if max_capacity is not None:
        problem = _capacity_problem("max_capacity", max_capacity, MAX_CAPACITY_FLOOR)
        if problem:
            problems.append(problem)
    if not problems and min_capacity is not None and max_capacity is not None and min_capacity > max_capacity:
        problems.append(
            f"min_capacity ({_fmt(min_capacity)}) must not be greater than max_capacity ({_fmt(max_capacity)})"
        )
    if seconds_until_auto_pause is not None:
        if isinstance(seconds_until_auto_pause, bool) or not isinstance(seconds_until_auto_pause, int):
            problems.append(
                f"seconds_until_auto_pause must be a whole number of seconds, got {seconds_until_auto_pause!r}"
            )
        elif not AUTO_PAUSE_MIN_SECONDS <= seconds_until_auto_pause <= AUTO_PAUSE_MAX_SECONDS:
            problems.append(
                f"seconds_until_auto_pause must be between {AUTO_PAUSE_MIN_SECONDS} and {AUTO_PAUSE_MAX_SECONDS} "
                f"seconds, got {seconds_until_auto_pause}"
            )
        if _is_number(min_capacity) and min_capacity != 0:
            problems.append(
                "seconds_until_auto_pause is allowed only with min_capacity 0 (a cluster pauses only when it may "
                f"scale to 0 ACU), got min_capacity {_fmt(min_capacity)}"
            )
    return problems


def current_scaling(cluster):
    """The cluster's ServerlessV2ScalingConfiguration as a snake_case dict (None values when unset)."""
    config = cluster.get("ServerlessV2ScalingConfiguration") or {}
    seconds = config.get("SecondsUntilAutoPause")
    return {
        "min_capacity": float(config["MinCapacity"]) if config.get("MinCapacity") is not None else None,
        "max_capacity": float(config["MaxCapacity"]) if config.get("MaxCapacity") is not None else None,
        "seconds_until_auto_pause": int(seconds) if seconds is not None else None,
    }


def wanted_scaling(current, min_capacity=None, max_capacity=None, seconds_until_auto_pause=None):
    """Merge the requested values into the current configuration.

    Auto-pause only exists with a minimum of 0: with min > 0 the wanted
    seconds_until_auto_pause is None (never sent, never compared). With
    min 0 and no seconds given, the current value is kept (AWS applies its
    default of 300 s when there is none).
    """
    wanted_min = float(min_capacity) if min_capacity is not None else current.get("min_capacity")
    wanted_max = float(max_capacity) if max_capacity is not None else current.get("max_capacity")
    if wanted_min == 0:
        if seconds_until_auto_pause is not None:
            seconds = int(seconds_until_auto_pause)
        else:
            seconds = current.get("seconds_until_auto_pause")
    else:
        seconds = None
    return {"min_capacity": wanted_min, "max_capacity": wanted_max, "seconds_until_auto_pause": seconds}


def compute_changes(current, wanted):
    """Field-by-field differences: {field: {'before': x, 'after': y}}.

    A wanted None means "no opinion" and is never a difference, so an extra
    key AWS returns (or omits) does not make the module report a change
    forever (the pitfall of comparing the nested dict as a whole).
    """
    changes = {}
    for field in SCALING_FIELDS:
        after = wanted.get(field)
        if after is None:
            continue
        before = current.get(field)
        if before is None or float(before) != float(after):
            changes[field] = {"before": before, "after": after}
    return changes


def parse_engine_version(engine, version):
    """'16.4' -> (16, 4); '8.0.mysql_aurora.3.05.2' -> (3, 5, 2); None when unknown."""
    if not version:
        return None
    if engine == "aurora-mysql":
        match = re.search(r"mysql_aurora\.(\d+)\.(\d+)(?:\.(\d+))?", version)
        if not match:
            return None
        return tuple(int(part) for part in match.groups() if part is not None)
    match = re.match(r"^(\d+)(?:\.(\d+))?", version)
    if not match:
        return None
    return tuple(int(part) for part in match.groups() if part is not None)


def _version_below(engine, version, table):
    parsed = parse_engine_version(engine, version)
    if parsed is None:
        return None  # cannot tell: let AWS decide
    minimums = table.get(engine, {})
    minimum = minimums.get(parsed[0])
    if minimum is None:
        if minimums and parsed[0] < min(minimums):
            return min(minimums.values())
        return None  # a newer major line than we know of
    return minimum if parsed < minimum else None


def serverless_v2_problem(cluster, wants_auto_pause=False):
    """Why this cluster cannot take the scaling asked for, or None."""
    identifier = cluster.get("DBClusterIdentifier")
    engine = cluster.get("Engine")
    if engine not in SUPPORTED_ENGINES:
        return (
            f"cluster {identifier} runs engine {engine}; Aurora Serverless v2 needs one of "
            f"{', '.join(SUPPORTED_ENGINES)}"
        )
    engine_mode = cluster.get("EngineMode", "provisioned")
    if engine_mode != "provisioned":
        return (
            f"cluster {identifier} has engine_mode {engine_mode}; Aurora Serverless v2 needs engine_mode "
            "provisioned (a Serverless v1 cluster must be migrated first)"
        )
    version = cluster.get("EngineVersion")
    minimum = _version_below(engine, version, _SERVERLESS_V2_MINIMUM)
    if minimum:
        return (
            f"cluster {identifier} runs {engine} {version}, too old for Aurora Serverless v2 "
            f"(needs {'.'.join(str(p) for p in minimum)} or later in that line)"
        )
    if wants_auto_pause:
        minimum = _version_below(engine, version, _AUTO_PAUSE_MINIMUM)
        if minimum:
            return (
                f"cluster {identifier} runs {engine} {version}, too old for min_capacity 0 / auto-pause "
                f"(needs {'.'.join(str(p) for p in minimum)} or later in that line)"
            )
    return None


def key_id(key):
    """'arn:aws:kms:r:a:key/abcd' and 'abcd' -> 'abcd' (aliases stay as they are)."""
    if key and ":key/" in key:
        return key.split(":key/", 1)[1]
    return key


def master_secret_plan(cluster, kms_key_id):
    """What to do about the RDS-managed master secret of `cluster`.

    Returns (action, message): ("none", None) when the secret is managed with
    that key, ("enable", None) when the master password is not managed yet,
    ("fail", why) when it is managed with another key (AWS cannot re-encrypt
    an existing managed secret with another key).
    """
    secret = cluster.get("MasterUserSecret") or {}
    if not secret.get("SecretArn"):
        return "enable", None
    current = secret.get("KmsKeyId")
    if kms_key_id and key_id(current) != key_id(kms_key_id):
        return "fail", (
            f"the master user secret of {cluster.get('DBClusterIdentifier')} is encrypted with {current}, not "
            f"{kms_key_id}; AWS cannot change the key of an existing managed secret (turn "
            "ManageMasterUserPassword off and on again to move it to another key)"
        )
    return "none", None


# -- the cluster: its settings, compared field by field ------------------------------

# Settings AWS fixes when the cluster is created: a difference is reported
# (warning), never sent.
IMMUTABLE_SETTINGS = ("engine", "database_name", "master_username", "storage_encrypted", "kms_key_id")
# Option (snake_case) -> ModifyDBCluster parameter, for the settings sent as they are.
MODIFIABLE_SETTINGS = {
    "port": "Port",
    "vpc_security_group_ids": "VpcSecurityGroupIds",
    "backup_retention_period": "BackupRetentionPeriod",
    "deletion_protection": "DeletionProtection",
    "copy_tags_to_snapshot": "CopyTagsToSnapshot",
    "enable_iam_database_authentication": "EnableIAMDatabaseAuthentication",
}
# The rest: engine_version (upgrades only), enable_cloudwatch_logs_exports
# (CloudwatchLogsExportConfiguration), the scaling fields (one unit) and the
# managed master password.
CLUSTER_SETTINGS = (
    IMMUTABLE_SETTINGS
    + tuple(MODIFIABLE_SETTINGS)
    + ("engine_version", "enable_cloudwatch_logs_exports")
    + SCALING_FIELDS
    + ("manage_master_user_password", "master_user_secret_kms_key_id")
)
_KEY_SETTINGS = ("kms_key_id", "master_user_secret_kms_key_id")
# Options whose value is the setting as it is (lists are sorted, the rest is special).
_PLAIN_OPTIONS = (
    "engine",
    "database_name",
    "master_username",
    "kms_key_id",
    "port",
    "backup_retention_period",
    "deletion_protection",
    "copy_tags_to_snapshot",
    "enable_iam_database_authentication",
)


def cluster_settings(cluster):
    """The settings aurora_cluster_sync manages, snake_case, from a DescribeDBClusters entry."""
    secret = cluster.get("MasterUserSecret") or {}
    managed = bool(secret.get("SecretArn"))
    settings = {
        "engine": cluster.get("Engine"),
        "engine_version": cluster.get("EngineVersion"),
        "database_name": cluster.get("DatabaseName"),
        "master_username": cluster.get("MasterUsername"),
        "port": cluster.get("Port"),
        "vpc_security_group_ids": sorted(g["VpcSecurityGroupId"] for g in cluster.get("VpcSecurityGroups") or []),
        "storage_encrypted": bool(cluster.get("StorageEncrypted", False)),
        "kms_key_id": cluster.get("KmsKeyId"),
        "backup_retention_period": cluster.get("BackupRetentionPeriod"),
        "deletion_protection": bool(cluster.get("DeletionProtection", False)),
        "copy_tags_to_snapshot": bool(cluster.get("CopyTagsToSnapshot", False)),
        "enable_iam_database_authentication": bool(cluster.get("IAMDatabaseAuthenticationEnabled", False)),
        "enable_cloudwatch_logs_exports": sorted(cluster.get("EnabledCloudwatchLogsExports") or []),
        "manage_master_user_password": managed,
        "master_user_secret_kms_key_id": secret.get("KmsKeyId") if managed else None,
    }
    settings.update(current_scaling(cluster))
    return settings


def _version_newer(engine, wanted, current):
    """True when `wanted` is a later engine version than `current` (a downgrade is impossible, so never asked)."""
    if not current:
        return True
    ours, theirs = parse_engine_version(engine, wanted), parse_engine_version(engine, current)
    if ours is None or theirs is None:
        return wanted != current
    return ours > theirs


def wanted_cluster_settings(current, params):
    """`current` (cluster_settings, or {} before creation) with every given option applied.

    An option left out (None) keeps the current value: no opinion, never a
    difference. The master password is always RDS-managed.
    """
    wanted = dict(current)
    for option in _PLAIN_OPTIONS:
        if params.get(option) is not None:
            wanted[option] = params[option]
    for option in ("vpc_security_group_ids", "enable_cloudwatch_logs_exports"):
        if params.get(option) is not None:
            wanted[option] = sorted(params[option])
    wanted["storage_encrypted"] = True
    version = params.get("engine_version")
    if version and _version_newer(wanted.get("engine"), version, current.get("engine_version")):
        wanted["engine_version"] = version
    wanted.update(
        wanted_scaling(
            {field: current.get(field) for field in SCALING_FIELDS},
            params.get("min_capacity"),
            params.get("max_capacity"),
            params.get("seconds_until_auto_pause"),
        )
    )
    wanted["manage_master_user_password"] = True
    if params.get("master_user_secret_kms_key_id"):
        wanted["master_user_secret_kms_key_id"] = params["master_user_secret_kms_key_id"]
    return wanted


def _same(field, before, after):
    if field in _KEY_SETTINGS:
        return key_id(before) == key_id(after)
    if field in SCALING_FIELDS and before is not None:
        return float(before) == float(after)
    return before == after


def cluster_changes(current, wanted):
    """Field-by-field differences {field: {'before': x, 'after': y}}; a wanted None is no opinion."""
    changes = {}
    for field in CLUSTER_SETTINGS:
        after = wanted.get(field)
        if after is None:
            continue
        before = current.get(field)
        if not _same(field, before, after):
            changes[field] = {"before": before, "after": after}
    return changes


def scaling_request(wanted):
    """ServerlessV2ScalingConfiguration: min and max always together (AWS replaces the unit; the
    emulator drops MinCapacity when only MaxCapacity is sent), SecondsUntilAutoPause only with min 0."""
    config = {"MinCapacity": wanted["min_capacity"], "MaxCapacity": wanted["max_capacity"]}
    if wanted["min_capacity"] == 0 and wanted.get("seconds_until_auto_pause") is not None:
        config["SecondsUntilAutoPause"] = wanted["seconds_until_auto_pause"]
    return config


def cluster_create_request(cluster_identifier, params, subnet_group_name, tags):
    """CreateDBCluster arguments with every setting known at creation.

    The managed master password (with its key) and the Serverless v2 scaling
    are part of the create call, so a new cluster needs no ModifyDBCluster
    (each would be a `modifying` phase before an instance may join).
    """
    wanted = wanted_cluster_settings({}, params)
    request = {
        "DBClusterIdentifier": cluster_identifier,
        "Engine": params["engine"],
        "ManageMasterUserPassword": True,
        "StorageEncrypted": True,
        "ServerlessV2ScalingConfiguration": scaling_request(wanted),
    }
    optional = {
        "EngineVersion": params.get("engine_version"),
        "DatabaseName": params.get("database_name"),
        "MasterUsername": params.get("master_username"),
        "MasterUserSecretKmsKeyId": params.get("master_user_secret_kms_key_id"),
        "KmsKeyId": params.get("kms_key_id"),
        "DBSubnetGroupName": subnet_group_name,
        "EnableCloudwatchLogsExports": params.get("enable_cloudwatch_logs_exports") or None,
    }
    optional.update({api: params.get(option) for option, api in MODIFIABLE_SETTINGS.items()})
    request.update({api: value for api, value in optional.items() if value is not None})
    if tags:
        request["Tags"] = ansible_dict_to_boto3_tag_list(tags)
    return request


def cluster_modify_request(cluster_identifier, changes, wanted):
    """One ModifyDBCluster with only the differing modifiable settings (applied now), or None."""
    request = {}
    for option, api in MODIFIABLE_SETTINGS.items():
        if option in changes:
            request[api] = wanted[option]
    if "engine_version" in changes:
        request["EngineVersion"] = wanted["engine_version"]
        before = parse_engine_version(wanted.get("engine"), changes["engine_version"]["before"])
        after = parse_engine_version(wanted.get("engine"), wanted["engine_version"])
        if before and after and before[0] != after[0]:
            request["AllowMajorVersionUpgrade"] = True
    if "enable_cloudwatch_logs_exports" in changes:
        before = set(changes["enable_cloudwatch_logs_exports"]["before"] or [])
        after = set(wanted["enable_cloudwatch_logs_exports"])
        config = {"EnableLogTypes": sorted(after - before), "DisableLogTypes": sorted(before - after)}
        request["CloudwatchLogsExportConfiguration"] = {k: v for k, v in config.items() if v}
    if any(field in changes for field in SCALING_FIELDS):
        request["ServerlessV2ScalingConfiguration"] = scaling_request(wanted)
    if "manage_master_user_password" in changes:
        request["ManageMasterUserPassword"] = True
        if wanted.get("master_user_secret_kms_key_id"):
            request["MasterUserSecretKmsKeyId"] = wanted["master_user_secret_kms_key_id"]
    if not request:
        return None
    return dict(request, DBClusterIdentifier=cluster_identifier, ApplyImmediately=True)


def subnet_group_changes(group, wanted):
    """Differences of a DescribeDBSubnetGroups entry from wanted {description, subnet_ids}."""
    current = {
        "description": group.get("DBSubnetGroupDescription"),
        "subnet_ids": sorted(s["SubnetIdentifier"] for s in group.get("Subnets") or []),
    }
    changes = {}
    if wanted.get("description") is not None and wanted["description"] != current["description"]:
        changes["description"] = {"before": current["description"], "after": wanted["description"]}
    if wanted.get("subnet_ids") is not None and sorted(wanted["subnet_ids"]) != current["subnet_ids"]:
        changes["subnet_ids"] = {"before": current["subnet_ids"], "after": sorted(wanted["subnet_ids"])}
    return current, changes


# -- the instances ---------------------------------------------------------------------

# AWS's limits: promotion tiers 0-15; Performance Insights keeps 7 days (free)
# or a whole number of months (31 days) up to 2 years.
MAX_PROMOTION_TIER = 15
MONITORING_INTERVALS = (0, 1, 5, 10, 15, 30, 60)
INSTANCE_FIELDS = (
    "db_instance_class",
    "promotion_tier",
    "publicly_accessible",
    "monitoring_interval",
    "monitoring_role_arn",
    "performance_insights_enabled",
    "performance_insights_retention_period",
)


def pi_retention_problem(days):
    if days == 7 or (days % 31 == 0 and 31 <= days <= 731):
        return None
    return f"performance_insights_retention_period must be 7 or a multiple of 31 up to 731 days, got {days}"


def wanted_instance(params, index, identifier):
    """What instance number `index` (0 = the writer) of the list should be."""
    zones = params.get("availability_zones") or []
    monitoring = params["monitoring_interval"]
    insights = params["performance_insights"]
    tags = dict(params.get("tags") or {}, Name=identifier)
    return {
        "db_instance_identifier": identifier,
        "db_instance_class": params["instance_class"],
        # writer in the first zone, readers alternate
        "availability_zone": zones[index % len(zones)] if zones else None,
        # the writer is the first to take over, readers after it
        "promotion_tier": min(index, MAX_PROMOTION_TIER),
        "publicly_accessible": params["publicly_accessible"],
        "monitoring_interval": monitoring,
        "monitoring_role_arn": params.get("monitoring_role_arn") if monitoring else None,
        "performance_insights_enabled": insights,
        "performance_insights_kms_key_id": params.get("performance_insights_kms_key_id") if insights else None,
        "performance_insights_retention_period": params["performance_insights_retention_period"] if insights else None,
        "tags": tags,
    }


def instance_settings(instance):
    """The settings aurora_instances_sync manages, snake_case, from a DescribeDBInstances entry.

    performance_insights_enabled is None when the instance does not report
    its PI state (AWS always does; some emulators do not).
    """
    return {
        "db_instance_identifier": instance["DBInstanceIdentifier"],
        "db_instance_class": instance.get("DBInstanceClass"),
        "availability_zone": instance.get("AvailabilityZone"),
        "promotion_tier": instance.get("PromotionTier"),
        "publicly_accessible": instance.get("PubliclyAccessible"),
        "monitoring_interval": instance.get("MonitoringInterval", 0),
        "monitoring_role_arn": instance.get("MonitoringRoleArn"),
        "performance_insights_enabled": instance.get("PerformanceInsightsEnabled"),
        "performance_insights_kms_key_id": instance.get("PerformanceInsightsKMSKeyId"),
        "performance_insights_retention_period": instance.get("PerformanceInsightsRetentionPeriod"),
        "tags": boto3_tag_list_to_ansible_dict(instance.get("TagList") or []),
        "status": instance.get("DBInstanceStatus"),
    }


def instance_changes(current, wanted):
    """Field-by-field differences of an existing instance (tags and the zone aside).

    The zone of an existing instance cannot change in place; Performance
    Insights is compared only where the instance reports its PI state.
    """
    changes = {}
    for field in INSTANCE_FIELDS:
        after, before = wanted.get(field), current.get(field)
        if field == "monitoring_role_arn" and not wanted["monitoring_interval"]:
            continue
        if field.startswith("performance_insights") and current.get("performance_insights_enabled") is None:
            continue
        if field == "performance_insights_retention_period" and not (
            wanted["performance_insights_enabled"] and current.get("performance_insights_enabled")
        ):
            continue
        if after is not None and before != after:
            changes[field] = {"before": before, "after": after}
    return changes


def instance_create_request(cluster_identifier, engine, wanted):
    request = {
        "DBInstanceIdentifier": wanted["db_instance_identifier"],
        "DBClusterIdentifier": cluster_identifier,
        "Engine": engine,
        "DBInstanceClass": wanted["db_instance_class"],
        "PromotionTier": wanted["promotion_tier"],
        "PubliclyAccessible": wanted["publicly_accessible"],
        "MonitoringInterval": wanted["monitoring_interval"],
        "EnablePerformanceInsights": wanted["performance_insights_enabled"],
        "Tags": ansible_dict_to_boto3_tag_list(wanted["tags"]),
    }
    optional = {
        "AvailabilityZone": wanted["availability_zone"],
        "MonitoringRoleArn": wanted["monitoring_role_arn"],
        "PerformanceInsightsKMSKeyId": wanted["performance_insights_kms_key_id"],
        "PerformanceInsightsRetentionPeriod": wanted["performance_insights_retention_period"],
    }
    request.update({api: value for api, value in optional.items() if value is not None})
    return request


def instance_modify_request(changes, wanted):
    """One ModifyDBInstance with only the differing settings (applied now)."""
    request = {"DBInstanceIdentifier": wanted["db_instance_identifier"], "ApplyImmediately": True}
    simple = {
        "db_instance_class": "DBInstanceClass",
        "promotion_tier": "PromotionTier",
        "publicly_accessible": "PubliclyAccessible",
    }
    request.update({api: wanted[field] for field, api in simple.items() if field in changes})
    if "monitoring_interval" in changes or "monitoring_role_arn" in changes:
        request["MonitoringInterval"] = wanted["monitoring_interval"]
        if wanted["monitoring_interval"]:
            request["MonitoringRoleArn"] = wanted["monitoring_role_arn"]
    if "performance_insights_enabled" in changes or "performance_insights_retention_period" in changes:
        request["EnablePerformanceInsights"] = wanted["performance_insights_enabled"]
        if wanted["performance_insights_enabled"]:
            if wanted.get("performance_insights_kms_key_id"):
                request["PerformanceInsightsKMSKeyId"] = wanted["performance_insights_kms_key_id"]
            request["PerformanceInsightsRetentionPeriod"] = wanted["performance_insights_retention_period"]
    return request


def tag_changes(current, wanted, purge):
    """(tags to set, keys to remove, tags after) for compare_aws_tags; wanted None = no opinion."""
    if wanted is None:
        return {}, [], current
    to_set, to_remove = compare_aws_tags(current, wanted, purge_tags=purge)
    after = {k: v for k, v in current.items() if k not in to_remove}
    after.update(to_set)
    return to_set, to_remove, after


# AWS calls ------------------------------------------------------------------


def describe_cluster(client, cluster_identifier):
    """The cluster's description, or None when it does not exist."""
    try:
        clusters = client.describe_db_clusters(DBClusterIdentifier=cluster_identifier, aws_retry=True)["DBClusters"]
    except is_boto3_error_code("DBClusterNotFoundFault"):
        return None
    return clusters[0] if clusters else None


def describe_cluster_instances(client, cluster_identifier):
    """Every instance of the cluster (tags included), one DescribeDBInstances per 100."""
    instances, params = [], {"Filters": [{"Name": "db-cluster-id", "Values": [cluster_identifier]}]}
    while True:
        page = client.describe_db_instances(aws_retry=True, **params)
        instances.extend(page.get("DBInstances", []))
        if not page.get("Marker"):
            return instances
        params["Marker"] = page["Marker"]


def describe_subnet_group(client, name):
    """The DB subnet group's description, or None when it does not exist."""
    try:
        groups = client.describe_db_subnet_groups(DBSubnetGroupName=name, aws_retry=True)["DBSubnetGroups"]
    except is_boto3_error_code("DBSubnetGroupNotFoundFault"):
        return None
    return groups[0] if groups else None


def list_tags(client, arn):
    return boto3_tag_list_to_ansible_dict(client.list_tags_for_resource(ResourceName=arn, aws_retry=True)["TagList"])


def apply_tags(client, arn, to_set, to_remove):
    if to_remove:
        client.remove_tags_from_resource(ResourceName=arn, TagKeys=list(to_remove), aws_retry=True)
    if to_set:
        client.add_tags_to_resource(ResourceName=arn, Tags=ansible_dict_to_boto3_tag_list(to_set), aws_retry=True)


def poll(module, read, settled, timeout, delay, what):
    """Call read() every `delay` s until settled(value); fail the module after `timeout` s.

    `what` names the wait in the timeout message; read() failing with an AWS
    error fails the module too.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = read()
        except AWS_ERRORS as e:
            module.fail_json_aws(e, msg=f"Failed to describe {what}")
        if settled(value):
            return value
        if time.monotonic() + delay > deadline:
            module.fail_json(
                msg=f"Timed out after {timeout} s waiting for {what}; raise wait_timeout or check the RDS events"
            )
        time.sleep(delay)


def wait_for_cluster(module, client, cluster_identifier, timeout, delay, gone=False):
    """Wait until the cluster is `available` (or, with gone, no longer exists); return its description."""
    status = f"DB cluster {cluster_identifier} to be {'deleted' if gone else 'available'}"

    def settled(cluster):
        if gone:
            return cluster is None
        if cluster is None:
            module.fail_json(msg=f"DB cluster {cluster_identifier} disappeared while waiting for it to be available")
        return cluster.get("Status") == "available"

    return poll(module, lambda: describe_cluster(client, cluster_identifier), settled, timeout, delay, status)
