"""Every IAM policy the pipeline deploys, read back from the emulator and linted with parliament.

The env is the shared one of the "changes" group (conftest.py: changing_env):
all six roles, so the flow-log role of the monitoring role is linted too.
"""

from __future__ import annotations

import json

import pytest
from parliament import analyze_policy_string

from tests.integration.helpers import deploy
from tests.integration.test_ecs import ACCOUNT, REGION

# A private ECR image, so the execution role also carries its image-pull
# statements (a public image needs none) and they are linted too.
PRIVATE_IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/video-worker:1.0.0"

# IAM refuses a Resource element in a role's trust policy ("Has prohibited
# field Resource"), while parliament treats every document as an identity
# policy and reports it missing. That one finding is expected on trust
# policies and nothing else is filtered.
TRUST_POLICY_EXPECTED = ("MALFORMED", "Statement contains neither Resource nor NotResource")


def _doc(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _findings(policy: str) -> list[tuple[str, str]]:
    return [(f.issue, str(f.detail)) for f in analyze_policy_string(policy).findings]


@pytest.fixture(scope="module")
def env_name(changing_env, endpoint):
    """The "changes" group's env (all six roles) with the ecs role re-run on a private image, then put back."""
    deploy(
        endpoint, changing_env.name, roles=["ecs"], extra_vars={**changing_env.extra_vars, "ecs_image": PRIVATE_IMAGE}
    )
    yield changing_env.name
    deploy(endpoint, changing_env.name, roles=["ecs"], extra_vars=changing_env.extra_vars)


@pytest.fixture(scope="module")
def roles(env_name, aws):
    """Every IAM role of the env (named *-{env}), with its inline and attached policies."""
    iam = aws("iam")
    found = {}
    for page in iam.get_paginator("list_roles").paginate():
        for role in page["Roles"]:
            if role["RoleName"].endswith(f"-{env_name}"):
                name = role["RoleName"]
                inline = {
                    policy: _doc(iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"])
                    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]
                }
                attached = {}
                for policy in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
                    meta = iam.get_policy(PolicyArn=policy["PolicyArn"])["Policy"]
                    version = iam.get_policy_version(PolicyArn=policy["PolicyArn"], VersionId=meta["DefaultVersionId"])
                    attached[policy["PolicyArn"]] = _doc(version["PolicyVersion"]["Document"])
                found[name] = {
                    "arn": role["Arn"],
                    "trust": _doc(iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]),
                    "inline": inline,
                    "attached": attached,
                }
    return found


def test_the_ecs_roles_are_linted(roles, env_name):
    assert f"video-processing-exec-role-{env_name}" in roles
    assert f"video-processing-task-role-{env_name}" in roles
    for role in roles.values():
        assert role["inline"] or role["attached"], "a role without any policy"


def test_permission_policies_have_no_findings(roles):
    problems = {}
    for name, role in roles.items():
        for policy_name, document in {**role["inline"], **role["attached"]}.items():
            findings = _findings(document)
            if findings:
                problems[f"{name}/{policy_name}"] = findings
    assert problems == {}, json.dumps(problems, indent=2)


def test_exec_role_pulls_only_its_image(roles, env_name):
    doc = json.loads(roles[f"video-processing-exec-role-{env_name}"]["inline"][f"video-processing-exec-{env_name}"])
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    assert by_sid["EcrAuthTokenHasNoResourceLevelPermissions"]["Resource"] == "*"
    assert by_sid["EcrAuthTokenHasNoResourceLevelPermissions"]["Action"] == "ecr:GetAuthorizationToken"
    assert by_sid["PullTheWorkerImage"]["Resource"] == f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/video-worker"


def test_trust_policies_have_no_findings(roles):
    problems = {}
    for name, role in roles.items():
        as_deployed = [f for f in _findings(role["trust"]) if f != TRUST_POLICY_EXPECTED]
        # The expected finding stops parliament before it checks actions and
        # conditions: lint a copy that names the role as the resource too.
        document = json.loads(role["trust"])
        for statement in document["Statement"]:
            statement["Resource"] = role["arn"]
        with_resource = _findings(json.dumps(document))
        if as_deployed or with_resource:
            problems[name] = as_deployed + with_resource
    assert problems == {}, json.dumps(problems, indent=2)


def test_the_linter_catches_a_bad_policy():
    """Guard against a linter that passes everything (e.g. a broken parliament install)."""
    bad = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "kinesis:GetRecord", "Resource": "arn:aws:sqs:us-east-1:1:q"}],
    }
    assert _findings(json.dumps(bad))
