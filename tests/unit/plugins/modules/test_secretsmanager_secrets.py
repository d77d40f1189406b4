"""secretsmanager_secrets: create, no-op reads, drift repairs, check mode, restore, delete, no value in results.

main() runs against an in-memory Secrets Manager that records every call (and
refuses calls without aws_retry=True), so each test can say which calls were made.
"""

from __future__ import annotations

import copy
import json
from unittest import mock

import pytest
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry, RetryingBotoClientWrapper
from ansible_collections.streamflix.video_pipeline.plugins.modules import secretsmanager_secrets as mod

from tests.unit.plugins.modules.fakes import client_error, run_main

ACCOUNT = "123456789012"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{KEY_ID}"
OTHER_KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/9999abcd-12ab-34cd-56ef-1234567890ab"
DB = "video-processing-db-credentials-dev"
API = "video-processing-api-keys-dev"
TAGS = {"Project": "video-processing", "Environment": "dev", "Component": "secrets"}
POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "DenyAllButPipelineRolesDeployerAndAdmins",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "secretsmanager:*",
            "Resource": "*",
            "Condition": {
                "StringNotLike": {
                    "aws:PrincipalArn": [f"arn:aws:iam::{ACCOUNT}:role/b", f"arn:aws:iam::{ACCOUNT}:role/a"]
                }
            },
        }
    ],
}
CONNECTION = {
    "username": "videoadmin",
    "engine": "aurora-postgresql",
    "host": "video-metadata-cluster-dev.cluster-abc.us-east-1.rds.amazonaws.com",
    "reader_host": "video-metadata-cluster-dev.cluster-ro-abc.us-east-1.rds.amazonaws.com",
    "port": 5432,
    "dbname": "videometadata",
    "dbClusterIdentifier": "video-metadata-cluster-dev",
    "master_secret_arn": f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:rds!cluster-1-Xy12Zw",
}
STORED_API_KEY = "StoredKey0123456789abcdefghijklmnopqrstuvwxyzABCD"
CANDIDATE_API_KEY = "FreshCandidate9876543210zyxwvutsrqponmlkjihgfedc"

READS = {"describe_secret", "get_resource_policy", "get_secret_value"}


def aws_policy_text(policy):
    """What AWS hands back for a policy: re-formatted, keys and principal list in another order."""
    reordered = copy.deepcopy(policy)
    for statement in reordered["Statement"]:
        for condition in statement.get("Condition", {}).values():
            for key, values in condition.items():
                if isinstance(values, list):
                    condition[key] = sorted(values)
    return json.dumps(reordered, indent=2, sort_keys=True)


