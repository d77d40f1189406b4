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
module: iam_roles_sync
short_description: Converge a list of IAM roles with their trust, inline and managed policies in one task
version_added: 1.0.0
description:
  - Creates, updates or deletes each role of O(roles) with its trust policy, description, maximum
    session duration, inline policies, attached managed policies and tags, in one module run.
  - Reads each role with C(GetRole) (trust policy, description and tags come with it),
    C(ListRolePolicies) and C(GetRolePolicy) per inline policy, and C(ListAttachedRolePolicies),
    then writes only what differs.
  - Policy documents are compared by meaning, not by text (the order of statements, actions,
    resources and condition values, a single value against a list of one, and an account ID
    against its root ARN make no difference); what is sent is the document exactly as given.
  - Inline policies not listed in O(roles[].inline_policies) are deleted and managed policies not
    listed in O(roles[].managed_policy_arns) are detached, so the listed ones are all the role may do.
  - Tags are applied at creation (C(CreateRole) C(Tags)), so no role exists untagged.
  - With O(state=absent) each role's managed policies are detached, its inline policies deleted,
    the instance profiles that contain it deleted, and the role deleted; a role already gone is skipped.
author:
  - StreamFlix Platform Engineering (@streamflix)
options:
  roles:
    description: The roles to converge (with O(state=absent) only their names are used).
    required: true
    type: list
    elements: dict
    suboptions:
      name:
        description: Role name.
        required: true
        type: str
      path:
        description:
          - Path of the role, set at creation.
          - A role that exists under another path is not changed; the module fails instead
            (IAM cannot move a role).
        type: str
        default: /
      description:
        description: Role description. When not given, an existing role's description is left alone.
        type: str
      assume_role_policy:
        description: Trust policy document. Required with O(state=present).
        type: dict
      inline_policies:
        description:
          - Inline policies, policy name to policy document.
          - Inline policies of the role that are not listed are deleted.
        type: dict
        default: {}
      managed_policy_arns:
        description:
          - ARNs of the managed policies to attach.
          - Attached managed policies that are not listed are detached.
        type: list
        elements: str
        default: []
      max_session_duration:
        description:
          - Maximum session duration in seconds (3600 to 43200).
          - When not given, a new role gets AWS's default and an existing role's value is left alone.
        type: int
  tags:
    description:
      - Tags of every role in O(roles).
      - When not given, the roles' tags are left alone.
    type: dict
    aliases: [resource_tags]
  purge_tags:
    description: Remove tags not listed in O(tags).
    type: bool
    default: true
  state:
    description: Whether the roles should exist.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Supports check mode and diff mode. In check mode nothing is written; a role that would be
    created is returned with an empty C(arn) and C(role_id).
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Execution and task roles of the workers, each with its inline policy
  streamflix.video_pipeline.iam_roles_sync:
    roles:
      - name: video-processing-exec-role-dev
        description: ECS agent of the video workers
        assume_role_policy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: {Service: ecs-tasks.amazonaws.com}
              Action: sts:AssumeRole
              Condition: {StringEquals: {"aws:SourceAccount": "123456789012"}}
        inline_policies:
          video-processing-exec-dev:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: [logs:CreateLogStream, logs:PutLogEvents]
                Resource: arn:aws:logs:us-east-1:123456789012:log-group:/ecs/video-processing-dev:log-stream:*
    tags:
      Environment: dev
  register: worker_roles

- name: The execution role's ARN
  ansible.builtin.debug:
    msg: "{{ worker_roles.roles['video-processing-exec-role-dev'].arn }}"

- name: Delete the roles (policies and instance profiles first)
  streamflix.video_pipeline.iam_roles_sync:
    roles:
      - name: video-processing-exec-role-dev
    state: absent
"""

RETURN = r"""
roles:
  description:
    - Per role name, its ARN and role ID (state=present).
    - Empty strings for a role that check mode would create.
  returned: state=present
  type: dict
  sample:
    video-processing-exec-role-dev:
      arn: arn:aws:iam::123456789012:role/video-processing-exec-role-dev
      role_id: AROAEXAMPLEID
