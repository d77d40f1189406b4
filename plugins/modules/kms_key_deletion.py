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
module: kms_key_deletion
short_description: Retire a customer managed KMS key found by its alias
version_added: 1.0.0
description:
  - Finds the key behind O(alias), schedules it for deletion after O(pending_window)
    days (unless it is already pending deletion) and deletes the alias.
  - C(amazon.aws.kms_key) with C(state=absent) schedules the deletion but keeps the
    alias, so a later deploy would find (and revive) the retired key instead of
    creating a new one, and a sweep for the env still finds the alias.
  - The key is named by its key ID in every call (AWS accepts the ARN too; the local
    emulator does not).
  - Idempotent. A missing alias means the key is retired already (changed=false).
    If an earlier run scheduled the deletion but died before the alias was deleted,
    only the alias is deleted.
author:
  - StreamFlix Platform Engineering (@streamflix)
options:
  alias:
    description: The key's alias, with or without the C(alias/) prefix.
    required: true
    type: str
  pending_window:
    description: Days until KMS really deletes the key (7 to 30).
    default: 7
    type: int
notes:
  - Supports check mode and diff mode.
  - Cancel a deletion within the window with C(aws kms cancel-key-deletion --key-id ID)
    (the key ID is in the RV(key_id) result and in CloudTrail); the alias then has to be
    re-created.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Retire the pipeline key
  streamflix.video_pipeline.kms_key_deletion:
    alias: alias/video-processing-dev
    pending_window: 7
"""

RETURN = r"""
alias:
  description: The alias (with the C(alias/) prefix).
  returned: always
  type: str
  sample: alias/video-processing-dev
key_id:
  description: ID of the key the alias pointed to (empty when the alias did not exist).
  returned: always
  type: str
  sample: 1234abcd-12ab-34cd-56ef-1234567890ab
key_state:
  description: State of the key after the run (empty when the alias did not exist).
  returned: always
  type: str
  sample: PendingDeletion
deletion_date:
  description: When KMS deletes the key (ISO 8601), if known.
  returned: when the key is pending deletion
  type: str
  sample: "2026-12-03T10:00:00+00:00"
"""

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.streamflix.video_pipeline.plugins.module_utils.errors import AWS_ERRORS


def canonical_alias(alias):
    return alias if alias.startswith("alias/") else "alias/" + alias


def find_key(client, module, alias):
    """(key_id, key_state, deletion_date) of the key behind alias, or None when the alias does not exist."""
    try:
        metadata = client.describe_key(KeyId=alias, aws_retry=True)["KeyMetadata"]
    except is_boto3_error_code("NotFoundException"):
        return None
    except AWS_ERRORS as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Could not describe the key behind {0}".format(alias))
    deletion_date = metadata.get("DeletionDate")
    return metadata["KeyId"], metadata["KeyState"], deletion_date.isoformat() if deletion_date else None


def retire(client, module, alias, pending_window):
    found = find_key(client, module, alias)
    if found is None:
        return dict(changed=False, alias=alias, key_id="", key_state="", diff=dict(before={}, after={}))
    key_id, state, deletion_date = found
    before = {"alias": alias, "key_id": key_id, "key_state": state}
    after = {"key_id": key_id, "key_state": "PendingDeletion"}
    if not module.check_mode:
        if state != "PendingDeletion":
            try:
                response = client.schedule_key_deletion(
                    KeyId=key_id, PendingWindowInDays=pending_window, aws_retry=True
                )
            except AWS_ERRORS as e:
                module.fail_json_aws(e, msg="Could not schedule the deletion of key {0}".format(key_id))
            when = response.get("DeletionDate")
            deletion_date = when.isoformat() if hasattr(when, "isoformat") else deletion_date
        try:
            client.delete_alias(AliasName=alias, aws_retry=True)
        except is_boto3_error_code("NotFoundException"):
            pass  # deleted by someone else in the meantime: the wanted end state
        except AWS_ERRORS as e:  # pylint: disable=duplicate-except
            module.fail_json_aws(e, msg="Could not delete the alias {0}".format(alias))
    result = dict(
        changed=True,
        alias=alias,
        key_id=key_id,
        key_state="PendingDeletion",
        diff=dict(before=before, after=after),
    )
    if deletion_date:
        result["deletion_date"] = deletion_date
    return result


def main():
    argument_spec = dict(
        alias=dict(type="str", required=True),
        pending_window=dict(type="int", default=7),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    pending_window = module.params["pending_window"]
    if not 7 <= pending_window <= 30:
        module.fail_json(msg="pending_window must be from 7 to 30 days (got {0})".format(pending_window))
    client = module.client("kms", retry_decorator=AWSRetry.jittered_backoff(retries=10))
    module.exit_json(**retire(client, module, canonical_alias(module.params["alias"]), pending_window))


if __name__ == "__main__":
    main()
