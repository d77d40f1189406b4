"""cloudwatch_log_group_sync: create, no-op, drift, check mode, absent (stateful fake CloudWatch Logs)."""

from __future__ import annotations

import pytest
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.streamflix.video_pipeline.plugins.modules import cloudwatch_log_group_sync as mod

from tests.unit.plugins.modules.fakes import client_error, run_main

NAME = "/ecs/video-processing-dev"
ARN = f"arn:aws:logs:us-east-1:123456789012:log-group:{NAME}"
KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
OTHER_KEY = "arn:aws:kms:us-east-1:123456789012:key/99999999-2222-3333-4444-555555555555"
TAGS = {"Project": "video-processing", "Environment": "dev", "Component": "ecs"}
READS = {"describe_log_groups", "list_tags_for_resource"}


class FakeLogs:
    """CloudWatch Logs as far as the module uses it."""

    def __init__(self):
        self.groups = {}
        self.calls = []
        self.faults = []

    def writes(self):
        return [name for name, _ in self.calls if name not in READS]

    def _call(self, name, kw):
        assert kw.pop("aws_retry", None) is True, name
        self.calls.append((name, kw))
        if self.faults:
            raise self.faults.pop(0)

    def add(self, name, retention=None, key=None, tags=None):
        self.groups[name] = dict(retention=retention, key=key, tags=dict(tags or {}))

    def _group(self, name, operation):
        if name not in self.groups:
            raise client_error("ResourceNotFoundException", operation, "The specified log group does not exist.")
        return self.groups[name]

    def describe_log_groups(self, **kw):
        self._call("describe_log_groups", kw)
        names = sorted(n for n in self.groups if n.startswith(kw["logGroupNamePrefix"]))
        # one group per page, to exercise nextToken past the look-alikes
        start = int(kw.get("nextToken", 0))
        page = names[start : start + 1]
        found = []
        for name in page:
            group = self.groups[name]
            entry = {
                "logGroupName": name,
                "arn": f"arn:aws:logs:us-east-1:123456789012:log-group:{name}:*",
                "logGroupArn": f"arn:aws:logs:us-east-1:123456789012:log-group:{name}",
            }
            if group["retention"]:
                entry["retentionInDays"] = group["retention"]
            if group["key"]:
                entry["kmsKeyId"] = group["key"]
            found.append(entry)
        response = {"logGroups": found}
        if start + 1 < len(names):
            response["nextToken"] = str(start + 1)
        return response

    def list_tags_for_resource(self, **kw):
        self._call("list_tags_for_resource", kw)
        name = kw["resourceArn"].split(":log-group:", 1)[1]
        return {"tags": dict(self._group(name, "ListTagsForResource")["tags"])}

    def create_log_group(self, **kw):
        self._call("create_log_group", kw)
        if kw["logGroupName"] in self.groups:
            raise client_error("ResourceAlreadyExistsException", "CreateLogGroup")
        self.add(kw["logGroupName"], key=kw.get("kmsKeyId"), tags=kw.get("tags"))

    def put_retention_policy(self, **kw):
        self._call("put_retention_policy", kw)
        self._group(kw["logGroupName"], "PutRetentionPolicy")["retention"] = kw["retentionInDays"]

    def delete_retention_policy(self, **kw):
        self._call("delete_retention_policy", kw)
        self._group(kw["logGroupName"], "DeleteRetentionPolicy")["retention"] = None

    def associate_kms_key(self, **kw):
        self._call("associate_kms_key", kw)
        self._group(kw["logGroupName"], "AssociateKmsKey")["key"] = kw["kmsKeyId"]

    def tag_resource(self, **kw):
        self._call("tag_resource", kw)
        self._group(kw["resourceArn"].split(":log-group:", 1)[1], "TagResource")["tags"].update(kw["tags"])

    def untag_resource(self, **kw):
        self._call("untag_resource", kw)
        tags = self._group(kw["resourceArn"].split(":log-group:", 1)[1], "UntagResource")["tags"]
        for key in kw["tagKeys"]:
            tags.pop(key, None)

    def delete_log_group(self, **kw):
        self._call("delete_log_group", kw)
        del self._group(kw["logGroupName"], "DeleteLogGroup")["retention"]
        del self.groups[kw["logGroupName"]]


def run(fake, check=False, diff=True, **args):
    args.setdefault("log_group_name", NAME)
    if args.get("state", "present") == "present":
        args.setdefault("retention_days", 7)
        args.setdefault("kms_key_id", KEY)
        args.setdefault("tags", TAGS)
    fake.calls.clear()
    result, _services = run_main(mod.main, dict(args, _ansible_check_mode=check, _ansible_diff=diff), {"logs": fake})
    return result


def converged():
    fake = FakeLogs()
    fake.add(NAME + "-look-alike", retention=1)
    assert run(fake)["changed"] is True
    return fake


def test_create_with_key_and_tags_then_retention():
    fake = FakeLogs()
    result = run(fake)
    assert result["failed"] is False and result["changed"] is True
    assert fake.calls[1:] == [
        ("create_log_group", {"logGroupName": NAME, "kmsKeyId": KEY, "tags": TAGS}),
        ("put_retention_policy", {"logGroupName": NAME, "retentionInDays": 7}),
    ]
    assert result["changes"] == ["created"]
    assert result["log_group"] == dict(log_group_name=NAME, arn="", retention_days=7, kms_key_id=KEY, tags=TAGS)
    assert result["diff"]["before"] == {}