changes:
  description: Per role name, what was (or in check mode would be) changed; roles without changes are left out.
  returned: always
  type: dict
  sample:
    video-processing-exec-role-dev: [inline_policy video-processing-exec-dev, tags]
"""

import json
import re

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.arn import parse_aws_arn
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)
from ansible_collections.streamflix.video_pipeline.plugins.module_utils.policy_documents import (
    PolicyDocumentError,
    normalize_policy,
    parse_policy,
    policies_equal,
)

# IAM's limits (CreateRole / PutRolePolicy), checked before any call.
ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
POLICY_NAME = re.compile(r"^[\w+=,.@-]{1,128}$")
ROLE_PATH = re.compile(r"^/([\x21-\x7e]{0,510}/)?$")
SESSION_RANGE = (3600, 43200)


def validate(roles, state):
    """Every problem of the input, as messages ([] when fine); no AWS call needed."""
    problems = []
    seen = set()
    for role in roles:
        name = role["name"]
        if name in seen:
            problems.append(f"role {name} is listed twice")
        seen.add(name)
        if not ROLE_NAME.match(name):
            problems.append(f"role name {name!r} is not a valid IAM role name (1-64 of letters, digits, +=,.@_-)")
        if state == "absent":
            continue
        if not ROLE_PATH.match(role["path"]):
            problems.append(f"path {role['path']!r} of {name} must start and end with /")
        if role.get("assume_role_policy") is None:
            problems.append(f"assume_role_policy of {name} is required with state=present")
        duration = role.get("max_session_duration")
        if duration is not None and not SESSION_RANGE[0] <= duration <= SESSION_RANGE[1]:
            problems.append(f"max_session_duration of {name} must be {SESSION_RANGE[0]}-{SESSION_RANGE[1]} seconds")
        for policy_name, document in (role.get("inline_policies") or {}).items():
            if not POLICY_NAME.match(policy_name):
                problems.append(f"inline policy name {policy_name!r} of {name} is not a valid IAM policy name")
            try:
                parse_policy(document)
            except PolicyDocumentError as e:
                problems.append(f"inline policy {policy_name} of {name}: {e}")
        for arn in role.get("managed_policy_arns") or []:
            parsed = parse_aws_arn(arn)
            if not parsed or parsed["service"] != "iam" or not parsed["resource"].startswith("policy/"):
                problems.append(f"{arn!r} (managed policy of {name}) is not an IAM policy ARN")
    return problems


def plan_role(wanted, current, tags, purge_tags):
    """What to write to bring `current` (read_role's dict, None when missing) to `wanted`.

    Returns a dict of the writes ({} when converged). Pure: no AWS call.
    """
    if current is None:
        return dict(create=True)
    plan = {}
    if current["path"] != wanted["path"]:
        plan["path_mismatch"] = current["path"]
    if not policies_equal(wanted["assume_role_policy"], current["assume_role_policy"]):
        plan["assume_role_policy"] = True
    role_update = {}
    if wanted.get("description") is not None and wanted["description"] != current["description"]:
        role_update["Description"] = wanted["description"]
    if (
        wanted.get("max_session_duration") is not None
        and wanted["max_session_duration"] != current["max_session_duration"]
    ):
        role_update["MaxSessionDuration"] = wanted["max_session_duration"]
    if role_update:
        plan["update_role"] = role_update
    inline = wanted.get("inline_policies") or {}
    put = sorted(
        name
        for name, document in inline.items()
        if name not in current["inline_policies"] or not policies_equal(document, current["inline_policies"][name])
    )
    delete = sorted(set(current["inline_policies"]) - set(inline))
    if put:
        plan["put_policies"] = put
    if delete:
        plan["delete_policies"] = delete
    managed = set(wanted.get("managed_policy_arns") or [])
    attach = sorted(managed - set(current["managed_policy_arns"]))
    detach = sorted(set(current["managed_policy_arns"]) - managed)
    if attach:
        plan["attach"] = attach
    if detach:
        plan["detach"] = detach
    if tags is not None:
        to_set, to_unset = compare_aws_tags(current["tags"], tags, purge_tags=purge_tags)
        if to_set:
            plan["tag"] = to_set
        if to_unset:
            plan["untag"] = sorted(to_unset)
    return plan


def describe_changes(plan):
    """The plan as short labels for the `changes` result."""
    if plan.get("create"):
        return ["created"]
    labels = []
    if plan.get("assume_role_policy"):
        labels.append("assume_role_policy")
    for field in sorted(plan.get("update_role", {})):
        labels.append("description" if field == "Description" else "max_session_duration")
    labels.extend(f"inline_policy {name}" for name in plan.get("put_policies", []))
    labels.extend(f"delete inline_policy {name}" for name in plan.get("delete_policies", []))
    labels.extend(f"attach {arn}" for arn in plan.get("attach", []))
    labels.extend(f"detach {arn}" for arn in plan.get("detach", []))
    if plan.get("tag") or plan.get("untag"):
        labels.append("tags")
    return labels


def diff_view(role):
    """A role (read_role's shape, or the wanted one) in the form shown by --diff."""
    if role is None:
        return {}
    return dict(
        path=role["path"],
        description=role.get("description"),
        max_session_duration=role.get("max_session_duration"),
        assume_role_policy=normalize_policy(role["assume_role_policy"]),
        inline_policies={name: normalize_policy(doc) for name, doc in sorted(role["inline_policies"].items())},
        managed_policy_arns=sorted(role["managed_policy_arns"]),
        tags=role.get("tags") or {},
    )


def wanted_view(wanted, current, tags, purge_tags):
    """The role as it will be after the run, in read_role's shape (unmanaged fields kept from current)."""
    current = current or {}
    after_tags = dict(current.get("tags") or {})
    if tags is not None:
        if purge_tags:
            after_tags = dict(tags)
        else:
            after_tags.update(tags)
    return dict(
        path=current.get("path", wanted["path"]),
        description=wanted["description"] if wanted.get("description") is not None else current.get("description"),
        max_session_duration=(
            wanted["max_session_duration"]
            if wanted.get("max_session_duration") is not None
            else current.get("max_session_duration")
        ),
        assume_role_policy=wanted["assume_role_policy"],
        inline_policies=dict(wanted.get("inline_policies") or {}),
        managed_policy_arns=list(wanted.get("managed_policy_arns") or []),
        tags=after_tags,
    )


# AWS calls


class IamRoles:
    """The IAM calls of this module; every failure ends the module with what failed."""

    def __init__(self, module, client):
        self.module = module
        self.client = client
        # Right after CreateRole, IAM may not yet know the role everywhere
        # (eventual consistency): writes that follow a creation retry NoSuchEntity too.
        self.after_create = AWSRetry.jittered_backoff(retries=10, catch_extra_error_codes=["NoSuchEntity"])

    def fail(self, error, what):
        self.module.fail_json_aws(error, msg=f"Could not {what}")

    def call(self, what, method, **kwargs):
        try:
            return getattr(self.client, method)(aws_retry=True, **kwargs)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.fail(e, what)

    def write_new(self, what, method, **kwargs):
        try:
            return self.after_create(getattr(self.client, method))(**kwargs)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.fail(e, what)

    def paged(self, what, method, key, missing_ok=False, **kwargs):
        """Every item of a Marker-paginated IAM listing; None when missing_ok and the role does not exist."""
        items = []
        while True:
            try:
                page = getattr(self.client, method)(aws_retry=True, **kwargs)
            except is_boto3_error_code("NoSuchEntity") as e:
                if missing_ok:
                    return None
                self.fail(e, what)
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
                self.fail(e, what)
            items.extend(page.get(key, []))
            if not page.get("IsTruncated"):
                return items
            kwargs["Marker"] = page["Marker"]

    def read_role(self, name):
        """The role's managed fields, or None when it does not exist."""
        try:
            role = self.client.get_role(aws_retry=True, RoleName=name)["Role"]
        except is_boto3_error_code("NoSuchEntity"):
            return None
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
            self.fail(e, f"read the role {name}")
        policy_names = self.paged(
            f"list the inline policies of {name}", "list_role_policies", "PolicyNames", RoleName=name
        )
        inline = {}
        for policy_name in policy_names:
            found = self.call(
                f"read the inline policy {policy_name} of {name}",
                "get_role_policy",
                RoleName=name,
                PolicyName=policy_name,
            )
            inline[policy_name] = parse_policy(found["PolicyDocument"])
        attached = self.paged(
            f"list the managed policies of {name}", "list_attached_role_policies", "AttachedPolicies", RoleName=name
        )
        return dict(
            arn=role["Arn"],
            role_id=role["RoleId"],
            path=role.get("Path", "/"),
            description=role.get("Description", ""),
            max_session_duration=role.get("MaxSessionDuration"),
            assume_role_policy=parse_policy(role["AssumeRolePolicyDocument"]),
            inline_policies=inline,
            managed_policy_arns=[p["PolicyArn"] for p in attached],
            tags=boto3_tag_list_to_ansible_dict(role.get("Tags", [])),
        )

    def create(self, wanted, tags):
        name = wanted["name"]
        request = dict(
            RoleName=name,
            Path=wanted["path"],
            AssumeRolePolicyDocument=json.dumps(wanted["assume_role_policy"]),
        )
        if wanted.get("description") is not None:
            request["Description"] = wanted["description"]
        if wanted.get("max_session_duration") is not None:
            request["MaxSessionDuration"] = wanted["max_session_duration"]
        if tags:
            request["Tags"] = ansible_dict_to_boto3_tag_list(tags)
        role = self.call(f"create the role {name}", "create_role", **request)["Role"]
        for policy_name, document in sorted((wanted.get("inline_policies") or {}).items()):
            self.write_new(
                f"put the inline policy {policy_name} on {name}",
                "put_role_policy",
                RoleName=name,
                PolicyName=policy_name,
                PolicyDocument=json.dumps(document),
            )
        for arn in wanted.get("managed_policy_arns") or []:
            self.write_new(f"attach {arn} to {name}", "attach_role_policy", RoleName=name, PolicyArn=arn)
        return dict(arn=role["Arn"], role_id=role["RoleId"])

    def update(self, wanted, plan):
        name = wanted["name"]
        if plan.get("assume_role_policy"):
            self.call(
                f"update the trust policy of {name}",
                "update_assume_role_policy",
                RoleName=name,
                PolicyDocument=json.dumps(wanted["assume_role_policy"]),
            )
        if plan.get("update_role"):
            self.call(f"update the role {name}", "update_role", RoleName=name, **plan["update_role"])
        # New permissions first, then the removals: the role never has a gap
        # in what it needs while it moves from one policy set to the other.
        for policy_name in plan.get("put_policies", []):
            self.call(
                f"put the inline policy {policy_name} on {name}",
                "put_role_policy",
                RoleName=name,
                PolicyName=policy_name,
                PolicyDocument=json.dumps(wanted["inline_policies"][policy_name]),
            )
        for arn in plan.get("attach", []):
            self.call(f"attach {arn} to {name}", "attach_role_policy", RoleName=name, PolicyArn=arn)
        for policy_name in plan.get("delete_policies", []):
            self.call(
                f"delete the inline policy {policy_name} of {name}",
                "delete_role_policy",
                RoleName=name,
                PolicyName=policy_name,
            )
        for arn in plan.get("detach", []):
            self.call(f"detach {arn} from {name}", "detach_role_policy", RoleName=name, PolicyArn=arn)
        if plan.get("untag"):
            self.call(f"untag the role {name}", "untag_role", RoleName=name, TagKeys=plan["untag"])
        if plan.get("tag"):
            self.call(
                f"tag the role {name}", "tag_role", RoleName=name, Tags=ansible_dict_to_boto3_tag_list(plan["tag"])
            )

    def attached_or_none(self, name):
        """ARNs of the role's managed policies, or None when the role does not exist (one call either way)."""
        return self.paged(
            f"list the managed policies of {name}",
            "list_attached_role_policies",
            "AttachedPolicies",
            missing_ok=True,
            RoleName=name,
        )

    def delete(self, name, attached):
        """Everything IAM requires gone before DeleteRole, then the role."""
        for policy in attached:
            self.call(
                f"detach {policy['PolicyArn']} from {name}",
                "detach_role_policy",
                RoleName=name,
                PolicyArn=policy["PolicyArn"],
            )
        for policy_name in self.paged(
            f"list the inline policies of {name}", "list_role_policies", "PolicyNames", RoleName=name
        ):
            self.call(
                f"delete the inline policy {policy_name} of {name}",
                "delete_role_policy",
                RoleName=name,
                PolicyName=policy_name,
            )
        profiles = self.paged(
            f"list the instance profiles of {name}",
            "list_instance_profiles_for_role",
            "InstanceProfiles",
            RoleName=name,
        )
        # A profile holds one role at most: without this one it has no use.
        for profile in profiles:
            profile_name = profile["InstanceProfileName"]
            self.call(
                f"remove {name} from the instance profile {profile_name}",
                "remove_role_from_instance_profile",
                InstanceProfileName=profile_name,
                RoleName=name,
            )
            self.call(
                f"delete the instance profile {profile_name}",
                "delete_instance_profile",
                InstanceProfileName=profile_name,
            )
        try:
            self.client.delete_role(aws_retry=True, RoleName=name)
        except is_boto3_error_code("NoSuchEntity"):
            pass  # deleted meanwhile: the outcome wanted
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
            self.fail(e, f"delete the role {name}")


def ensure_present(iam, module, roles, tags, purge_tags):
    # Read and plan every role first, so a role that cannot be converged
    # (another path) stops the run before anything is written.
    plans = []
    for wanted in roles:
        current = iam.read_role(wanted["name"])
        plan = plan_role(wanted, current, tags, purge_tags)
        if plan.get("path_mismatch"):
            module.fail_json(
                msg=f"Role {wanted['name']} exists under the path {plan['path_mismatch']}, not {wanted['path']}; "
                "IAM cannot move a role: delete it first or use its path"
            )
        plans.append((wanted, current, plan))

    result = dict(changed=False, roles={}, changes={}, diff=dict(before={}, after={}))
    for wanted, current, plan in plans:
        name = wanted["name"]
        if plan:
            result["changed"] = True
            result["changes"][name] = describe_changes(plan)
        result["diff"]["before"][name] = diff_view(current)
        result["diff"]["after"][name] = diff_view(wanted_view(wanted, current, tags, purge_tags))
        if plan.get("create"):
            created = dict(arn="", role_id="") if module.check_mode else iam.create(wanted, tags)
            result["roles"][name] = created
            continue
        if plan and not module.check_mode:
            iam.update(wanted, plan)
        result["roles"][name] = dict(arn=current["arn"], role_id=current["role_id"])
    return result


def ensure_absent(iam, module, roles):
    result = dict(changed=False, changes={}, diff=dict(before={}, after={}))
    for role in roles:
        name = role["name"]
        attached = iam.attached_or_none(name)
        if attached is None:
            continue
        result["changed"] = True
        result["changes"][name] = ["deleted"]
        result["diff"]["before"][name] = dict(exists=True)
        result["diff"]["after"][name] = {}
        if not module.check_mode:
            iam.delete(name, attached)
    return result


def main():
    role_options = dict(
        name=dict(type="str", required=True),
        path=dict(type="str", default="/"),
        description=dict(type="str"),
        assume_role_policy=dict(type="dict"),
        inline_policies=dict(type="dict", default={}),
        managed_policy_arns=dict(type="list", elements="str", default=[]),
        max_session_duration=dict(type="int"),
    )
    argument_spec = dict(
        roles=dict(type="list", elements="dict", required=True, options=role_options),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    roles, state = module.params["roles"], module.params["state"]
    problems = validate(roles, state)
    if problems:
        module.fail_json(msg="Invalid roles: " + "; ".join(problems))
    iam = IamRoles(module, module.client("iam", retry_decorator=AWSRetry.jittered_backoff(retries=10)))
    if state == "present":
        result = ensure_present(iam, module, roles, module.params["tags"], module.params["purge_tags"])
    else:
        result = ensure_absent(iam, module, roles)
    if not module._diff:
        result.pop("diff")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