class FakeSecretsManager:
    """Secrets Manager in memory; `calls` lists (operation, request) in order."""

    def __init__(self):
        self.secrets = {}
        self.calls = []
        self.retry_flag_required = True

    def add(self, name, value, *, kms=KEY_ARN, tags=None, policy=POLICY, description=None, deleted=False):
        secret = {
            "ARN": f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:{name}-AbCdEf",
            "Name": name,
            "value": json.dumps(value),
            "policy": aws_policy_text(policy) if policy else None,
            "Tags": [{"Key": k, "Value": v} for k, v in (TAGS if tags is None else tags).items()],
        }
        if kms:
            secret["KmsKeyId"] = kms
        if description:
            secret["Description"] = description
        if deleted:
            secret["DeletedDate"] = "2026-12-01T00:00:00Z"
        self.secrets[name] = secret
        return secret

    # bookkeeping
    def _call(self, operation, request):
        retry = request.pop("aws_retry", False)
        assert retry or not self.retry_flag_required, f"{operation} must be called with aws_retry=True"
        self.calls.append((operation, request))
        return request

    def _get(self, name, operation, readable=True):
        if name not in self.secrets:
            raise client_error(
                "ResourceNotFoundException", operation, "Secrets Manager can't find the specified secret."
            )
        secret = self.secrets[name]
        if readable and secret.get("DeletedDate"):
            raise client_error("InvalidRequestException", operation, "marked for deletion")
        return secret

    def operations(self):
        return [operation for operation, _ in self.calls]

    def writes(self):
        return [(operation, request) for operation, request in self.calls if operation not in READS]

    # reads
    def describe_secret(self, **request):
        request = self._call("describe_secret", request)
        secret = self._get(request["SecretId"], "DescribeSecret", readable=False)
        return {k: v for k, v in secret.items() if k not in ("value", "policy")}

    def get_resource_policy(self, **request):
        request = self._call("get_resource_policy", request)
        secret = self._get(request["SecretId"], "GetResourcePolicy")
        response = {"ARN": secret["ARN"], "Name": secret["Name"]}
        if secret["policy"]:
            response["ResourcePolicy"] = secret["policy"]
        return response

    def get_secret_value(self, **request):
        request = self._call("get_secret_value", request)
        secret = self._get(request["SecretId"], "GetSecretValue")
        return {"ARN": secret["ARN"], "Name": secret["Name"], "SecretString": secret["value"]}

    # writes
    def create_secret(self, **request):
        request = self._call("create_secret", request)
        name = request["Name"]
        secret = self.add(name, json.loads(request["SecretString"]), kms=request.get("KmsKeyId"), policy=None)
        secret["Tags"] = request.get("Tags", [])
        if "Description" in request:
            secret["Description"] = request["Description"]
        return {"ARN": secret["ARN"], "Name": name, "VersionId": "v1"}

    def update_secret(self, **request):
        request = self._call("update_secret", request)
        secret = self._get(request["SecretId"], "UpdateSecret")
        if "Description" in request:
            secret["Description"] = request["Description"]
        if "KmsKeyId" in request:
            secret["KmsKeyId"] = request["KmsKeyId"]
        if "SecretString" in request:
            secret["value"] = request["SecretString"]
        return {"ARN": secret["ARN"], "Name": secret["Name"]}

    def put_secret_value(self, **request):
        request = self._call("put_secret_value", request)
        self._get(request["SecretId"], "PutSecretValue")["value"] = request["SecretString"]
        return {}

    def tag_resource(self, **request):
        request = self._call("tag_resource", request)
        secret = self._get(request["SecretId"], "TagResource")
        keys = {t["Key"] for t in request["Tags"]}
        secret["Tags"] = [t for t in secret["Tags"] if t["Key"] not in keys] + request["Tags"]
        return {}

    def untag_resource(self, **request):
        request = self._call("untag_resource", request)
        secret = self._get(request["SecretId"], "UntagResource")
        secret["Tags"] = [t for t in secret["Tags"] if t["Key"] not in request["TagKeys"]]
        return {}

    def put_resource_policy(self, **request):
        request = self._call("put_resource_policy", request)
        secret = self._get(request["SecretId"], "PutResourcePolicy")
        secret["policy"] = aws_policy_text(json.loads(request["ResourcePolicy"]))
        return {"ARN": secret["ARN"], "Name": secret["Name"]}

    def restore_secret(self, **request):
        request = self._call("restore_secret", request)
        self._get(request["SecretId"], "RestoreSecret", readable=False).pop("DeletedDate", None)
        return {}

    def delete_secret(self, **request):
        request = self._call("delete_secret", request)
        name = request["SecretId"]
        secret = self._get(name, "DeleteSecret", readable=False)
        if request.get("ForceDeleteWithoutRecovery"):
            del self.secrets[name]
        else:
            secret["DeletedDate"] = "2026-12-08T00:00:00Z"
        return {}


def wanted(api_key=CANDIDATE_API_KEY, connection=None, kms=KEY_ARN, tags=None, policy=None):
    """The role's two secrets: connection data kept equal, the API key only stored on creation."""
    common = {
        "kms_key_id": kms,
        "tags": TAGS if tags is None else tags,
        "resource_policy": json.dumps(policy or POLICY),
    }
    return [
        dict(common, name=DB, description="Aurora connection data", value=json.dumps(connection or CONNECTION)),
        dict(common, name=API, description="API keys", value=json.dumps({"api_key": api_key}), overwrite=False),
    ]


def converged():
    """A fake holding both secrets as the role wants them (the stored API key differs from any candidate)."""
    fake = FakeSecretsManager()
    fake.add(DB, CONNECTION, description="Aurora connection data")
    fake.add(API, {"api_key": STORED_API_KEY}, description="API keys")
    return fake


def run(fake, secrets=None, check=False, diff=False, **params):
    args = dict(secrets=wanted() if secrets is None else secrets, _ansible_check_mode=check, _ansible_diff=diff)
    args.update(params)
    result, _ = run_main(mod.main, args, {"secretsmanager": fake})
    assert result["failed"] is False, result
    return result


def assert_no_value_in(result):
    text = json.dumps(result)
    for secret_text in (STORED_API_KEY, CANDIDATE_API_KEY, CONNECTION["host"], CONNECTION["master_secret_arn"]):
        assert secret_text not in text


