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
module: kms_pipeline_key
short_description: A symmetric customer managed KMS key with its alias, policy, rotation and tags
version_added: 1.0.0
description:
  - Converges one symmetric encryption key named by O(alias) (C(state=present)) or retires it
    (C(state=absent)).
  - "Finding the key: one C(DescribeKey) on the alias name. When the alias does not exist (or
    points to a key pending deletion), the key is looked for by its tags among the account's keys
    that have no alias: a key whose tags hold the O(identity_tag_keys) with the values in O(tags)
    is adopted instead of creating a second one. A run killed between C(CreateKey) and
    C(CreateAlias) thus leaves a tagged key that the next run adopts and only gives the alias.
    Keys pending deletion are never adopted."
  - A new key gets its description, policy and tags in the C(CreateKey) call (no untagged
    orphan), then rotation and the alias.
  - On an existing key only what differs is written; the key policy is compared as parsed JSON
    (statement and list order, single values against one-element lists), not as text.
  - With O(state=absent) the key is scheduled for deletion after O(pending_window) days and its
    alias deleted (a later deploy creates a new key instead of reviving the retired one).
    A key already pending deletion only loses its alias; a missing alias with no tagged key
    left is no change. When the alias is missing, keys found by their tags (orphans of a
    killed deploy) are retired.
  - Every call names the key by its key ID (AWS also accepts the ARN, the local emulator does not
    in every call).
author:
  - StreamFlix Platform Engineering (@streamflix)
options:
  alias:
    description: The key's alias, with or without the C(alias/) prefix.
    required: true
    type: str
  state:
    description: Whether the key should exist (C(absent) schedules its deletion).
    type: str
    choices: [present, absent]
    default: present
  description:
    description: The key's description. Left as it is when not given.
    type: str
  policy:
    description:
      - The key policy (a dict or a JSON string). Left as it is when not given; a new key then
        gets the AWS default policy.
    type: json
  enabled:
    description: Whether the key is enabled.
    type: bool
    default: true
  enable_key_rotation:
    description: Whether automatic yearly rotation of the key material is on.
    type: bool
    default: true
  identity_tag_keys:
    description:
      - Keys of O(tags) whose values identify the key when its alias is missing (adoption after a
        killed run, retirement of orphans). Every one must be in O(tags); use a tag whose value is
        unique to this key (for example C(Name) set to the alias name).
      - An empty list turns the search by tags off.
    type: list
    elements: str
    default: [Name, Environment, Component]
  pending_window:
    description: With O(state=absent), days until KMS really deletes the key (7 to 30).
    type: int
    default: 30
notes:
  - Supports check mode and diff mode. In check mode a key that would be created has an empty
    RV(key_id) and RV(key_arn).
  - "Reads on a run that changes nothing: C(DescribeKey) (by alias), C(GetKeyPolicy) (when
    O(policy) is given), C(GetKeyRotationStatus), C(ListResourceTags) (when O(tags) is given)."
  - The search by tags costs C(ListAliases), C(ListKeys) and one C(ListResourceTags) per key
    without alias (plus C(DescribeKey) per match), keys pending deletion included; it only runs
    when the alias is missing (a first deploy, a run after a kill, a second teardown).
  - Cancel a deletion within the window with C(aws kms cancel-key-deletion --key-id ID) (the key
    ID is in RV(key_id)); the alias then has to be re-created.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: The pipeline key
  streamflix.video_pipeline.kms_pipeline_key:
    alias: alias/video-processing-dev
    description: Video processing pipeline dev
    policy: "{{ key_policy | to_json }}"
    tags:
      Name: alias/video-processing-dev
      Environment: dev
      Component: streaming
  register: key

- name: Retire it (deletion in 7 days, alias deleted now)
  streamflix.video_pipeline.kms_pipeline_key:
    alias: alias/video-processing-dev
    state: absent
    pending_window: 7
    tags:
      Name: alias/video-processing-dev
      Environment: dev
      Component: streaming
"""

RETURN = r"""
alias:
  description: The alias, with the C(alias/) prefix.
  returned: always
  type: str
  sample: alias/video-processing-dev
key_id:
  description: ID of the key (empty when there is none, or in check mode before its creation).
  returned: always
  type: str
  sample: 1234abcd-12ab-34cd-56ef-1234567890ab
