"""iam_roles_sync and module_utils.policy_documents: create, no-op, drift, check mode, absent (stateful fake IAM)."""

from __future__ import annotations

import copy
import json
from urllib.parse import quote

import pytest
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry, RetryingBotoClientWrapper
from ansible_collections.streamflix.video_pipeline.plugins.module_utils import policy_documents as docs
from ansible_collections.streamflix.video_pipeline.plugins.modules import iam_roles_sync as mod

from tests.unit.plugins.modules.fakes import client_error, run_main

ACCOUNT = "123456789012"
EXEC, TASK = "video-processing-exec-role-dev", "video-processing-task-role-dev"
TAGS = {"Project": "video-processing", "Environment": "dev", "Component": "ecs"}
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "EcsTasksOfThisAccount",
            "Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
        }
    ],
}


def policy(*actions, resource="arn:aws:logs:us-east-1:123456789012:log-group:/ecs/x:log-stream:*"):
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": resource}],
    }


def roles():
    return [
        dict(
            name=EXEC,
            description="exec",
            assume_role_policy=TRUST,
            inline_policies={"exec-policy": policy("logs:CreateLogStream", "logs:PutLogEvents")},
        ),
        dict(
            name=TASK,
            description="task",
            assume_role_policy=TRUST,
            inline_policies={"task-policy": policy("sqs:SendMessage", resource="arn:aws:sqs:us-east-1:1:q")},
        ),
    ]


READS = {
    "get_role",
    "list_role_policies",
    "get_role_policy",
    "list_attached_role_policies",
    "list_instance_profiles_for_role",
}


