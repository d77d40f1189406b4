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
module: secretsmanager_secrets
short_description: Converge a list of Secrets Manager secrets (metadata, resource policy, tags, JSON value) in one call
version_added: 1.0.0
description:
  - Brings every secret of O(secrets) to what is given (description, KMS key, resource
    policy, tags, JSON value) and writes only the fields that differ.
  - "Reads per existing secret: C(DescribeSecret) (description, KMS key, tags, deletion
    state), C(GetResourcePolicy) when O(secrets[].resource_policy) is given, and
    C(GetSecretValue) only when the value is managed (O(secrets[].overwrite=true))."
  - The resource policy is compared as parsed JSON (key order, statement order, single
    values vs. one-element lists and whitespace do not count; Secrets Manager returns the
    policy re-formatted) and put with C(PutResourcePolicy).
  - The value is compared as parsed JSON too; a new version is put (C(PutSecretValue), or
    C(UpdateSecret) together with a description or KMS key change) only when it differs.
    With O(secrets[].overwrite=false) the value is stored only when the secret is created
    and never read or replaced afterwards (for example a generated API key a re-run must keep).
  - A secret scheduled for deletion (still within its recovery window) is restored
    (C(RestoreSecret)) and then converged, so a re-deploy after a teardown with a recovery
    window gets the same secret (and value) back.
  - With O(state=absent) every secret is deleted; one that is gone or already scheduled for
    deletion is left alone.
  - No secret value is ever returned. Diff mode shows the state of each secret and, before
    and after, the fields that change; the value only as V(not shown),
    V(changed, not shown) or V(set, not shown).
author:
  - StreamFlix Platform Engineering (@streamflix)
options:
  secrets:
    description: The secrets, each converged independently (a name may appear only once).
    required: true
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the secret.
        required: true
        type: str
      description:
        description: Description of the secret. Left as it is when not given.
        type: str
      kms_key_id:
        description:
          - ARN or id of the KMS key that encrypts the secret. Left as it is when not given
            (a new secret then uses C(aws/secretsmanager)).
          - A key ARN and its key id count as the same key; an alias does not match a key id.
        type: str
      resource_policy:
        description: The resource policy (a dict or a JSON string). Left as it is when not given.
        type: json
      tags:
        description: Tags of the secret. Left as they are when not given.
        type: dict
      value:
        description:
          - The secret's value as JSON (a dict or a JSON string). Required with O(state=present).
          - "Give it as a JSON string (for example C({{ value | to_json }})): Ansible hides
            every string of a C(no_log) option in the module's results, so the parts of a dict
            (a port number, a user name) would be masked wherever they appear, even inside an ARN."
        type: json
      overwrite:
        description:
          - V(true) keeps the stored value equal to O(secrets[].value).
          - V(false) stores O(secrets[].value) only when the secret is created; an existing
            value is never read nor replaced.
        type: bool
        default: true
  state:
    description: V(present) creates, restores and updates the secrets; V(absent) deletes them.
    choices: [present, absent]
    default: present
    type: str
  purge_tags:
    description: Remove tags that are not in O(secrets[].tags) (only for secrets whose tags are given).
    type: bool
    default: true
  block_public_policy:
    description: Ask Secrets Manager to refuse a resource policy that grants broad (public) access.
    type: bool
    default: true
  recovery_window:
    description:
      - Days a deleted secret can still be restored (O(state=absent)), 7 to 30;
        V(0) deletes at once without recovery (C(ForceDeleteWithoutRecovery)).
    type: int
    default: 30
notes:
  - Supports check mode and diff mode. In check mode nothing is written; a secret scheduled
    for deletion is reported as restored without reading its policy and value (AWS refuses
    those reads until it is restored).
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Connection data (kept equal) and a generated API key (kept once created)
  streamflix.video_pipeline.secretsmanager_secrets:
    secrets:
      - name: video-processing-db-credentials-dev
        description: Aurora connection data
        kms_key_id: "{{ key_arn }}"
        resource_policy: "{{ policy | to_json }}"
        tags: {Environment: dev}
        value: "{{ connection | to_json }}"
      - name: video-processing-api-keys-dev
        kms_key_id: "{{ key_arn }}"
        resource_policy: "{{ policy | to_json }}"
        tags: {Environment: dev}
        value: "{{ {'api_key': lookup('ansible.builtin.password', '/dev/null', length=48)} | to_json }}"
        overwrite: false
  no_log: true
  register: pipeline_secrets