key_arn:
  description: ARN of the key (empty when there is none, or in check mode before its creation).
  returned: always
  type: str
  sample: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
key_state:
  description: State of the key after the run (empty when there is none).
  returned: always
  type: str
  sample: Enabled
adopted:
  description: Whether the key was found by its tags instead of its alias (the alias was then created).
  returned: state=present
  type: bool
  sample: false
retired_key_ids:
  description: IDs of the keys scheduled for deletion by this run (or that would be, in check mode).
  returned: state=absent
  type: list
  elements: str
  sample: [1234abcd-12ab-34cd-56ef-1234567890ab]
deletion_date:
  description: When KMS deletes the key (ISO 8601), if known.
  returned: state=absent and the key is pending deletion
  type: str
  sample: "2026-12-03T10:00:00+00:00"
"""

import json

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)
from ansible_collections.streamflix.video_pipeline.plugins.module_utils.errors import AWS_ERRORS

# A key in one of these states is on its way out: never adopted, never scheduled again.
RETIRING_STATES = ("PendingDeletion", "PendingReplicaDeletion")
# What this module creates; a tagged key of another kind is not ours to adopt.
SYMMETRIC = dict(KeySpec="SYMMETRIC_DEFAULT", KeyUsage="ENCRYPT_DECRYPT")


def canonical_alias(alias):
    return alias if alias.startswith("alias/") else "alias/" + alias


def kms_tags_to_dict(tag_list):
    return boto3_tag_list_to_ansible_dict(tag_list, "TagKey", "TagValue")


def dict_to_kms_tags(tags):
    return ansible_dict_to_boto3_tag_list(tags, "TagKey", "TagValue")


def parse_policy(policy):
    """The policy option (JSON text) as a dict, None when not given."""
    return json.loads(policy) if policy else None


def adoptable(metadata):
    """Whether a key found by its tags may become the pipeline key."""
    return (
        metadata.get("KeyManager") == "CUSTOMER"
        and metadata.get("KeyState") in ("Enabled", "Disabled")
        # a SYMMETRIC_DEFAULT key is always ENCRYPT_DECRYPT (the emulator omits KeyUsage)
        and metadata.get("KeySpec", metadata.get("CustomerMasterKeySpec")) == SYMMETRIC["KeySpec"]
        and metadata.get("Origin", "AWS_KMS") == "AWS_KMS"
    )


def identity_of(tags, identity_tag_keys):
    """The tags that identify the key; {} (no search by tags) without tags or identity keys."""
    if not tags or not identity_tag_keys:
        return {}
    return dict((k, tags[k]) for k in identity_tag_keys)


def tags_match(tags, identity):
    return bool(identity) and all(tags.get(k) == v for k, v in identity.items())


def settings_diff(current, params, wanted_policy):
    """What differs between the key as read and the wanted settings (pure: no AWS call).

    current: dict(description, enabled, rotation, policy, tags) as read.
    Returns dict with the keys that need a write: description, enabled, rotation, policy,
    tags_to_set, tags_to_unset.
    """
    changes = {}
    if params["description"] is not None and current["description"] != params["description"]:
        changes["description"] = params["description"]
    if current["enabled"] != params["enabled"]:
        changes["enabled"] = params["enabled"]
    if current["rotation"] != params["enable_key_rotation"]:
        changes["rotation"] = params["enable_key_rotation"]
    if wanted_policy is not None and (current["policy"] is None or compare_policies(current["policy"], wanted_policy)):
        changes["policy"] = wanted_policy
    if params["tags"] is not None:
        to_set, to_unset = compare_aws_tags(current["tags"], params["tags"], purge_tags=params["purge_tags"])
        if to_set:
            changes["tags_to_set"] = to_set
        if to_unset:
            changes["tags_to_unset"] = to_unset
    return changes


def view(settings):
    """The settings as diff mode shows them."""
    return dict(
        (k, settings[k])
        for k in ("alias", "key_id", "description", "enabled", "rotation", "policy", "tags")
        if k in settings
    )


# AWS calls


class KeyStore:
    """The KMS calls of this module, each failing the module with what it was doing."""

    def __init__(self, client, module):
        self.client = client
        self.module = module

    def call(self, what, method, **kwargs):
        try:
            return getattr(self.client, method)(aws_retry=True, **kwargs)
        except AWS_ERRORS as e:
            self.module.fail_json_aws(e, msg="Could not {0}".format(what))

    def describe(self, key):
        """KeyMetadata of the key named by alias or ID, None when it does not exist."""
        try:
            return self.client.describe_key(KeyId=key, aws_retry=True)["KeyMetadata"]
        except is_boto3_error_code("NotFoundException"):
            return None
        except AWS_ERRORS as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e, msg="Could not describe the key {0}".format(key))

    def tags(self, key_id):
        tags, marker = [], None
        while True:
            kwargs = dict(KeyId=key_id, Limit=50)
            if marker:
                kwargs["Marker"] = marker
            page = self.call("list the tags of key {0}".format(key_id), "list_resource_tags", **kwargs)
            tags.extend(page.get("Tags", []))
            marker = page.get("NextMarker") if page.get("Truncated") else None
            if not marker:
                return kms_tags_to_dict(tags)

    def tags_if_readable(self, key_id):
        """Tags of a key found by ListKeys, None when it vanished or is not ours to read."""
        try:
            page = self.client.list_resource_tags(KeyId=key_id, Limit=50, aws_retry=True)
        except is_boto3_error_code(["NotFoundException", "AccessDeniedException"]):
            return None
        except AWS_ERRORS as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e, msg="Could not list the tags of key {0}".format(key_id))
        if page.get("Truncated"):
            return self.tags(key_id)
        return kms_tags_to_dict(page.get("Tags", []))

    def policy(self, key_id):
        text = self.call(
            "read the policy of key {0}".format(key_id), "get_key_policy", KeyId=key_id, PolicyName="default"
        )["Policy"]
        return json.loads(text)

    def rotation(self, key_id):
        return self.call("read the rotation status of key {0}".format(key_id), "get_key_rotation_status", KeyId=key_id)[
            "KeyRotationEnabled"
        ]

    def paginate(self, what, method):
        """Every page of a List call, retried as a whole on throttling."""

        @AWSRetry.jittered_backoff(retries=10)
        def all_pages():
            return self.client.get_paginator(method).paginate(PaginationConfig=dict(PageSize=100)).build_full_result()

        try:
            return all_pages()
        except AWS_ERRORS as e:
            self.module.fail_json_aws(e, msg="Could not {0}".format(what))

    def find_by_tags(self, identity):
        """KeyMetadata of the keys without alias whose tags hold `identity`, oldest first.

        Keys pending deletion are left out (never adopted, never retired twice).
        """
        if not identity:
            return []
        aliased = set(
            a["TargetKeyId"]
            for a in self.paginate("list the KMS aliases", "list_aliases").get("Aliases", [])
            if a.get("TargetKeyId")
        )
        found = []
        for key in self.paginate("list the KMS keys", "list_keys").get("Keys", []):
            if key["KeyId"] in aliased:
                continue
            tags = self.tags_if_readable(key["KeyId"])
            if tags is None or not tags_match(tags, identity):
                continue
            metadata = self.describe(key["KeyId"])
            if metadata and metadata.get("KeyState") not in RETIRING_STATES:
                found.append(metadata)
        return sorted(found, key=lambda m: str(m.get("CreationDate", "")))


def read_settings(store, metadata, params):
    """The key's current settings, reading only what the module is asked to manage."""
    key_id = metadata["KeyId"]
    return dict(
        key_id=key_id,
        description=metadata.get("Description", ""),
        enabled=metadata.get("KeyState") == "Enabled",
        rotation=store.rotation(key_id),
        policy=store.policy(key_id) if params["policy"] else None,
        tags=store.tags(key_id) if params["tags"] is not None else {},
    )


