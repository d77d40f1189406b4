"""kms_pipeline_key: create, no-op, drift, check mode, adoption after a kill, retirement (stateful fake KMS)."""

from __future__ import annotations

import datetime
import json

import pytest
from ansible_collections.streamflix.video_pipeline.plugins.modules import kms_pipeline_key as mod

from tests.unit.plugins.modules.fakes import Failed, client_error, fake_module, run_main

ALIAS = "alias/video-processing-dev"
ACCOUNT = "123456789012"
POLICY = {
    "Version": "2012-10-17",
    "Id": "video-processing-dev",
    "Statement": [
        {
            "Sid": "AccountRootAdministers",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "AlarmsPublish",
            "Effect": "Allow",
            "Principal": {"Service": ["cloudwatch.amazonaws.com", "events.amazonaws.com"]},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
        },
    ],
}
TAGS = {"Name": ALIAS, "Environment": "dev", "Component": "streaming", "Project": "video-processing"}
DESCRIPTION = "Video processing pipeline dev"
WHEN = datetime.datetime(2026, 12, 30, tzinfo=datetime.UTC)
READS = ("describe_key", "list_resource_tags", "get_key_policy", "get_key_rotation_status", "list_aliases", "list_keys")


class FakeKms:
    """Keys and aliases in memory; every call is recorded as (method, kwargs)."""

    def __init__(self):
        self.keys = {}
        self.aliases = {}
        self.calls = []
        self.counter = 0

    # helpers for the tests
    def add_key(self, tags=None, state="Enabled", policy=None, rotation=True, description=DESCRIPTION, alias=None):
        self.counter += 1
        key_id = f"key-{self.counter}"
        self.keys[key_id] = dict(
            metadata={
                "KeyId": key_id,
                "Arn": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{key_id}",
                "KeyState": state,
                "KeyManager": "CUSTOMER",
                "KeySpec": "SYMMETRIC_DEFAULT",
                "KeyUsage": "ENCRYPT_DECRYPT",
                "Origin": "AWS_KMS",
                "Description": description,
                "CreationDate": datetime.datetime(2026, 1, self.counter, tzinfo=datetime.UTC),
            },
            tags=dict(tags or {}),
            policy=json.dumps(policy or POLICY),
            rotation=rotation,
        )
        if state == "PendingDeletion":
            self.keys[key_id]["metadata"]["DeletionDate"] = WHEN
        if alias:
            self.aliases[alias] = key_id
        return key_id

    def writes(self):
        return [name for name, _kwargs in self.calls if name not in READS]

    def reads(self):
        return [name for name, _kwargs in self.calls if name in READS]

    def _key(self, key_id):
        key_id = self.aliases.get(key_id, key_id)
        if key_id not in self.keys:
            raise client_error("NotFoundException", "DescribeKey")
        return self.keys[key_id]

    def __getattr__(self, name):
        handler = getattr(self, "do_" + name)

        def call(aws_retry=False, **kwargs):
            assert aws_retry is True, f"{name} called without aws_retry"
            self.calls.append((name, kwargs))
            return handler(**kwargs)

        return call

    # KMS
    def do_describe_key(self, KeyId):
        return {"KeyMetadata": dict(self._key(KeyId)["metadata"])}

    def do_list_resource_tags(self, KeyId, Limit=None, Marker=None):
        tags = self._key(KeyId)["tags"]
        return {"Tags": [{"TagKey": k, "TagValue": v} for k, v in tags.items()], "Truncated": False}

    def do_get_key_policy(self, KeyId, PolicyName):
        assert PolicyName == "default"
        return {"Policy": self._key(KeyId)["policy"]}

    def do_get_key_rotation_status(self, KeyId):
        return {"KeyRotationEnabled": self._key(KeyId)["rotation"]}

    def do_create_key(self, **kwargs):
        assert kwargs["KeySpec"] == "SYMMETRIC_DEFAULT" and kwargs["KeyUsage"] == "ENCRYPT_DECRYPT"
        tags = {t["TagKey"]: t["TagValue"] for t in kwargs.get("Tags", [])}
        key_id = self.add_key(
            tags=tags, policy=json.loads(kwargs["Policy"]), rotation=False, description=kwargs.get("Description", "")
        )
        return {"KeyMetadata": dict(self.keys[key_id]["metadata"])}

    def do_enable_key_rotation(self, KeyId):
        assert self._key(KeyId)["metadata"]["KeyState"] == "Enabled", "rotation needs an enabled key"
        self._key(KeyId)["rotation"] = True

    def do_disable_key_rotation(self, KeyId):
        self._key(KeyId)["rotation"] = False

    def do_enable_key(self, KeyId):
        self._key(KeyId)["metadata"]["KeyState"] = "Enabled"

    def do_disable_key(self, KeyId):
        self._key(KeyId)["metadata"]["KeyState"] = "Disabled"

    def do_update_key_description(self, KeyId, Description):
        self._key(KeyId)["metadata"]["Description"] = Description

    def do_put_key_policy(self, KeyId, PolicyName, Policy):
        self._key(KeyId)["policy"] = Policy

    def do_tag_resource(self, KeyId, Tags):
        self._key(KeyId)["tags"].update({t["TagKey"]: t["TagValue"] for t in Tags})

    def do_untag_resource(self, KeyId, TagKeys):
        for k in TagKeys:
            self._key(KeyId)["tags"].pop(k, None)

    def do_create_alias(self, AliasName, TargetKeyId):
        assert AliasName not in self.aliases
        self.aliases[AliasName] = TargetKeyId

    def do_update_alias(self, AliasName, TargetKeyId):
        assert AliasName in self.aliases
        self.aliases[AliasName] = TargetKeyId

    def do_delete_alias(self, AliasName):
        if AliasName not in self.aliases:
            raise client_error("NotFoundException", "DeleteAlias")
        del self.aliases[AliasName]

    def do_schedule_key_deletion(self, KeyId, PendingWindowInDays):
        assert not KeyId.startswith("arn:"), "the emulator wants key IDs"
        self._key(KeyId)["metadata"].update(KeyState="PendingDeletion", DeletionDate=WHEN)
        return {"KeyId": KeyId, "DeletionDate": WHEN}

    # paginators (ListAliases, ListKeys)
    def get_paginator(self, method):
        fake = self

        class Pages:
            def paginate(self, **kwargs):
                return self

            def build_full_result(self):
                fake.calls.append((method, {}))
                if method == "list_aliases":
                    return {"Aliases": [{"AliasName": a, "TargetKeyId": k} for a, k in fake.aliases.items()]}
                return {"Keys": [{"KeyId": k} for k in fake.keys]}

        return Pages()