- name: Delete them at once
  streamflix.video_pipeline.secretsmanager_secrets:
    state: absent
    recovery_window: 0
    secrets:
      - name: video-processing-db-credentials-dev
      - name: video-processing-api-keys-dev
"""

RETURN = r"""
secrets:
  description:
    - Per secret name, its ARN (empty for a secret that does not exist, or that check mode
      would create), its state after the run (V(present), V(absent) or
      V(scheduled for deletion)) and the names of the fields the run changed
      (V(created), V(restored), V(description), V(kms_key_id), V(value), V(tags),
      V(resource_policy), V(deleted)). Never a value.
  returned: always
  type: dict
  sample:
    video-processing-api-keys-dev:
      arn: arn:aws:secretsmanager:us-east-1:123456789012:secret:video-processing-api-keys-dev-AbCdEf
      state: present
      changes: [tags]
"""

import json

from ansible_collections.amazon.aws.plugins.module_utils.arn import parse_aws_arn
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

# What diff mode shows for a value: never the value itself.
VALUE_HIDDEN = "not shown"
VALUE_CHANGED = "changed, not shown"
PENDING_DELETION = "scheduled for deletion"
TRANSIENT_ERRORS = ("ThrottlingException", "InternalServiceError")


def validate(params):
    """(problems, secrets with resource_policy and value parsed): checked before any AWS call."""
    problems, secrets, seen = [], [], set()
    for index, secret in enumerate(params["secrets"]):
        name = secret["name"]
        label = name or "secrets[{0}]".format(index)
        if not name:
            problems.append("secrets[{0}].name is empty".format(index))
        elif name in seen:
            problems.append("{0} is listed twice".format(name))
        seen.add(name)
        parsed = dict(secret)
        for field in ("resource_policy", "value"):
            if secret[field] is None:
                continue
            try:
                parsed[field] = json.loads(secret[field])
            except ValueError as e:
                # the decoder's message names a position, never the text
                problems.append("{0} of {1} is not valid JSON ({2})".format(field, label, e))
        if secret["resource_policy"] is not None and not isinstance(parsed["resource_policy"], dict):
            problems.append("resource_policy of {0} must be a JSON object".format(label))
        if params["state"] == "present" and secret["value"] is None:
            problems.append("value of {0} is required with state=present".format(label))
        secrets.append(parsed)
    window = params["recovery_window"]
    if window != 0 and not 7 <= window <= 30:
        problems.append("recovery_window must be 0 or 7 to 30 days (got {0})".format(window))
    return problems, secrets


def key_reference(key_id):
    """Key id of a key ARN, alias/NAME of an alias ARN, else key_id: one key given either way compares equal."""
    arn = parse_aws_arn(key_id) if key_id.startswith("arn:") else None
    if arn and arn["service"] == "kms":
        resource = arn["resource"]
        return resource[len("key/") :] if resource.startswith("key/") else resource
    return key_id


def canonical_json(data):
    """JSON text that is the same for equal documents (key order does not count, 1 and 1.0 or true differ)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def value_differs(stored_text, wanted):
    if stored_text is None:
        return True
    try:
        stored = json.loads(stored_text)
    except ValueError:
        return True  # not JSON (written by someone else): replaced
    return canonical_json(stored) != canonical_json(wanted)


def policy_differs(stored_text, wanted):
    if not stored_text:
        return True
    try:
        stored = json.loads(stored_text)
    except ValueError:
        return True
    return compare_policies(stored, wanted)


def plan_update(secret, described, stored_policy, stored_value, purge_tags):
    """What differs on an existing secret.

    stored_policy / stored_value: the text AWS holds, or None when it was not read
    (not managed, or not readable yet). Returns (changes, before, after): changes maps
    each field to write to what it needs ("tags": (to_set, to_unset)); before / after
    are the diff views of the managed fields (the value only as a marker).
    """
    changes, before, after = {}, {}, {}
    if secret["description"] is not None:
        current = described.get("Description", "")
        before["description"], after["description"] = current, secret["description"]
        if current != secret["description"]:
            changes["description"] = secret["description"]
    if secret["kms_key_id"]:
        current = described.get("KmsKeyId") or ""
        same = key_reference(current) == key_reference(secret["kms_key_id"])
        before["kms_key_id"], after["kms_key_id"] = current, current if same else secret["kms_key_id"]
        if not same:
            changes["kms_key_id"] = secret["kms_key_id"]
    if secret["tags"] is not None:
        current = boto3_tag_list_to_ansible_dict(described.get("Tags", []))
        to_set, to_unset = compare_aws_tags(current, secret["tags"], purge_tags=purge_tags)
        wanted = dict((k, v) for k, v in current.items() if k not in to_unset)
        wanted.update(to_set)
        before["tags"], after["tags"] = current, wanted
        if to_set or to_unset:
            changes["tags"] = (to_set, to_unset)
    if secret["resource_policy"] is not None and stored_policy is not None:
        current = json.loads(stored_policy) if stored_policy else None
        differs = policy_differs(stored_policy, secret["resource_policy"])
        before["resource_policy"] = current
        after["resource_policy"] = secret["resource_policy"] if differs else current
        if differs:
            changes["resource_policy"] = secret["resource_policy"]
    before["value"] = after["value"] = VALUE_HIDDEN
    if secret["overwrite"] and stored_value is not None and value_differs(stored_value, secret["value"]):
        changes["value"] = secret["value"]
        after["value"] = VALUE_CHANGED
    return changes, before, after


