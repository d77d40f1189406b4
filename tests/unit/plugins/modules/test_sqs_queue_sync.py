"""sqs_queue_sync: create, no-op in three reads, drift, check mode, guarded delete (stateful fake SQS)."""

from __future__ import annotations

import pytest
from ansible_collections.streamflix.video_pipeline.plugins.modules import sqs_queue_sync as mod

from tests.unit.plugins.modules.fakes import client_error, fake_module, run_main

NAME = "video-processing-dlq-dev"
URL = f"https://sqs.us-east-1.amazonaws.com/123456789012/{NAME}"
ARN = f"arn:aws:sqs:us-east-1:123456789012:{NAME}"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd"
TAGS = {"Environment": "dev", "Component": "streaming"}
READS = ("get_queue_url", "get_queue_attributes", "list_queue_tags")


class FakeSqs:
    def __init__(self):
        self.queue = None
        self.calls = []

    def add(self, retention="1209600", key=KEY, tags=None, messages=(0, 0, 0)):
        self.queue = dict(
            attributes={
                "QueueArn": ARN,
                "MessageRetentionPeriod": retention,
                "VisibilityTimeout": "30",
                "ApproximateNumberOfMessages": str(messages[0]),
                "ApproximateNumberOfMessagesNotVisible": str(messages[1]),
                "ApproximateNumberOfMessagesDelayed": str(messages[2]),
            },
            tags=dict(TAGS if tags is None else tags),
        )
        if key:
            self.queue["attributes"]["KmsMasterKeyId"] = key
        return self

    def write_names(self):
        return [name for name, _kwargs in self.calls if name not in READS]

    def __getattr__(self, name):
        handler = getattr(self, "do_" + name)

        def call(aws_retry=False, **kwargs):
            assert aws_retry is True, f"{name} called without aws_retry"
            self.calls.append((name, kwargs))
            return handler(**kwargs)

        return call

    def do_get_queue_url(self, QueueName):
        if self.queue is None:
            raise client_error("AWS.SimpleQueueService.NonExistentQueue", "GetQueueUrl")
        return {"QueueUrl": URL}

    def do_get_queue_attributes(self, QueueUrl, AttributeNames):
        return {"Attributes": {k: v for k, v in self.queue["attributes"].items() if k in AttributeNames}}

    def do_list_queue_tags(self, QueueUrl):
        return {"Tags": dict(self.queue["tags"])} if self.queue["tags"] else {}

    def do_create_queue(self, QueueName, Attributes, tags=None):
        self.add(retention=Attributes.get("MessageRetentionPeriod", "345600"), key=Attributes.get("KmsMasterKeyId"))
        self.queue["tags"] = dict(tags or {})
        return {"QueueUrl": URL}

    def do_set_queue_attributes(self, QueueUrl, Attributes):
        self.queue["attributes"].update(Attributes)

    def do_tag_queue(self, QueueUrl, Tags):
        self.queue["tags"].update(Tags)

    def do_untag_queue(self, QueueUrl, TagKeys):
        for k in TagKeys:
            self.queue["tags"].pop(k)

    def do_delete_queue(self, QueueUrl):
        self.queue = None


def params(**overrides):
    base = dict(
        name=NAME,
        state="present",
        message_retention_period=1209600,
        visibility_timeout=None,
        kms_master_key_id=KEY,
        kms_data_key_reuse_period=None,
        keep_if_messages=False,
        tags=dict(TAGS),
        purge_tags=True,
    )
    base.update(overrides)
    return base


def run(sqs, state="present", check_mode=False, **overrides):
    module = fake_module(check_mode=check_mode)
    queue = mod.Queue(sqs, module, NAME)
    ensure = mod.ensure_present if state == "present" else mod.ensure_absent
    return ensure(queue, module, params(state=state, **overrides))


def test_create_with_attributes_and_tags_in_one_call():
    sqs = FakeSqs()
    result = run(sqs)
    assert result["changed"] is True
    assert sqs.write_names() == ["create_queue"]
    create = next(kw for name, kw in sqs.calls if name == "create_queue")
    assert create["Attributes"] == {"MessageRetentionPeriod": "1209600", "KmsMasterKeyId": KEY}
    assert create["tags"] == TAGS
    assert (result["queue_url"], result["queue_arn"]) == (URL, ARN)
    sqs.calls.clear()
    assert run(sqs)["changed"] is False