class FakeIam:
    """IAM as far as the module uses it: roles with policies, tags and instance profiles."""

    def __init__(self):
        self.roles = {}
        self.profiles = {}  # name -> [role names]
        self.calls = []
        self.faults = []  # errors raised by the next calls, in order
        self.created_counter = 0

    def writes(self):
        return [name for name, _ in self.calls if name not in READS]

    def reads(self):
        return [name for name, _ in self.calls if name in READS]

    def _call(self, name, kwargs):
        assert kwargs.pop("aws_retry", None) is True or name in ("put_role_policy", "attach_role_policy"), name
        self.calls.append((name, kwargs))
        if self.faults:
            raise self.faults.pop(0)

    def _role(self, name, operation):
        if name not in self.roles:
            raise client_error("NoSuchEntity", operation, f"The role with name {name} cannot be found.")
        return self.roles[name]

    def add_role(
        self, name, trust=TRUST, path="/", description=None, tags=None, inline=None, managed=(), as_text=False
    ):
        self.created_counter += 1
        self.roles[name] = dict(
            RoleName=name,
            Path=path,
            Arn=f"arn:aws:iam::{ACCOUNT}:role{path}{name}",
            RoleId=f"AROA{self.created_counter:012d}",
            AssumeRolePolicyDocument=quote(json.dumps(trust)) if as_text else copy.deepcopy(trust),
            Description=description,
            MaxSessionDuration=3600,
            Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()],
            inline={k: (quote(json.dumps(v)) if as_text else copy.deepcopy(v)) for k, v in (inline or {}).items()},
            managed=list(managed),
        )

    # reads
    def get_role(self, **kw):
        self._call("get_role", kw)
        role = self._role(kw["RoleName"], "GetRole")
        found = {k: copy.deepcopy(v) for k, v in role.items() if k not in ("inline", "managed")}
        if found["Description"] is None:
            del found["Description"]
        if not found["Tags"]:
            del found["Tags"]
        return {"Role": found}

    def list_role_policies(self, **kw):
        self._call("list_role_policies", kw)
        names = sorted(self._role(kw["RoleName"], "ListRolePolicies")["inline"])
        # two pages when there are more than one, to exercise the Marker
        if len(names) > 1 and "Marker" not in kw:
            return {"PolicyNames": names[:1], "IsTruncated": True, "Marker": "m"}
        return {"PolicyNames": names[1:] if "Marker" in kw else names, "IsTruncated": False}

    def get_role_policy(self, **kw):
        self._call("get_role_policy", kw)
        role = self._role(kw["RoleName"], "GetRolePolicy")
        return {
            "RoleName": kw["RoleName"],
            "PolicyName": kw["PolicyName"],
            "PolicyDocument": role["inline"][kw["PolicyName"]],
        }

    def list_attached_role_policies(self, **kw):
        self._call("list_attached_role_policies", kw)
        role = self._role(kw["RoleName"], "ListAttachedRolePolicies")
        return {
            "AttachedPolicies": [{"PolicyArn": a, "PolicyName": a.rsplit("/", 1)[-1]} for a in role["managed"]],
            "IsTruncated": False,
        }

    def list_instance_profiles_for_role(self, **kw):
        self._call("list_instance_profiles_for_role", kw)
        self._role(kw["RoleName"], "ListInstanceProfilesForRole")
        return {
            "InstanceProfiles": [{"InstanceProfileName": p} for p, r in self.profiles.items() if kw["RoleName"] in r],
            "IsTruncated": False,
        }

    # writes
    def create_role(self, **kw):
        self._call("create_role", kw)
        if kw["RoleName"] in self.roles:
            raise client_error("EntityAlreadyExists", "CreateRole")
        self.add_role(
            kw["RoleName"],
            trust=json.loads(kw["AssumeRolePolicyDocument"]),
            path=kw.get("Path", "/"),
            description=kw.get("Description"),
            tags={t["Key"]: t["Value"] for t in kw.get("Tags", [])},
        )
        if "MaxSessionDuration" in kw:
            self.roles[kw["RoleName"]]["MaxSessionDuration"] = kw["MaxSessionDuration"]
        return {"Role": {k: v for k, v in self.roles[kw["RoleName"]].items() if k in ("Arn", "RoleId", "RoleName")}}

    def update_assume_role_policy(self, **kw):
        self._call("update_assume_role_policy", kw)
        self._role(kw["RoleName"], "UpdateAssumeRolePolicy")["AssumeRolePolicyDocument"] = json.loads(
            kw["PolicyDocument"]
        )

    def update_role(self, **kw):
        self._call("update_role", kw)
        role = self._role(kw["RoleName"], "UpdateRole")
        for key in ("Description", "MaxSessionDuration"):
            if key in kw:
                role[key] = kw[key]

    def put_role_policy(self, **kw):
        self._call("put_role_policy", kw)
        self._role(kw["RoleName"], "PutRolePolicy")["inline"][kw["PolicyName"]] = json.loads(kw["PolicyDocument"])

    def delete_role_policy(self, **kw):
        self._call("delete_role_policy", kw)
        del self._role(kw["RoleName"], "DeleteRolePolicy")["inline"][kw["PolicyName"]]

    def attach_role_policy(self, **kw):
        self._call("attach_role_policy", kw)
        self._role(kw["RoleName"], "AttachRolePolicy")["managed"].append(kw["PolicyArn"])

    def detach_role_policy(self, **kw):
        self._call("detach_role_policy", kw)
        self._role(kw["RoleName"], "DetachRolePolicy")["managed"].remove(kw["PolicyArn"])

    def tag_role(self, **kw):
        self._call("tag_role", kw)
        role = self._role(kw["RoleName"], "TagRole")
        tags = {t["Key"]: t["Value"] for t in role["Tags"]}
        tags.update({t["Key"]: t["Value"] for t in kw["Tags"]})
        role["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]

    def untag_role(self, **kw):
        self._call("untag_role", kw)
        role = self._role(kw["RoleName"], "UntagRole")
        role["Tags"] = [t for t in role["Tags"] if t["Key"] not in kw["TagKeys"]]

    def remove_role_from_instance_profile(self, **kw):
        self._call("remove_role_from_instance_profile", kw)
        self.profiles[kw["InstanceProfileName"]].remove(kw["RoleName"])

    def delete_instance_profile(self, **kw):
        self._call("delete_instance_profile", kw)
        assert not self.profiles[kw["InstanceProfileName"]], "IAM refuses to delete a profile that holds a role"
        del self.profiles[kw["InstanceProfileName"]]

    def delete_role(self, **kw):
        self._call("delete_role", kw)
        role = self._role(kw["RoleName"], "DeleteRole")
        in_profile = any(kw["RoleName"] in r for r in self.profiles.values())
        if role["inline"] or role["managed"] or in_profile:
            raise client_error("DeleteConflict", "DeleteRole", "Cannot delete entity, must remove policies first.")
        del self.roles[kw["RoleName"]]


def run(fake, check=False, diff=True, **args):
    args.setdefault("roles", roles())
    args.setdefault("tags", TAGS)
    module_args = dict(args, _ansible_check_mode=check, _ansible_diff=diff)
    fake.calls.clear()
    result, _services = run_main(mod.main, module_args, {"iam": fake})
    return result


def converged():
    fake = FakeIam()
    result = run(fake)
    assert result["failed"] is False, result
    return fake


# policy documents


def test_equal_documents_in_another_form_compare_equal():
    wanted = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["b:Two", "a:One"], "Resource": "arn:x"},
            {
                "Effect": "Allow",
                "Principal": {"AWS": ACCOUNT},
                "Action": "sts:AssumeRole",
                "Condition": {"Bool": {"aws:SecureTransport": True}, "StringEquals": {"k": ["2", "1"]}},
            },
        ],
    }
    stored = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Action": "sts:AssumeRole",
                "Condition": {"Bool": {"aws:SecureTransport": "true"}, "StringEquals": {"k": ["1", "2"]}},
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            },
            {"Resource": ["arn:x"], "Action": ["a:One", "b:Two"], "Effect": "Allow"},
        ],
    }
    assert docs.policies_equal(wanted, stored)
    assert docs.policies_equal(wanted, quote(json.dumps(stored)))
    assert docs.policies_equal(json.dumps(wanted), stored)