def apply_settings(store, key_id, changes):
    """Write what settings_diff found different. Order: the key must be enabled to change its rotation."""
    if changes.get("enabled") is True:
        store.call("enable key {0}".format(key_id), "enable_key", KeyId=key_id)
    if "description" in changes:
        store.call(
            "update the description of key {0}".format(key_id),
            "update_key_description",
            KeyId=key_id,
            Description=changes["description"],
        )
    if "policy" in changes:
        store.call(
            "put the policy of key {0}".format(key_id),
            "put_key_policy",
            KeyId=key_id,
            PolicyName="default",
            Policy=json.dumps(changes["policy"]),
        )
    if "tags_to_unset" in changes:
        store.call("untag key {0}".format(key_id), "untag_resource", KeyId=key_id, TagKeys=changes["tags_to_unset"])
    if "tags_to_set" in changes:
        store.call(
            "tag key {0}".format(key_id), "tag_resource", KeyId=key_id, Tags=dict_to_kms_tags(changes["tags_to_set"])
        )
    if "rotation" in changes:
        method = "enable_key_rotation" if changes["rotation"] else "disable_key_rotation"
        store.call("change the rotation of key {0}".format(key_id), method, KeyId=key_id)
    if changes.get("enabled") is False:
        store.call("disable key {0}".format(key_id), "disable_key", KeyId=key_id)