def test_create_both_tagged_encrypted_with_their_policies():
    fake = FakeSecretsManager()
    result = run(fake)
    assert result["changed"] is True
    assert fake.operations() == [
        "describe_secret",
        "create_secret",
        "put_resource_policy",
        "describe_secret",
        "create_secret",
        "put_resource_policy",
    ]
    creates = [request for operation, request in fake.calls if operation == "create_secret"]
    for request in creates:
        assert request["KmsKeyId"] == KEY_ARN
        assert {t["Key"]: t["Value"] for t in request["Tags"]} == TAGS
    assert json.loads(creates[0]["SecretString"]) == CONNECTION
    assert json.loads(creates[1]["SecretString"]) == {"api_key": CANDIDATE_API_KEY}
    for _, request in fake.writes():
        if "ResourcePolicy" in request:
            assert json.loads(request["ResourcePolicy"]) == POLICY and request["BlockPublicPolicy"] is True
    assert result["secrets"][DB] == {"arn": fake.secrets[DB]["ARN"], "state": "present", "changes": ["created"]}
    assert result["secrets"][API]["arn"] == fake.secrets[API]["ARN"]
    assert_no_value_in(result)


def test_noop_reads_only_what_it_compares_and_writes_nothing():
    fake = converged()
    result = run(fake)
    assert result["changed"] is False
    assert fake.writes() == []
    # the API key's value is not managed: never read
    assert fake.calls == [
        ("describe_secret", {"SecretId": DB}),
        ("get_resource_policy", {"SecretId": DB}),
        ("get_secret_value", {"SecretId": DB}),
        ("describe_secret", {"SecretId": API}),
        ("get_resource_policy", {"SecretId": API}),
    ]
    assert result["secrets"][API] == {"arn": fake.secrets[API]["ARN"], "state": "present", "changes": []}


def test_key_arn_and_key_id_are_the_same_key():
    fake = converged()
    for name in (DB, API):
        fake.secrets[name]["KmsKeyId"] = KEY_ID
    assert run(fake)["changed"] is False
    assert fake.writes() == []


def test_value_drift_on_the_managed_secret_is_one_put_secret_value():
    fake = converged()
    fake.secrets[DB]["value"] = json.dumps(dict(CONNECTION, host="old-host"))
    result = run(fake)
    assert result["changed"] is True
    assert fake.writes() == [("put_secret_value", {"SecretId": DB, "SecretString": json.dumps(CONNECTION)})]
    assert result["secrets"][DB]["changes"] == ["value"]
    assert result["secrets"][API]["changes"] == []
    assert_no_value_in(result)


def test_value_compared_as_parsed_json():
    fake = converged()
    fake.secrets[DB]["value"] = json.dumps(dict(reversed(list(CONNECTION.items()))), indent=4)
    assert run(fake)["changed"] is False
    # but a port as a string is another value
    fake.secrets[DB]["value"] = json.dumps(dict(CONNECTION, port="5432"))
    assert run(fake)["changed"] is True


def test_api_key_is_never_overwritten_nor_read():
    fake = converged()
    result = run(fake, secrets=wanted(api_key="AnotherCandidate" * 3))
    assert result["changed"] is False
    assert json.loads(fake.secrets[API]["value"]) == {"api_key": STORED_API_KEY}
    assert ("get_secret_value", {"SecretId": API}) not in fake.calls


def test_policy_drift_puts_the_policy_of_that_secret_only():
    fake = converged()
    admin = copy.deepcopy(POLICY)
    admin["Statement"][0]["Condition"]["StringNotLike"]["aws:PrincipalArn"].append(f"arn:aws:iam::{ACCOUNT}:role/admin")
    fake.secrets[API]["policy"] = aws_policy_text(admin)
    result = run(fake)
    assert [(op, r["SecretId"]) for op, r in fake.writes()] == [("put_resource_policy", API)]
    assert json.loads(fake.writes()[0][1]["ResourcePolicy"]) == POLICY
    assert result["secrets"][API]["changes"] == ["resource_policy"]


def test_missing_policy_is_put():
    fake = converged()
    fake.secrets[DB]["policy"] = None
    run(fake)
    assert [(op, r["SecretId"]) for op, r in fake.writes()] == [("put_resource_policy", DB)]