def test_single_statement_equals_a_list_of_one():
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    assert docs.policies_equal(
        {"Version": "2012-10-17", "Statement": statement}, {"Version": "2012-10-17", "Statement": [statement]}
    )


@pytest.mark.parametrize(
    "change",
    [
        {"Effect": "Deny"},
        {"Action": ["logs:CreateLogStream"]},
        {"Action": ["logs:createlogstream", "logs:PutLogEvents"]},
        {"Resource": "*"},
        {"Sid": "Named"},
        {"Condition": {"StringEquals": {"aws:SourceAccount": "1"}}},
        {"NotResource": "arn:x"},
    ],
)
def test_real_changes_are_differences(change):
    base = policy("logs:CreateLogStream", "logs:PutLogEvents")
    changed = copy.deepcopy(base)
    changed["Statement"][0].update(change)
    assert not docs.policies_equal(base, changed)


def test_principal_star_and_version_are_compared_as_written():
    a = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "a:B"}]}
    b = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "a:B"}]}
    assert not docs.policies_equal(a, b)
    assert not docs.policies_equal(a, dict(a, Version="2008-10-17"))
    assert docs.policies_equal({"Statement": a["Statement"]}, dict(a, Version="2008-10-17"))


def test_a_document_that_is_not_an_object_is_refused():
    for bad in ("[1]", "not json", 3):
        with pytest.raises(docs.PolicyDocumentError):
            docs.parse_policy(bad)


# the module


def test_create_tags_on_creation_and_puts_the_policies():
    fake = FakeIam()
    result = run(fake)
    assert result["failed"] is False and result["changed"] is True
    assert fake.writes() == ["create_role", "put_role_policy", "create_role", "put_role_policy"]
    create = next(kw for name, kw in fake.calls if name == "create_role")
    assert create["Tags"] == [{"Key": k, "Value": v} for k, v in TAGS.items()]
    assert json.loads(create["AssumeRolePolicyDocument"]) == TRUST
    assert create["Description"] == "exec" and create["Path"] == "/"
    assert result["roles"][EXEC] == {
        "arn": f"arn:aws:iam::{ACCOUNT}:role/{EXEC}",
        "role_id": fake.roles[EXEC]["RoleId"],
    }
    assert result["changes"] == {EXEC: ["created"], TASK: ["created"]}
    # the document is sent exactly as given (a single Resource stays a string)
    put = next(kw for name, kw in fake.calls if name == "put_role_policy")
    assert json.loads(put["PolicyDocument"]) == roles()[0]["inline_policies"]["exec-policy"]
    assert result["diff"]["before"][EXEC] == {}
    assert result["diff"]["after"][EXEC]["inline_policies"] == {
        "exec-policy": docs.normalize_policy(roles()[0]["inline_policies"]["exec-policy"])
    }