def test_noop_is_three_reads():
    sqs = FakeSqs().add()
    result = run(sqs)
    assert result["changed"] is False
    assert [name for name, _kwargs in sqs.calls] == ["get_queue_url", "get_queue_attributes", "list_queue_tags"]
    assert (result["queue_url"], result["queue_arn"]) == (URL, ARN)
    assert result["diff"]["before"] == result["diff"]["after"]


def test_key_id_and_key_arn_are_the_same_key():
    assert run(FakeSqs().add(key="1234abcd"))["changed"] is False


@pytest.mark.parametrize(
    ("drift", "writes"),
    [
        (dict(retention="345600"), ["set_queue_attributes"]),
        (dict(key=None), ["set_queue_attributes"]),
        (dict(tags={"Environment": "prod", "Component": "streaming"}), ["tag_queue"]),
        (dict(tags={**TAGS, "Stray": "x"}), ["untag_queue"]),
    ],
    ids=["retention", "unencrypted", "tag-changed", "tag-stray"],
)
def test_drift_is_repaired_then_nothing_changes(drift, writes):
    sqs = FakeSqs().add(**drift)
    assert run(sqs)["changed"] is True
    assert sqs.write_names() == writes
    sqs.calls.clear()
    assert run(sqs)["changed"] is False and sqs.write_names() == []


def test_only_differing_attributes_are_set():
    sqs = FakeSqs().add(retention="345600")
    run(sqs)
    (set_call,) = [kw for name, kw in sqs.calls if name == "set_queue_attributes"]
    assert set_call["Attributes"] == {"MessageRetentionPeriod": "1209600"}


def test_check_mode_writes_nothing():
    sqs = FakeSqs()
    result = run(sqs, check_mode=True)
    assert result["changed"] is True and result["queue_url"] == "" and sqs.write_names() == []
    sqs = FakeSqs().add(retention="60", tags={})
    result = run(sqs, check_mode=True)
    assert result["changed"] is True and sqs.write_names() == []
    assert result["diff"]["after"]["attributes"]["MessageRetentionPeriod"] == "1209600"


def test_empty_key_leaves_encryption_alone():
    sqs = FakeSqs().add(key=None)
    assert run(sqs, kms_master_key_id="")["changed"] is False


def test_absent_deletes_then_changes_nothing():
    sqs = FakeSqs().add(messages=(3, 0, 0))
    result = run(sqs, state="absent")
    assert result["changed"] is True and result["kept"] is False and sqs.queue is None
    assert sqs.write_names() == ["delete_queue"]
    sqs.calls.clear()
    assert run(sqs, state="absent")["changed"] is False and sqs.write_names() == []


@pytest.mark.parametrize("messages", [(1, 0, 0), (0, 2, 0), (0, 0, 4)])
def test_keep_if_messages_keeps_a_queue_that_holds_any(messages):
    sqs = FakeSqs().add(messages=messages)
    result = run(sqs, state="absent", keep_if_messages=True)
    assert result["changed"] is False and result["kept"] is True
    assert result["messages"] == sum(messages) and result["queue_url"] == URL
    assert sqs.write_names() == [] and sqs.queue is not None


def test_keep_if_messages_deletes_an_empty_queue():
    sqs = FakeSqs().add()
    result = run(sqs, state="absent", keep_if_messages=True)
    assert result["changed"] is True and result["kept"] is False and result["messages"] == 0
    assert sqs.queue is None


def test_absent_in_check_mode_deletes_nothing():
    sqs = FakeSqs().add()
    assert run(sqs, state="absent", check_mode=True)["changed"] is True
    assert sqs.write_names() == []


def test_inputs_are_checked_before_any_aws_call():
    result, services = run_main(mod.main, dict(name=NAME, message_retention_period=2000000), {})
    assert result["failed"] and "message_retention_period must be from 60 to 1209600" in result["msg"]
    assert services == []


def test_main_runs_a_noop_end_to_end():
    sqs = FakeSqs().add()
    args = dict(name=NAME, message_retention_period=1209600, kms_master_key_id=KEY, tags=TAGS)
    result, services = run_main(mod.main, args, {"sqs": sqs})
    assert result["failed"] is False and result["changed"] is False and services == ["sqs"]
