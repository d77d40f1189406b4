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

try:  # noqa: SIM105 - the Ansible idiom; AnsibleAWSModule reports a missing botocore
    import botocore
except ImportError:
    pass

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code

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


def build_modify_request(cluster_identifier, wanted):
    """ModifyDBCluster arguments for a scaling change.

    The scaling configuration is replaced as a unit by ModifyDBCluster (the
    emulator drops MinCapacity when only MaxCapacity is sent), so min and max
    always travel together; SecondsUntilAutoPause only when the minimum is 0
    (AWS refuses it otherwise).
    """
    config = {"MinCapacity": wanted["min_capacity"], "MaxCapacity": wanted["max_capacity"]}
    if wanted["min_capacity"] == 0 and wanted.get("seconds_until_auto_pause") is not None:
        config["SecondsUntilAutoPause"] = wanted["seconds_until_auto_pause"]
    return {
        "DBClusterIdentifier": cluster_identifier,
        "ServerlessV2ScalingConfiguration": config,
        "ApplyImmediately": True,
    }


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


# AWS calls ------------------------------------------------------------------


def describe_cluster(client, cluster_identifier):
    """The cluster's description, or None when it does not exist."""
    try:
        clusters = client.describe_db_clusters(DBClusterIdentifier=cluster_identifier, aws_retry=True)["DBClusters"]
    except is_boto3_error_code("DBClusterNotFoundFault"):
        return None
    return clusters[0] if clusters else None


def describe_cluster_or_fail(module, client, cluster_identifier, doing=""):
    """describe_cluster, failing the module (fail_json_aws) on an AWS error; `doing` ends the message."""
    try:
        return describe_cluster(client, cluster_identifier)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to describe DB cluster {cluster_identifier}{doing}")


def wait_for_available(module, client, cluster_identifier, timeout, delay=10, wanted=None):
    """Poll until the cluster's Status is 'available'; fail the module after timeout.

    With `wanted` (a scaling dict) it also waits until the description shows
    that scaling: right after ModifyDBCluster real AWS may still say
    'available' for a moment before it switches to 'modifying', so status
    alone could end the wait too early.
    """
    deadline = time.monotonic() + timeout
    while True:
        cluster = describe_cluster_or_fail(module, client, cluster_identifier, " while waiting")
        if cluster is None:
            module.fail_json(msg=f"DB cluster {cluster_identifier} disappeared while waiting for it to be available")
        if cluster.get("Status") == "available" and not (wanted and compute_changes(current_scaling(cluster), wanted)):
            return cluster
        if time.monotonic() + delay > deadline:
            module.fail_json(
                msg=(
                    f"Timed out after {timeout} s waiting for DB cluster {cluster_identifier} to be available "
                    f"(status {cluster.get('Status')}); raise wait_timeout or check the cluster's events"
                ),
                cluster_identifier=cluster_identifier,
                status=cluster.get("Status"),
            )
        time.sleep(delay)


def _key_id(key):
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
    if kms_key_id and _key_id(current) != _key_id(kms_key_id):
        return "fail", (
            f"the master user secret of {cluster.get('DBClusterIdentifier')} is encrypted with {current}, not "
            f"{kms_key_id}; AWS cannot change the key of an existing managed secret (turn "
            "ManageMasterUserPassword off and on again to move it to another key)"
        )
    return "none", None


def master_secret_result(cluster):
    secret = cluster.get("MasterUserSecret") or {}
    return {
        "secret_arn": secret.get("SecretArn"),
        "secret_status": secret.get("SecretStatus"),
        "kms_key_id": secret.get("KmsKeyId"),
    }