def wanted_view(params, alias, key_id, current, wanted_policy):
    tags = current.get("tags", {}) if params["tags"] is None else params["tags"]
    if params["tags"] is not None and not params["purge_tags"]:
        tags = dict(current.get("tags", {}), **params["tags"])
    return dict(
        alias=alias,
        key_id=key_id,
        description=current.get("description", "") if params["description"] is None else params["description"],
        enabled=params["enabled"],
        rotation=params["enable_key_rotation"],
        policy=current.get("policy") if wanted_policy is None else wanted_policy,
        tags=tags,
    )


def create(store, module, params, alias, alias_exists, wanted_policy):
    after = wanted_view(params, alias, "", {}, wanted_policy)
    result = dict(changed=True, alias=alias, key_id="", key_arn="", key_state="", adopted=False)
    result["diff"] = dict(before={}, after=after)
    if module.check_mode:
        return result
    request = dict(SYMMETRIC)
    if params["description"] is not None:
        request["Description"] = params["description"]
    if wanted_policy is not None:
        request["Policy"] = json.dumps(wanted_policy)
    if params["tags"]:
        request["Tags"] = dict_to_kms_tags(params["tags"])
    metadata = store.call("create the key for {0}".format(alias), "create_key", **request)["KeyMetadata"]
    key_id = metadata["KeyId"]
    # A new key is enabled, without rotation. The alias comes last, so that an aliased
    # key is always a finished one (a killed run's key is found again by its tags).
    if params["enable_key_rotation"]:
        store.call("enable the rotation of key {0}".format(key_id), "enable_key_rotation", KeyId=key_id)
    if not params["enabled"]:
        store.call("disable key {0}".format(key_id), "disable_key", KeyId=key_id)
    point_alias(store, alias, key_id, alias_exists)
    after["key_id"] = key_id
    result.update(key_id=key_id, key_arn=metadata["Arn"], key_state="Enabled" if params["enabled"] else "Disabled")
    return result


def point_alias(store, alias, key_id, alias_exists):
    if alias_exists:
        # the alias still names a key pending deletion: move it to the live key
        store.call("point {0} to key {1}".format(alias, key_id), "update_alias", AliasName=alias, TargetKeyId=key_id)
    else:
        store.call("create the alias {0}".format(alias), "create_alias", AliasName=alias, TargetKeyId=key_id)


def ensure_present(store, module, params):
    alias = canonical_alias(params["alias"])
    wanted_policy = parse_policy(params["policy"])
    metadata = store.describe(alias)
    alias_exists = metadata is not None
    adopted = False
    if metadata is not None and metadata.get("KeyState") in RETIRING_STATES:
        metadata = None  # never revive a key on its way out
    if metadata is not None and not adoptable(metadata):
        module.fail_json(
            msg="{0} names key {1} ({2}, {3}, {4}), not a symmetric customer managed key this module can manage".format(
                alias, metadata["KeyId"], metadata.get("KeyManager"), metadata.get("KeySpec"), metadata.get("KeyState")
            )
        )
    if metadata is None:
        found = store.find_by_tags(identity_of(params["tags"] or {}, params["identity_tag_keys"]))
        found = [m for m in found if adoptable(m)]
        if not found:
            return create(store, module, params, alias, alias_exists, wanted_policy)
        metadata, adopted = found[0], True
        if len(found) > 1:
            module.warn(
                "Several keys carry the tags of {0}: adopting the oldest, {1}; retire the others ({2})".format(
                    alias, metadata["KeyId"], ", ".join(m["KeyId"] for m in found[1:])
                )
            )

    key_id = metadata["KeyId"]
    current = read_settings(store, metadata, params)
    changes = settings_diff(current, params, wanted_policy)
    before = dict(current, alias=alias if not adopted else "")
    after = wanted_view(params, alias, key_id, current, wanted_policy)
    if not module.check_mode:
        apply_settings(store, key_id, changes)
        if adopted:
            point_alias(store, alias, key_id, alias_exists)
    return dict(
        changed=bool(changes) or adopted,
        alias=alias,
        key_id=key_id,
        key_arn=metadata["Arn"],
        key_state="Enabled" if params["enabled"] else "Disabled",
        adopted=adopted,
        diff=dict(before=view(before), after=view(after)),
    )