def test_noop_reads_four_calls_per_role_and_writes_nothing():
    fake = converged()
    result = run(fake)
    assert result["changed"] is False and result["changes"] == {}
    assert fake.writes() == []
    assert fake.reads() == ["get_role", "list_role_policies", "get_role_policy", "list_attached_role_policies"] * 2
    assert set(result["roles"]) == {EXEC, TASK}


def test_noop_on_documents_stored_url_encoded_and_reordered():
    fake = FakeIam()
    stored = policy("logs:PutLogEvents", "logs:CreateLogStream")
    stored["Statement"][0]["Resource"] = [stored["Statement"][0]["Resource"]]
    fake.add_role(EXEC, description="exec", tags=TAGS, inline={"exec-policy": stored}, as_text=True)
    result = run(fake, roles=roles()[:1])
    assert result["changed"] is False, result["changes"]
    assert fake.writes() == []


def test_drift_is_put_back_with_only_the_writes_that_differ():
    fake = converged()
    role = fake.roles[EXEC]
    role["inline"]["exec-policy"]["Statement"][0]["Resource"] = "*"
    role["inline"]["left-over"] = policy("s3:GetObject")
    role["managed"].append("arn:aws:iam::aws:policy/AdministratorAccess")
    role["AssumeRolePolicyDocument"]["Statement"][0]["Condition"] = {}
    role["Description"] = "changed by hand"
    role["Tags"] = [{"Key": "Project", "Value": "other"}, {"Key": "Owner", "Value": "me"}]
    result = run(fake)
    assert result["changed"] is True
    assert result["changes"] == {
        EXEC: [
            "assume_role_policy",
            "description",
            "inline_policy exec-policy",
            "delete inline_policy left-over",
            "detach arn:aws:iam::aws:policy/AdministratorAccess",
            "tags",
        ]
    }
    assert fake.writes() == [
        "update_assume_role_policy",
        "update_role",
        "put_role_policy",
        "delete_role_policy",
        "detach_role_policy",
        "untag_role",
        "tag_role",
    ]
    assert run(fake)["changed"] is False
    assert fake.writes() == []


def test_several_inline_policies_over_pages_and_managed_attach():
    fake = converged()
    wanted = roles()
    wanted[0]["inline_policies"]["second"] = policy("kms:Decrypt", resource="arn:aws:kms:us-east-1:1:key/k")
    wanted[0]["managed_policy_arns"] = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
    result = run(fake, roles=wanted)
    assert result["changes"][EXEC] == ["inline_policy second", "attach arn:aws:iam::aws:policy/ReadOnlyAccess"]
    assert run(fake, roles=wanted)["changed"] is False
    # the second page of ListRolePolicies was read
    assert [kw.get("Marker") for name, kw in fake.calls if name == "list_role_policies"] == [None, "m", None]


def test_tags_not_given_are_left_alone_and_purge_false_keeps_others():
    fake = converged()
    fake.roles[EXEC]["Tags"].append({"Key": "Owner", "Value": "me"})
    assert run(fake, tags=None)["changed"] is False
    assert run(fake, purge_tags=False)["changed"] is False
    result = run(fake)
    assert result["changes"] == {EXEC: ["tags"]} and fake.writes() == ["untag_role"]


def test_max_session_duration_is_updated_only_when_given():
    fake = converged()
    wanted = roles()
    wanted[1]["max_session_duration"] = 7200
    assert run(fake, roles=wanted)["changes"] == {TASK: ["max_session_duration"]}
    assert fake.calls[-1] == ("update_role", {"RoleName": TASK, "MaxSessionDuration": 7200})
    assert run(fake)["changed"] is False  # not given: left alone


def test_check_mode_reports_without_writing():
    fake = FakeIam()
    result = run(fake, check=True)
    assert result["changed"] is True
    assert result["roles"] == {EXEC: {"arn": "", "role_id": ""}, TASK: {"arn": "", "role_id": ""}}
    assert fake.writes() == []
    fake = converged()
    wanted = roles()
    wanted[0]["inline_policies"]["exec-policy"] = policy("logs:PutLogEvents")
    result = run(fake, roles=wanted, check=True)
    assert result["changes"] == {EXEC: ["inline_policy exec-policy"]}
    assert result["diff"]["before"][EXEC]["inline_policies"] != result["diff"]["after"][EXEC]["inline_policies"]
    assert fake.writes() == []