def test_tag_drift_is_untagged_and_tagged():
    fake = converged()
    fake.secrets[DB]["Tags"] = [
        {"Key": "Project", "Value": "video-processing"},
        {"Key": "Environment", "Value": "other"},
        {"Key": "Stray", "Value": "x"},
    ]
    result = run(fake)
    (untag, untagged), (tag, tagged) = fake.writes()
    assert (untag, untagged) == ("untag_resource", {"SecretId": DB, "TagKeys": ["Stray"]})
    assert (tag, tagged["SecretId"]) == ("tag_resource", DB)
    assert {t["Key"]: t["Value"] for t in tagged["Tags"]} == {"Environment": "dev", "Component": "secrets"}
    assert result["secrets"][DB]["changes"] == ["tags"]
    assert run(fake)["changed"] is False


def test_kms_key_change_is_one_update_secret_and_keeps_the_api_key():
    fake = converged()
    result = run(fake, secrets=wanted(kms=OTHER_KEY_ARN))
    assert fake.writes() == [
        ("update_secret", {"SecretId": DB, "KmsKeyId": OTHER_KEY_ARN}),
        ("update_secret", {"SecretId": API, "KmsKeyId": OTHER_KEY_ARN}),
    ]
    assert result["secrets"][API]["changes"] == ["kms_key_id"]
    assert json.loads(fake.secrets[API]["value"]) == {"api_key": STORED_API_KEY}


def test_kms_key_and_value_change_together_are_one_update_secret():
    fake = converged()
    fake.secrets[DB]["value"] = json.dumps(dict(CONNECTION, port=5433))
    run(fake, secrets=wanted(kms=OTHER_KEY_ARN)[:1])
    assert fake.writes() == [
        ("update_secret", {"SecretId": DB, "KmsKeyId": OTHER_KEY_ARN, "SecretString": json.dumps(CONNECTION)})
    ]


def test_description_drift_is_updated():
    fake = converged()
    fake.secrets[API]["Description"] = "old"
    run(fake)
    assert fake.writes() == [("update_secret", {"SecretId": API, "Description": "API keys"})]


def test_check_mode_reports_every_change_and_writes_nothing():
    for fake in (FakeSecretsManager(), converged()):
        if fake.secrets:
            fake.secrets[DB]["value"] = "{}"
            fake.secrets[DB]["Tags"] = []
            fake.secrets[API]["policy"] = None
        result = run(fake, secrets=wanted(kms=OTHER_KEY_ARN), check=True, diff=True)
        assert result["changed"] is True
        assert fake.writes() == []
        assert_no_value_in(result)
    assert result["secrets"][DB]["changes"] == ["kms_key_id", "tags", "value"]
    assert result["secrets"][API]["changes"] == ["kms_key_id", "resource_policy"]


def test_check_mode_on_an_empty_account_would_create_without_arns():
    result = run(FakeSecretsManager(), check=True, diff=True)
    assert result["secrets"][DB] == {"arn": "", "state": "present", "changes": ["created"]}
    assert result["diff"]["before"][DB] == {"state": "absent"}
    assert result["diff"]["after"][DB]["value"] == "set, not shown"


def test_diff_shows_fields_and_only_a_marker_for_the_value():
    fake = converged()
    fake.secrets[DB]["value"] = json.dumps(dict(CONNECTION, host="old-host"))
    result = run(fake, diff=True)
    before, after = result["diff"]["before"][DB], result["diff"]["after"][DB]
    assert (before["value"], after["value"]) == ("not shown", "changed, not shown")
    # only what changes: the equal tags and policy are left out
    assert before == {"state": "present", "value": "not shown"}
    assert after == {"state": "present", "value": "changed, not shown"}
    assert result["diff"]["before"][API] == result["diff"]["after"][API] == {"state": "present"}


def test_diff_shows_the_policy_and_tags_that_change():
    fake = converged()
    fake.secrets[API]["policy"] = None
    fake.secrets[API]["Tags"] = []
    result = run(fake, diff=True, check=True)
    before, after = result["diff"]["before"][API], result["diff"]["after"][API]
    assert before == {"state": "present", "tags": {}, "resource_policy": None}
    assert after == {"state": "present", "tags": TAGS, "resource_policy": POLICY}
    assert "old-host" not in json.dumps(result)
    assert_no_value_in(result)


def test_no_diff_without_diff_mode():
    assert "diff" not in run(converged())


def test_secret_pending_deletion_is_restored_then_converged():
    fake = converged()
    fake.secrets[API]["DeletedDate"] = "2026-12-08T00:00:00Z"
    fake.secrets[API]["Tags"] = []
    result = run(fake)
    assert [(op, r["SecretId"]) for op, r in fake.writes()] == [("restore_secret", API), ("tag_resource", API)]
    assert result["secrets"][API]["changes"] == ["restored", "tags"]
    assert "DeletedDate" not in fake.secrets[API]
    assert json.loads(fake.secrets[API]["value"]) == {"api_key": STORED_API_KEY}
    assert run(fake)["changed"] is False