def schedule_deletion(store, key_id, pending_window):
    response = store.call(
        "schedule the deletion of key {0}".format(key_id),
        "schedule_key_deletion",
        KeyId=key_id,
        PendingWindowInDays=pending_window,
    )
    when = response.get("DeletionDate")
    return when.isoformat() if hasattr(when, "isoformat") else None


def ensure_absent(store, module, params):
    alias = canonical_alias(params["alias"])
    metadata = store.describe(alias)
    to_retire, deletion_date = [], None
    if metadata is None:
        # No alias: a deploy killed before CreateAlias may have left a tagged key (or the
        # key is retired already, and the search finds nothing but keys pending deletion).
        to_retire = store.find_by_tags(identity_of(params["tags"] or {}, params["identity_tag_keys"]))
    elif metadata.get("KeyState") in RETIRING_STATES:
        when = metadata.get("DeletionDate")
        deletion_date = when.isoformat() if hasattr(when, "isoformat") else None
    else:
        to_retire = [metadata]
    retired_ids = [m["KeyId"] for m in to_retire]
    first = metadata or (to_retire[0] if to_retire else None)
    result = dict(
        changed=bool(retired_ids) or metadata is not None,
        alias=alias,
        key_id=first["KeyId"] if first else "",
        key_arn=first["Arn"] if first else "",
        key_state="PendingDeletion" if first else "",
        retired_key_ids=retired_ids,
        diff=dict(
            before=dict(alias=alias if metadata else "", keys=dict((m["KeyId"], m["KeyState"]) for m in to_retire)),
            after=dict(alias="", keys=dict((k, "PendingDeletion") for k in retired_ids)),
        ),
    )
    if not module.check_mode:
        for key_id in retired_ids:
            deletion_date = schedule_deletion(store, key_id, params["pending_window"]) or deletion_date
        if metadata is not None:
            try:
                store.client.delete_alias(AliasName=alias, aws_retry=True)
            except is_boto3_error_code("NotFoundException"):
                pass  # deleted by someone else in the meantime: the wanted end state
            except AWS_ERRORS as e:  # pylint: disable=duplicate-except
                module.fail_json_aws(e, msg="Could not delete the alias {0}".format(alias))
    if deletion_date:
        result["deletion_date"] = deletion_date
    return result


def validate(module):
    """Input problems, found before any AWS call."""
    params = module.params
    if not 7 <= params["pending_window"] <= 30:
        module.fail_json(msg="pending_window must be from 7 to 30 days (got {0})".format(params["pending_window"]))
    alias = canonical_alias(params["alias"])
    if alias.startswith("alias/aws/"):
        module.fail_json(msg="{0} is reserved for AWS managed keys".format(alias))
    missing = [k for k in params["identity_tag_keys"] if k not in (params["tags"] or {})]
    if missing and params["tags"] is not None:
        module.fail_json(msg="identity_tag_keys names {0}, which tags does not give".format(", ".join(missing)))
    if params["policy"]:
        try:
            parse_policy(params["policy"])
        except ValueError as e:
            module.fail_json(msg="policy is not valid JSON: {0}".format(e))


def main():
    argument_spec = dict(
        alias=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        description=dict(type="str"),
        policy=dict(type="json"),
        enabled=dict(type="bool", default=True),
        enable_key_rotation=dict(type="bool", default=True),
        identity_tag_keys=dict(type="list", elements="str", default=["Name", "Environment", "Component"], no_log=False),
        pending_window=dict(type="int", default=30),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    validate(module)
    store = KeyStore(module.client("kms", retry_decorator=AWSRetry.jittered_backoff(retries=10)), module)
    if module.params["state"] == "present":
        module.exit_json(**ensure_present(store, module, module.params))
    module.exit_json(**ensure_absent(store, module, module.params))


if __name__ == "__main__":
    main()