def params(**overrides):
    base = dict(
        alias=ALIAS,
        state="present",
        description=DESCRIPTION,
        policy=json.dumps(POLICY),
        enabled=True,
        enable_key_rotation=True,
        identity_tag_keys=["Name", "Environment", "Component"],
        pending_window=7,
        tags=dict(TAGS),
        purge_tags=True,
    )
    base.update(overrides)
    return base


def present(kms, check_mode=False, **overrides):
    module = fake_module(check_mode=check_mode)
    return mod.ensure_present(mod.KeyStore(kms, module), module, params(**overrides))


def absent(kms, check_mode=False, **overrides):
    module = fake_module(check_mode=check_mode)
    return mod.ensure_absent(mod.KeyStore(kms, module), module, params(state="absent", **overrides))


def converged():
    kms = FakeKms()
    key_id = kms.add_key(tags=TAGS, alias=ALIAS)
    return kms, key_id


def test_create_tags_in_create_key_then_rotation_then_alias():
    kms = FakeKms()
    result = present(kms)
    assert result["changed"] is True and result["adopted"] is False
    assert kms.writes() == ["create_key", "enable_key_rotation", "create_alias"]
    assert len(kms.keys) == 1
    key_id = next(iter(kms.keys))
    request = next(kwargs for name, kwargs in kms.calls if name == "create_key")
    assert {t["TagKey"]: t["TagValue"] for t in request["Tags"]} == TAGS
    assert json.loads(request["Policy"]) == POLICY and request["Description"] == DESCRIPTION
    assert kms.aliases == {ALIAS: key_id}
    assert result["key_arn"].endswith(key_id)
    # and the second run changes nothing
    kms.calls.clear()
    again = present(kms)
    assert again["changed"] is False


def test_noop_reads_four_times_and_writes_nothing():
    kms, key_id = converged()
    result = present(kms)
    assert result["changed"] is False
    assert kms.writes() == []
    assert sorted(kms.reads()) == ["describe_key", "get_key_policy", "get_key_rotation_status", "list_resource_tags"]
    assert kms.calls[0] == ("describe_key", {"KeyId": ALIAS})
    assert result["key_id"] == key_id and result["key_state"] == "Enabled"
    assert result["diff"]["before"] == result["diff"]["after"]