def test_check_mode_on_a_pending_secret_reports_the_restore_without_reading_it():
    fake = converged()
    fake.secrets[DB]["DeletedDate"] = "2026-12-08T00:00:00Z"
    result = run(fake, check=True, diff=True)
    assert result["secrets"][DB]["changes"] == ["restored"]
    assert result["diff"]["before"][DB]["state"] == "scheduled for deletion"
    assert fake.writes() == []
    assert ("get_secret_value", {"SecretId": DB}) not in fake.calls


@pytest.mark.parametrize(
    ("window", "request_", "state"),
    [(0, {"ForceDeleteWithoutRecovery": True}, "absent"), (7, {"RecoveryWindowInDays": 7}, "scheduled for deletion")],
)
def test_absent_deletes_once_then_is_a_noop(window, request_, state):
    fake = converged()
    absent = [{"name": DB}, {"name": API}]
    result = run(fake, secrets=absent, state="absent", recovery_window=window)
    assert fake.writes() == [
        ("delete_secret", dict(request_, SecretId=DB)),
        ("delete_secret", dict(request_, SecretId=API)),
    ]
    assert result["secrets"][DB]["state"] == state and result["secrets"][DB]["changes"] == ["deleted"]
    fake.calls.clear()
    again = run(fake, secrets=absent, state="absent", recovery_window=window)
    assert again["changed"] is False
    assert fake.writes() == []
    assert again["secrets"][API]["state"] == state


def test_absent_in_check_mode_deletes_nothing():
    fake = converged()
    result = run(fake, secrets=[{"name": DB}], state="absent", recovery_window=0, check=True)
    assert result["changed"] is True
    assert fake.writes() == []


@pytest.mark.parametrize(
    ("secrets", "params", "message"),
    [
        ([{"name": DB, "value": "{not json"}], {}, f"value of {DB} is not valid JSON"),
        ([{"name": DB, "value": "{}", "resource_policy": "[]"}], {}, "must be a JSON object"),
        ([{"name": DB}], {}, f"value of {DB} is required with state=present"),
        ([{"name": DB, "value": "{}"}, {"name": DB, "value": "{}"}], {}, f"{DB} is listed twice"),
        ([{"name": DB}], {"state": "absent", "recovery_window": 3}, "recovery_window must be 0 or 7 to 30"),
    ],
)
def test_bad_input_fails_before_any_aws_call(secrets, params, message):
    result, services = run_main(mod.main, dict(secrets=secrets, **params), {})
    assert result["failed"] is True
    assert message in result["msg"]
    assert services == []


def test_throttled_reads_are_retried(monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    fake = converged()
    fake.retry_flag_required = False  # the retrying wrapper takes aws_retry
    describe = fake.describe_secret
    failures = [client_error("ThrottlingException", "DescribeSecret", "Rate exceeded")]

    def flaky_describe(**request):
        if failures:
            raise failures.pop()
        return describe(aws_retry=True, **request)

    fake.describe_secret = flaky_describe
    retry = AWSRetry.jittered_backoff(retries=10, catch_extra_error_codes=list(mod.TRANSIENT_ERRORS))
    client = RetryingBotoClientWrapper(fake, retry)
    result, _ = run_main(mod.main, dict(secrets=wanted()), {"secretsmanager": client})
    assert result["failed"] is False and result["changed"] is False
    assert failures == []


def test_value_is_no_log_and_the_client_retries():
    with mock.patch.object(mod, "AnsibleAWSModule") as module_class:
        module = module_class.return_value
        module.params = dict(
            secrets=[
                dict(
                    name=DB,
                    description=None,
                    kms_key_id=None,
                    resource_policy=None,
                    tags=None,
                    value="{}",
                    overwrite=True,
                )
            ],
            state="present",
            purge_tags=True,
            block_public_policy=True,
            recovery_window=30,
        )
        module.client.side_effect = SystemExit
        with pytest.raises(SystemExit):
            mod.main()
    spec = module_class.call_args.kwargs["argument_spec"]
    assert spec["secrets"]["options"]["value"]["no_log"] is True
    assert module.client.call_args.args == ("secretsmanager",)
    assert callable(module.client.call_args.kwargs["retry_decorator"])