def test_create_without_retention_never_expires():
    fake = FakeLogs()
    run(fake, retention_days=None, kms_key_id=None, tags=None)
    assert fake.writes() == ["create_log_group"]
    assert fake.calls[-1] == ("create_log_group", {"logGroupName": NAME})


def test_noop_reads_two_calls_past_look_alikes_and_writes_nothing():
    fake = converged()
    result = run(fake)
    assert result["changed"] is False and result["changes"] == []
    assert fake.writes() == []
    # the look-alike (same prefix) comes on its own page after the exact name
    assert [name for name, _ in fake.calls] == ["describe_log_groups", "list_tags_for_resource"]
    assert result["log_group"]["arn"] == ARN
    assert result["diff"]["before"] == result["diff"]["after"]


def test_exact_name_found_on_a_later_page():
    fake = FakeLogs()
    fake.add("/ecs/video-processing-d", retention=1)
    fake.add(NAME, retention=7, key=KEY, tags=TAGS)
    fake.add("/ecs/video-processing-a", retention=1)
    fake.groups = {k: fake.groups[k] for k in sorted(fake.groups)}
    assert run(fake, log_group_name=NAME)["changed"] is False
    assert fake.writes() == []


def test_drift_writes_only_what_differs():
    fake = converged()
    fake.groups[NAME].update(retention=90, key=OTHER_KEY, tags=dict(TAGS, Owner="me", Project="other"))
    result = run(fake)
    assert result["changes"] == ["retention_days", "kms_key_id", "tags"]
    assert fake.writes() == ["put_retention_policy", "associate_kms_key", "untag_resource", "tag_resource"]
    assert dict(fake.calls[-2][1]) == {"resourceArn": ARN, "tagKeys": ["Owner"]}
    assert dict(fake.calls[-1][1]) == {"resourceArn": ARN, "tags": {"Project": "video-processing"}}
    assert run(fake)["changed"] is False


def test_null_retention_removes_a_retention():
    fake = converged()
    result = run(fake, retention_days=None)
    assert result["changes"] == ["retention_days"] and fake.writes() == ["delete_retention_policy"]
    assert run(fake, retention_days=None)["changed"] is False


def test_key_and_tags_not_given_are_left_alone():
    fake = converged()
    fake.groups[NAME]["tags"]["Owner"] = "me"
    assert run(fake, kms_key_id=None, tags=None)["changed"] is False
    assert run(fake, purge_tags=False)["changed"] is False
    assert run(fake)["changes"] == ["tags"]


def test_check_mode_changes_nothing():
    fake = FakeLogs()
    result = run(fake, check=True)
    assert result["changed"] is True and fake.writes() == [] and fake.groups == {}
    fake = converged()
    fake.groups[NAME]["retention"] = 90
    result = run(fake, check=True)
    assert result["changed"] is True and result["changes"] == ["retention_days"]
    assert result["diff"]["before"]["retention_days"] == 90 and result["diff"]["after"]["retention_days"] == 7
    assert fake.writes() == [] and fake.groups[NAME]["retention"] == 90


def test_no_diff_without_diff_mode():
    assert "diff" not in run(converged(), diff=False)


def test_absent_deletes_once_and_is_idempotent():
    fake = converged()
    assert run(fake, state="absent", check=True)["changed"] is True
    assert fake.writes() == [] and NAME in fake.groups
    result = run(fake, state="absent")
    assert result["changed"] is True and fake.writes() == ["delete_log_group"]
    assert NAME not in fake.groups and NAME + "-look-alike" in fake.groups
    again = run(fake, state="absent")
    assert again["changed"] is False and fake.writes() == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"retention_days": 10}, "retention_days must be one of"),
        ({"kms_key_id": "alias/video-processing-dev"}, "kms_key_id must be the ARN of a KMS key"),
        ({"log_group_name": "bad name"}, "not a valid log group name"),
    ],
)
def test_bad_input_fails_before_any_aws_call(args, message):
    result, services = run_main(mod.main, dict({"log_group_name": NAME}, **args), {})
    assert result["failed"] is True and message in result["msg"]
    assert services == []


def test_throttling_is_retried(monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    fake = converged()
    fake.faults = [client_error("ThrottlingException", "DescribeLogGroups", "Rate exceeded")]

    class Raw:
        def __getattr__(self, name):
            return lambda **kwargs: getattr(fake, name)(aws_retry=True, **kwargs)

    # The module passes aws_retry=True on every call (the fake asserts it): the
    # retrying client AnsibleAWSModule builds is what retries, as checked here.
    args = dict(log_group_name=NAME, retention_days=7, kms_key_id=KEY, tags=TAGS)
    result, _ = run_main(mod.main, args, {"logs": RetryingBotoClientWrapper(Raw(), mod.RETRY)})
    assert result["failed"] is False and result["changed"] is False and fake.faults == []


def test_an_aws_error_names_what_failed():
    fake = converged()
    fake.faults = [client_error("AccessDeniedException", "DescribeLogGroups")]
    result = run(fake)
    assert result["failed"] is True and result["msg"].startswith(f"Could not describe the log group {NAME}")