def test_policy_is_compared_as_parsed_json():
    kms, key_id = converged()
    # same policy, other key order, one-element list instead of a string, statements swapped
    reordered = dict(POLICY, Statement=[POLICY["Statement"][1], dict(POLICY["Statement"][0], Action=["kms:*"])])
    kms.keys[key_id]["policy"] = json.dumps(reordered, indent=4, sort_keys=True)
    assert present(kms)["changed"] is False
    assert kms.writes() == []


@pytest.mark.parametrize(
    ("drift", "writes"),
    [
        (
            lambda key: key.update(policy=json.dumps(dict(POLICY, Statement=POLICY["Statement"][:1]))),
            ["put_key_policy"],
        ),
        (lambda key: key.update(rotation=False), ["enable_key_rotation"]),
        (lambda key: key["tags"].update(Environment="prod"), ["tag_resource"]),
        (lambda key: key["tags"].update(Stray="x"), ["untag_resource"]),
        (lambda key: key["metadata"].update(Description="old"), ["update_key_description"]),
        (lambda key: key["metadata"].update(KeyState="Disabled"), ["enable_key"]),
    ],
    ids=["policy", "rotation", "tag-changed", "tag-stray", "description", "disabled"],
)
def test_drift_is_repaired_with_only_the_write_it_needs(drift, writes):
    kms, key_id = converged()
    drift(kms.keys[key_id])
    result = present(kms)
    assert result["changed"] is True
    assert kms.writes() == writes
    kms.calls.clear()
    assert present(kms)["changed"] is False
    assert kms.writes() == []


def test_disabled_key_with_rotation_off_is_enabled_before_its_rotation():
    kms, key_id = converged()
    kms.keys[key_id]["metadata"]["KeyState"] = "Disabled"
    kms.keys[key_id]["rotation"] = False
    present(kms)
    assert kms.writes() == ["enable_key", "enable_key_rotation"]


def test_check_mode_writes_nothing_and_reports_the_change():
    kms = FakeKms()
    created = present(kms, check_mode=True)
    assert created["changed"] is True and created["key_arn"] == ""
    assert created["diff"]["after"]["tags"] == TAGS
    kms, key_id = converged()
    kms.keys[key_id]["rotation"] = False
    kms.keys[key_id]["tags"]["Environment"] = "other"
    drifted = present(kms, check_mode=True)
    assert drifted["changed"] is True
    assert drifted["diff"]["before"]["rotation"] is False and drifted["diff"]["after"]["rotation"] is True
    assert kms.writes() == []


def test_key_left_without_alias_by_a_killed_run_is_adopted():
    kms = FakeKms()
    kms.add_key(tags={"Name": "alias/other"}, alias="alias/other")  # someone else's key
    kms.add_key(tags={**TAGS, "Name": "alias/video-processing-prod"})  # another env's orphan
    orphan = kms.add_key(tags=TAGS, rotation=False)  # CreateKey done, killed before rotation and alias
    del kms.keys[orphan]["metadata"]["KeyUsage"]  # as the emulator describes keys
    result = present(kms)
    assert result["changed"] is True and result["adopted"] is True
    assert result["key_id"] == orphan
    assert kms.aliases[ALIAS] == orphan
    assert kms.writes() == ["enable_key_rotation", "create_alias"]
    assert len(kms.keys) == 3, "no second key"
    # the aliased key is not even looked at: only keys without alias are read
    tag_reads = [kwargs["KeyId"] for name, kwargs in kms.calls if name == "list_resource_tags"]
    assert "key-1" not in tag_reads


def test_adoption_in_check_mode_writes_nothing():
    kms = FakeKms()
    orphan = kms.add_key(tags=TAGS)
    result = present(kms, check_mode=True)
    assert result["changed"] is True and result["adopted"] is True and result["key_id"] == orphan
    assert kms.writes() == [] and kms.aliases == {}


def test_key_pending_deletion_is_never_adopted():
    kms = FakeKms()
    pending = kms.add_key(tags=TAGS, state="PendingDeletion")
    result = present(kms)
    assert result["adopted"] is False and result["key_id"] != pending
    assert kms.writes() == ["create_key", "enable_key_rotation", "create_alias"]
    assert kms.keys[pending]["metadata"]["KeyState"] == "PendingDeletion"