def test_no_diff_without_diff_mode():
    assert "diff" not in run(converged(), diff=False)


def test_a_role_under_another_path_stops_before_any_write():
    fake = FakeIam()
    fake.add_role(TASK, path="/service/", description="task", tags=TAGS)
    result = run(fake)
    assert result["failed"] is True and "path /service/" in result["msg"]
    assert fake.writes() == []


def test_absent_deletes_policies_profiles_then_the_role_and_is_idempotent():
    fake = converged()
    fake.roles[EXEC]["managed"].append("arn:aws:iam::aws:policy/ReadOnlyAccess")
    fake.profiles[EXEC] = [EXEC]
    result = run(fake, roles=[{"name": EXEC}, {"name": TASK}], state="absent")
    assert result["changed"] is True and result["changes"] == {EXEC: ["deleted"], TASK: ["deleted"]}
    assert fake.roles == {} and fake.profiles == {}
    assert fake.writes()[:5] == [
        "detach_role_policy",
        "delete_role_policy",
        "remove_role_from_instance_profile",
        "delete_instance_profile",
        "delete_role",
    ]
    again = run(fake, roles=[{"name": EXEC}, {"name": TASK}], state="absent")
    assert again["changed"] is False
    assert fake.calls == [
        ("list_attached_role_policies", {"RoleName": EXEC}),
        ("list_attached_role_policies", {"RoleName": TASK}),
    ]


def test_absent_in_check_mode_deletes_nothing():
    fake = converged()
    result = run(fake, roles=[{"name": EXEC}], state="absent", check=True)
    assert result["changed"] is True and fake.writes() == [] and EXEC in fake.roles


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"roles": [{"name": EXEC}]}, f"assume_role_policy of {EXEC} is required"),
        ({"roles": [dict(roles()[0]), dict(roles()[0])]}, f"role {EXEC} is listed twice"),
        ({"roles": [dict(roles()[0], name="bad name")]}, "not a valid IAM role name"),
        ({"roles": [dict(roles()[0], path="service")]}, "must start and end with /"),
        ({"roles": [dict(roles()[0], max_session_duration=60)]}, "3600-43200"),
        ({"roles": [dict(roles()[0], managed_policy_arns=["ReadOnlyAccess"])]}, "not an IAM policy ARN"),
        ({"roles": [dict(roles()[0], inline_policies={"p": "not json"})]}, "inline policy p"),
    ],
)
def test_bad_input_fails_before_any_aws_call(args, message):
    result, services = run_main(mod.main, args, {})
    assert result["failed"] is True
    assert message in result["msg"]
    assert services == []


def test_throttling_is_retried(monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    fake = converged()
    fake.faults = [client_error("Throttling", "GetRole", "Rate exceeded")]

    class Raw:
        def __getattr__(self, name):
            return lambda **kwargs: getattr(fake, name)(aws_retry=True, **kwargs)

    # The module passes aws_retry=True on every call (the fake asserts it): the
    # retrying client AnsibleAWSModule builds is what retries, as checked here.
    client = RetryingBotoClientWrapper(Raw(), AWSRetry.jittered_backoff(retries=3, delay=0, max_delay=0))
    result, _ = run_main(mod.main, dict(roles=roles(), tags=TAGS), {"iam": client})
    assert result["failed"] is False and result["changed"] is False
    assert fake.faults == []


def test_a_new_role_not_yet_visible_is_retried_for_its_policies(monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    fake = FakeIam()
    real_put = fake.put_role_policy
    failures = [client_error("NoSuchEntity", "PutRolePolicy")]

    def eventually_consistent_put(**kw):
        if failures:
            fake.calls.append(("put_role_policy", kw))
            raise failures.pop()
        return real_put(**kw)

    fake.put_role_policy = eventually_consistent_put
    result = run(fake, roles=roles()[:1])
    assert result["failed"] is False and failures == []
    assert "exec-policy" in fake.roles[EXEC]["inline"]


def test_an_aws_error_names_what_failed():
    fake = converged()
    fake.faults = [client_error("AccessDenied", "GetRole")]
    result = run(fake)
    assert result["failed"] is True and result["msg"].startswith(f"Could not read the role {EXEC}")