def create_request(secret):
    request = dict(Name=secret["name"], SecretString=json.dumps(secret["value"]))
    if secret["description"] is not None:
        request["Description"] = secret["description"]
    if secret["kms_key_id"]:
        request["KmsKeyId"] = secret["kms_key_id"]
    if secret["tags"]:
        # tagged by the create call itself: no untagged secret if the run dies here
        request["Tags"] = ansible_dict_to_boto3_tag_list(secret["tags"])
    return request


def creation_view(secret):
    """The diff view of a secret about to be created."""
    view = dict(state="present", value="set, " + VALUE_HIDDEN)
    for field in ("description", "kms_key_id", "tags", "resource_policy"):
        if secret[field] is not None:
            view[field] = secret[field]
    return view


# AWS calls


def describe(client, module, name):
    """DescribeSecret, or None when the secret does not exist."""
    try:
        return client.describe_secret(SecretId=name, aws_retry=True)
    except is_boto3_error_code("ResourceNotFoundException"):
        return None
    except AWS_ERRORS as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Could not describe the secret {0}".format(name))


def read_policy(client, module, name):
    """The stored resource policy text, '' when there is none."""
    try:
        return client.get_resource_policy(SecretId=name, aws_retry=True).get("ResourcePolicy") or ""
    except AWS_ERRORS as e:
        module.fail_json_aws(e, msg="Could not read the resource policy of {0}".format(name))


def read_value(client, module, name):
    """The stored SecretString; '' (not JSON, so a new value is put) when there is no current string version."""
    try:
        return client.get_secret_value(SecretId=name, aws_retry=True).get("SecretString") or ""
    except is_boto3_error_code("ResourceNotFoundException"):
        return ""
    except AWS_ERRORS as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Could not read the value of {0}".format(name))


def write(client, module, operation, what, **request):
    """One write call; in check mode none (the result comes from the plan alone)."""
    if module.check_mode:
        return {}
    try:
        return getattr(client, operation)(aws_retry=True, **request)
    except AWS_ERRORS as e:
        module.fail_json_aws(e, msg="Could not {0}".format(what))


def create(client, module, secret, block_public_policy):
    name = secret["name"]
    created = write(client, module, "create_secret", "create the secret {0}".format(name), **create_request(secret))
    if secret["resource_policy"] is not None:
        write(
            client,
            module,
            "put_resource_policy",
            "put the resource policy of {0}".format(name),
            SecretId=name,
            ResourcePolicy=json.dumps(secret["resource_policy"]),
            BlockPublicPolicy=block_public_policy,
        )
    entry = dict(arn=created.get("ARN", ""), state="present", changes=["created"])
    return entry, dict(state="absent"), creation_view(secret)


def apply_update(client, module, name, changes, block_public_policy):
    metadata = {}
    if "description" in changes:
        metadata["Description"] = changes["description"]
    if "kms_key_id" in changes:
        metadata["KmsKeyId"] = changes["kms_key_id"]
    value = json.dumps(changes["value"]) if "value" in changes else None
    if metadata:
        # a new value goes with the metadata in one call (and is encrypted with the new key)
        if value is not None:
            metadata["SecretString"] = value
        write(client, module, "update_secret", "update the secret {0}".format(name), SecretId=name, **metadata)
    elif value is not None:
        what = "put a new value of {0}".format(name)
        write(client, module, "put_secret_value", what, SecretId=name, SecretString=value)
    if "tags" in changes:
        to_set, to_unset = changes["tags"]
        if to_unset:
            write(client, module, "untag_resource", "untag {0}".format(name), SecretId=name, TagKeys=list(to_unset))
        if to_set:
            tags = ansible_dict_to_boto3_tag_list(to_set)
            write(client, module, "tag_resource", "tag {0}".format(name), SecretId=name, Tags=tags)
    if "resource_policy" in changes:
        write(
            client,
            module,
            "put_resource_policy",
            "put the resource policy of {0}".format(name),
            SecretId=name,
            ResourcePolicy=json.dumps(changes["resource_policy"]),
            BlockPublicPolicy=block_public_policy,
        )