def test_alias_left_on_a_key_pending_deletion_moves_to_a_new_key():
    kms = FakeKms()
    pending = kms.add_key(tags=TAGS, state="PendingDeletion", alias=ALIAS)
    result = present(kms)
    assert result["key_id"] != pending
    assert kms.writes() == ["create_key", "enable_key_rotation", "update_alias"]
    assert kms.aliases[ALIAS] == result["key_id"]


def test_absent_schedules_by_key_id_and_deletes_the_alias_then_changes_nothing():
    kms, key_id = converged()
    result = absent(kms)
    assert result["changed"] is True and result["retired_key_ids"] == [key_id]
    assert ("schedule_key_deletion", {"KeyId": key_id, "PendingWindowInDays": 7}) in kms.calls
    assert kms.aliases == {} and result["deletion_date"] == WHEN.isoformat()
    kms.calls.clear()
    again = absent(kms)
    assert again["changed"] is False and again["retired_key_ids"] == []
    assert kms.writes() == []


def test_absent_after_a_kill_between_schedule_and_alias_deletion_deletes_only_the_alias():
    kms = FakeKms()
    kms.add_key(tags=TAGS, state="PendingDeletion", alias=ALIAS)
    result = absent(kms)
    assert result["changed"] is True
    assert kms.writes() == ["delete_alias"]


def test_absent_retires_an_orphan_found_by_its_tags():
    kms = FakeKms()
    orphan = kms.add_key(tags=TAGS)
    result = absent(kms)
    assert result["changed"] is True and result["retired_key_ids"] == [orphan]
    assert kms.writes() == ["schedule_key_deletion"]


def test_absent_with_the_alias_reads_no_other_key():
    kms, key_id = converged()
    kms.add_key(tags=TAGS, state="PendingDeletion")  # an earlier deploy's retired key
    result = absent(kms)
    assert result["retired_key_ids"] == [key_id]
    assert sorted(kms.writes()) == ["delete_alias", "schedule_key_deletion"]
    assert kms.reads() == ["describe_key"]


def test_absent_in_check_mode_writes_nothing():
    kms, key_id = converged()
    assert absent(kms, check_mode=True)["changed"] is True
    assert kms.writes() == [] and kms.aliases == {ALIAS: key_id}


def test_transient_error_is_retried_by_the_client_wrapper():
    # The module passes aws_retry=True on every call (asserted by the fake); the
    # retrying client of AnsibleAWSModule is what retries, as checked here end to end.
    from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry, RetryingBotoClientWrapper

    kms, _key_id = converged()
    failures = [client_error("InternalFailure"), client_error("Throttling")]
    real = kms.do_describe_key

    def flaky(**kwargs):
        if failures:
            raise failures.pop()
        return real(**kwargs)

    kms.do_describe_key = flaky

    class Raw:
        def __getattr__(self, name):
            return lambda **kwargs: getattr(kms, name)(aws_retry=True, **kwargs)

    client = RetryingBotoClientWrapper(Raw(), AWSRetry.jittered_backoff(retries=3, delay=0, max_delay=0))
    module = fake_module()
    result = mod.ensure_present(mod.KeyStore(client, module), module, params())
    assert result["changed"] is False and failures == []


def test_inputs_are_checked_before_any_aws_call():
    args = dict(alias=ALIAS, tags={"Environment": "dev"}, region="us-east-1")
    result, services = run_main(mod.main, args, {})
    assert result["failed"] and "identity_tag_keys names Name, Component" in result["msg"]
    assert services == []
    result, services = run_main(mod.main, dict(alias=ALIAS, state="absent", pending_window=3), {})
    assert result["failed"] and "pending_window must be from 7 to 30" in result["msg"] and services == []
    result, _services = run_main(mod.main, dict(alias="alias/aws/s3"), {})
    assert result["failed"] and "reserved" in result["msg"]


def test_main_runs_a_noop_end_to_end():
    kms, key_id = converged()
    args = dict(alias="video-processing-dev", description=DESCRIPTION, policy=POLICY, tags=TAGS)
    result, services = run_main(mod.main, args, {"kms": kms})
    assert result["failed"] is False and result["changed"] is False
    assert result["key_id"] == key_id and services == ["kms"]


def test_a_key_of_another_kind_behind_the_alias_is_refused():
    kms, key_id = converged()
    kms.keys[key_id]["metadata"]["KeySpec"] = "RSA_2048"
    with pytest.raises(Failed, match="not a symmetric customer managed key"):
        present(kms)