def ensure_present(client, module, secret, purge_tags, block_public_policy):
    """(result entry, diff before, diff after) of one secret."""
    name = secret["name"]
    described = describe(client, module, name)
    if described is None:
        return create(client, module, secret, block_public_policy)
    pending = bool(described.get("DeletedDate"))
    if pending:
        write(client, module, "restore_secret", "restore the secret {0}".format(name), SecretId=name)
    # AWS refuses to read the policy and value of a secret scheduled for deletion:
    # in check mode (not restored) they stay unknown and the restore is the change.
    readable = not (pending and module.check_mode)
    stored_policy = stored_value = None
    if readable and secret["resource_policy"] is not None:
        stored_policy = read_policy(client, module, name)
    if readable and secret["overwrite"]:
        stored_value = read_value(client, module, name)
    changes, before, after = plan_update(secret, described, stored_policy, stored_value, module.params["purge_tags"])
    apply_update(client, module, name, changes, block_public_policy)
    names = (["restored"] if pending else []) + [field for field in after if field in changes]
    # the diff holds the fields that change (a whole policy or tag set is long to read twice)
    before = dict((field, view) for field, view in before.items() if field in changes)
    after = dict((field, view) for field, view in after.items() if field in changes)
    before["state"], after["state"] = PENDING_DELETION if pending else "present", "present"
    return dict(arn=described.get("ARN", ""), state="present", changes=names), before, after


def ensure_absent(client, module, secret, recovery_window):
    name = secret["name"]
    described = describe(client, module, name)
    if described is None:
        return dict(arn="", state="absent", changes=[]), dict(state="absent"), dict(state="absent")
    arn = described.get("ARN", "")
    if described.get("DeletedDate"):
        view = dict(state=PENDING_DELETION)
        return dict(arn=arn, state=PENDING_DELETION, changes=[]), view, view
    if recovery_window == 0:
        request = dict(ForceDeleteWithoutRecovery=True)
    else:
        request = dict(RecoveryWindowInDays=recovery_window)
    write(client, module, "delete_secret", "delete the secret {0}".format(name), SecretId=name, **request)
    state = "absent" if recovery_window == 0 else PENDING_DELETION
    return dict(arn=arn, state=state, changes=["deleted"]), dict(state="present"), dict(state=state)


def converge(client, module, secrets):
    params = module.params
    entries, before, after = {}, {}, {}
    for secret in secrets:
        if params["state"] == "present":
            found = ensure_present(client, module, secret, params["purge_tags"], params["block_public_policy"])
        else:
            found = ensure_absent(client, module, secret, params["recovery_window"])
        name = secret["name"]
        entries[name], before[name], after[name] = found
    result = dict(changed=any(entry["changes"] for entry in entries.values()), secrets=entries)
    if module._diff:
        result["diff"] = dict(before=before, after=after)
    return result


def main():
    secret_options = dict(
        name=dict(type="str", required=True),
        description=dict(type="str"),
        kms_key_id=dict(type="str"),
        resource_policy=dict(type="json"),
        tags=dict(type="dict"),
        value=dict(type="json", no_log=True),
        overwrite=dict(type="bool", default=True),
    )
    argument_spec = dict(
        # the list holds names and settings; only its `value` is secret
        secrets=dict(type="list", elements="dict", required=True, options=secret_options, no_log=False),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        purge_tags=dict(type="bool", default=True),
        block_public_policy=dict(type="bool", default=True),
        recovery_window=dict(type="int", default=30),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    problems, secrets = validate(module.params)
    if problems:
        module.fail_json(msg="Invalid secrets: {0}.".format("; ".join(problems)))
    # Secrets Manager's throttling and server-error codes are not in AWSRetry's default
    # list: botocore's retry mode retries them first, this goes on when it gives up.
    retry = AWSRetry.jittered_backoff(retries=10, catch_extra_error_codes=list(TRANSIENT_ERRORS))
    client = module.client("secretsmanager", retry_decorator=retry)
    module.exit_json(**converge(client, module, secrets))


if __name__ == "__main__":
    main()
