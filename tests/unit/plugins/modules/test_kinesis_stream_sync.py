"""kinesis_stream_sync: create, no-op, drift, reshard steps, shrink withheld, waits, check mode, delete.

The fake stream refuses changes while it is not ACTIVE (as Kinesis does) and stays
busy for `busy_reads` status reads after each create, reshard, retention or
encryption change.
"""

from __future__ import annotations

import itertools
from unittest import mock

import pytest
from ansible_collections.streamflix.video_pipeline.plugins.modules import kinesis_stream_sync as mod

from tests.unit.plugins.modules.fakes import Failed, client_error, fake_module, run_main

NAME = "video-ingestion-stream-dev"
ARN = f"arn:aws:kinesis:us-east-1:123456789012:stream/{NAME}"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd"
TAGS = {"Environment": "dev", "Component": "streaming"}
READS = ("describe_stream_summary", "list_tags_for_stream")


class FakeKinesis:
    def __init__(self, busy_reads=1, keeps_create_tags=False):
        self.stream = None
        self.calls = []
        self.busy_reads = busy_reads
        self.keeps_create_tags = keeps_create_tags
        self.busy_left = 0
        self.gone_after_reads = 0

    def add(self, shards=2, retention=24, key=KEY, tags=None, status="ACTIVE", mode="PROVISIONED"):
        self.stream = dict(
            StreamName=NAME,
            StreamARN=ARN,
            StreamStatus=status,
            OpenShardCount=shards,
            RetentionPeriodHours=retention,
            EncryptionType="KMS" if key else "NONE",
            StreamModeDetails={"StreamMode": mode},
            tags=dict(TAGS if tags is None else tags),
        )
        if key:
            self.stream["KeyId"] = key
        if status != "ACTIVE":
            self.busy_left = self.busy_reads
        return self

    def writes(self):
        return [(name, kwargs) for name, kwargs in self.calls if name not in READS]

    def write_names(self):
        return [name for name, _kwargs in self.writes()]

    def __getattr__(self, name):
        handler = getattr(self, "do_" + name)

        def call(aws_retry=False, **kwargs):
            assert aws_retry is True, f"{name} called without aws_retry"
            self.calls.append((name, kwargs))
            return handler(**kwargs)

        return call

    @property
    def meta(self):
        members = {"StreamName": 1, "ShardCount": 1, "StreamModeDetails": 1, "Tags": 1}
        meta = mock.MagicMock()
        meta.service_model.operation_model.return_value.input_shape.members = members
        return meta

    def _busy(self, status="UPDATING"):
        self.stream["StreamStatus"] = status
        self.busy_left = self.busy_reads

    def _active_only(self, operation):
        if self.stream is None:
            raise client_error("ResourceNotFoundException", operation)
        if self.stream["StreamStatus"] != "ACTIVE":
            raise client_error("ResourceInUseException", operation, f"not ACTIVE: {self.stream['StreamStatus']}")

    def do_describe_stream_summary(self, StreamName):
        if self.stream is None:
            raise client_error("ResourceNotFoundException", "DescribeStreamSummary")
        summary = {k: v for k, v in self.stream.items() if k != "tags"}
        if self.stream["StreamStatus"] == "DELETING":
            if self.busy_left <= 0:
                self.stream = None
            self.busy_left -= 1
        elif self.stream["StreamStatus"] != "ACTIVE":
            if self.busy_left <= 0:
                self.stream["StreamStatus"] = "ACTIVE"
            self.busy_left -= 1
        return {"StreamDescriptionSummary": summary}

    def do_list_tags_for_stream(self, StreamName, ExclusiveStartTagKey=None):
        return {"Tags": [{"Key": k, "Value": v} for k, v in sorted(self.stream["tags"].items())], "HasMoreTags": False}

    def do_create_stream(self, StreamName, ShardCount, StreamModeDetails, Tags=None):
        assert StreamModeDetails == {"StreamMode": "PROVISIONED"}
        self.add(shards=ShardCount, key=None, tags=Tags if self.keeps_create_tags else {}, status="CREATING")

    def do_add_tags_to_stream(self, StreamName, Tags):
        self._active_only("AddTagsToStream")
        self.stream["tags"].update(Tags)

    def do_remove_tags_from_stream(self, StreamName, TagKeys):
        self._active_only("RemoveTagsFromStream")
        for k in TagKeys:
            self.stream["tags"].pop(k)

    def do_update_shard_count(self, StreamName, TargetShardCount, ScalingType):
        self._active_only("UpdateShardCount")
        current = self.stream["OpenShardCount"]
        assert ScalingType == "UNIFORM_SCALING"
        assert (current + 1) // 2 <= TargetShardCount <= current * 2, f"{current} -> {TargetShardCount} in one call"
        self.stream["OpenShardCount"] = TargetShardCount
        self._busy()

    def do_increase_stream_retention_period(self, StreamName, RetentionPeriodHours):
        self._active_only("IncreaseStreamRetentionPeriod")
        assert RetentionPeriodHours > self.stream["RetentionPeriodHours"]
        self.stream["RetentionPeriodHours"] = RetentionPeriodHours
        self._busy()

    def do_decrease_stream_retention_period(self, StreamName, RetentionPeriodHours):
        self._active_only("DecreaseStreamRetentionPeriod")
        assert RetentionPeriodHours < self.stream["RetentionPeriodHours"]
        self.stream["RetentionPeriodHours"] = RetentionPeriodHours
        self._busy()

    def do_start_stream_encryption(self, StreamName, EncryptionType, KeyId):
        self._active_only("StartStreamEncryption")
        self.stream.update(EncryptionType=EncryptionType, KeyId=KeyId)
        self._busy()

    def do_update_stream_mode(self, StreamARN, StreamModeDetails):
        self._active_only("UpdateStreamMode")
        self.stream["StreamModeDetails"] = StreamModeDetails
        self._busy()

    def do_delete_stream(self, StreamName):
        self._active_only("DeleteStream")
        self._busy("DELETING")


@pytest.fixture(autouse=True)
def no_sleep():
    with mock.patch.object(mod.time, "sleep") as sleep:
        yield sleep


def params(**overrides):
    base = dict(
        name=NAME,
        state="present",
        shards=2,
        retention_period=24,
        encryption_key_id=KEY,
        allow_shrink=True,
        wait=True,
        wait_timeout=900,
        poll_interval=5,
        tags=dict(TAGS),
        purge_tags=True,
    )
    base.update(overrides)
    return base


def run(kinesis, state="present", check_mode=False, **overrides):
    module = fake_module(check_mode=check_mode)
    module.params = params(state=state, **overrides)
    stream = mod.Stream(kinesis, module, NAME)
    ensure = mod.ensure_present if state == "present" else mod.ensure_absent
    return ensure(stream, module, module.params)


@pytest.mark.parametrize(
    ("current", "wanted", "steps"),
    [(2, 8, [4, 8]), (8, 3, [4, 3]), (2, 2, []), (1, 5, [2, 4, 5]), (5, 1, [3, 2, 1]), (4, 2, [2]), (3, 4, [4])],
)
def test_reshard_steps_at_most_double_or_half(current, wanted, steps):
    assert mod.reshard_steps(current, wanted) == steps


def test_create_with_tags_then_encryption_once_active():
    kinesis = FakeKinesis(keeps_create_tags=True)
    result = run(kinesis, retention_period=48)
    assert result["changed"] is True
    assert kinesis.write_names() == ["create_stream", "increase_stream_retention_period", "start_stream_encryption"]
    create = kinesis.writes()[0][1]
    assert create["Tags"] == TAGS and create["ShardCount"] == 2
    assert result["stream_arn"] == ARN and result["stream_status"] == "ACTIVE"
    assert (result["open_shard_count"], result["retention_period_hours"], result["key_id"]) == (2, 48, KEY)
    assert kinesis.stream["EncryptionType"] == "KMS" and kinesis.stream["RetentionPeriodHours"] == 48


def test_create_adds_the_tags_an_endpoint_dropped():
    kinesis = FakeKinesis(keeps_create_tags=False)
    run(kinesis)
    assert kinesis.write_names() == ["create_stream", "add_tags_to_stream", "start_stream_encryption"]
    assert kinesis.stream["tags"] == TAGS


def test_noop_is_one_summary_and_one_tag_read():
    kinesis = FakeKinesis().add()
    result = run(kinesis)
    assert result["changed"] is False
    assert [name for name, _kwargs in kinesis.calls] == ["describe_stream_summary", "list_tags_for_stream"]
    assert result["shrink"] == {} and result["shard_steps"] == []
    assert result["diff"]["before"] == result["diff"]["after"]


def test_key_id_and_key_arn_are_the_same_key():
    kinesis = FakeKinesis().add(key="1234abcd")
    assert run(kinesis)["changed"] is False


def test_grow_goes_through_intermediate_counts_waiting_between_steps(no_sleep):
    kinesis = FakeKinesis(busy_reads=2).add(shards=2)
    result = run(kinesis, shards=8)
    assert result["changed"] is True and result["shard_steps"] == [4, 8]
    assert [kw["TargetShardCount"] for name, kw in kinesis.writes()] == [4, 8]
    assert kinesis.stream["OpenShardCount"] == 8
    # between the steps and after the last one: polled until ACTIVE, at the poll interval
    assert no_sleep.call_args_list and all(c.args == (5,) for c in no_sleep.call_args_list)


def test_shrink_8_to_3_is_4_then_3():
    kinesis = FakeKinesis().add(shards=8)
    result = run(kinesis, shards=3)
    assert [kw["TargetShardCount"] for _name, kw in kinesis.writes()] == [4, 3]
    assert result["shrink"] == {"shards": {"current": 8, "wanted": 3}}


def test_shrink_is_withheld_and_reported_without_allow_shrink():
    kinesis = FakeKinesis().add(shards=4, retention=48, tags={})
    result = run(kinesis, allow_shrink=False)
    assert result["shrink"] == {
        "shards": {"current": 4, "wanted": 2},
        "retention_period": {"current": 48, "wanted": 24},
    }
    # the tags are applied, the merge and the retention cut are not
    assert kinesis.write_names() == ["add_tags_to_stream"]
    assert (kinesis.stream["OpenShardCount"], kinesis.stream["RetentionPeriodHours"]) == (4, 48)
    assert result["open_shard_count"] == 4 and result["shard_steps"] == []
    # the second call applies them
    kinesis.calls.clear()
    result = run(kinesis, allow_shrink=True)
    assert kinesis.write_names() == ["decrease_stream_retention_period", "update_shard_count"]
    assert (kinesis.stream["OpenShardCount"], kinesis.stream["RetentionPeriodHours"]) == (2, 24)


def test_withheld_shrink_alone_is_no_change_but_a_grow_beside_it_is_applied():
    kinesis = FakeKinesis().add(shards=4, retention=24)
    result = run(kinesis, allow_shrink=False, retention_period=48)
    assert result["changed"] is True and result["shrink"] == {"shards": {"current": 4, "wanted": 2}}
    assert kinesis.write_names() == ["increase_stream_retention_period"]
    kinesis.calls.clear()
    result = run(kinesis, allow_shrink=False, retention_period=48)
    assert result["changed"] is False and kinesis.write_names() == []


@pytest.mark.parametrize(
    ("drift", "writes"),
    [
        (dict(retention=72), ["decrease_stream_retention_period"]),
        (dict(key=None), ["start_stream_encryption"]),
        (dict(key="arn:aws:kms:us-east-1:123456789012:key/other"), ["start_stream_encryption"]),
        (dict(tags={"Environment": "prod", "Component": "streaming"}), ["add_tags_to_stream"]),
        (dict(tags={**TAGS, "Stray": "x"}), ["remove_tags_from_stream"]),
        (dict(shards=3), ["update_shard_count"]),
        (dict(mode="ON_DEMAND"), ["update_stream_mode"]),
    ],
    ids=["retention", "unencrypted", "other-key", "tag-changed", "tag-stray", "shards", "on-demand"],
)
def test_drift_is_repaired_then_nothing_changes(drift, writes):
    kinesis = FakeKinesis().add(**drift)
    assert run(kinesis)["changed"] is True
    assert kinesis.write_names() == writes
    kinesis.calls.clear()
    assert run(kinesis)["changed"] is False
    assert kinesis.write_names() == []


def test_a_busy_stream_is_waited_for_before_a_change_and_not_when_nothing_changes(no_sleep):
    kinesis = FakeKinesis(busy_reads=2).add(status="UPDATING")
    assert run(kinesis)["changed"] is False
    assert no_sleep.call_count == 0
    kinesis = FakeKinesis(busy_reads=2).add(status="UPDATING", retention=48)
    result = run(kinesis)
    assert result["changed"] is True and kinesis.write_names() == ["decrease_stream_retention_period"]


def test_wait_false_skips_only_the_final_wait():
    kinesis = FakeKinesis(busy_reads=3).add(shards=2, retention=48)
    result = run(kinesis, shards=8, wait=False)
    # retention, 4, 8: each write after the first waited for ACTIVE; after the last one, no wait
    assert [name for name, _kwargs in kinesis.writes()].count("update_shard_count") == 2
    assert result["stream_status"] == "UPDATING"
    assert kinesis.calls[-1][0] == "update_shard_count"


def test_wait_times_out_with_a_clear_message():
    kinesis = FakeKinesis(busy_reads=10**6).add(retention=48)
    with (
        mock.patch.object(mod.time, "time", side_effect=itertools.count(0, 100)),
        pytest.raises(Failed, match="wait_timeout"),
    ):
        run(kinesis, shards=4)


def test_check_mode_writes_nothing():
    kinesis = FakeKinesis()
    created = run(kinesis, check_mode=True)
    assert created["changed"] is True and created["stream_arn"] == "" and kinesis.write_names() == []
    assert created["diff"]["after"]["shards"] == 2
    kinesis = FakeKinesis().add(shards=4, retention=48, key=None, tags={})
    result = run(kinesis, check_mode=True, shards=8)
    assert result["changed"] is True and result["shard_steps"] == [8]
    assert result["diff"]["after"]["encryption_type"] == "KMS"
    assert kinesis.write_names() == []


def test_check_mode_reports_a_shrink_for_the_warning():
    kinesis = FakeKinesis().add(shards=4, retention=48)
    result = run(kinesis, check_mode=True, allow_shrink=False)
    assert result["changed"] is False
    assert result["shrink"] == {
        "shards": {"current": 4, "wanted": 2},
        "retention_period": {"current": 48, "wanted": 24},
    }
    result = run(kinesis, check_mode=True, allow_shrink=True)
    assert result["changed"] is True and result["shard_steps"] == [2]
    assert kinesis.write_names() == []


def test_absent_deletes_waits_until_gone_then_changes_nothing():
    kinesis = FakeKinesis(busy_reads=2).add()
    result = run(kinesis, state="absent")
    assert result["changed"] is True and kinesis.stream is None
    assert kinesis.write_names() == ["delete_stream"]
    kinesis.calls.clear()
    assert run(kinesis, state="absent")["changed"] is False
    assert kinesis.write_names() == []


def test_absent_waits_for_a_busy_stream_and_check_mode_deletes_nothing():
    kinesis = FakeKinesis(busy_reads=2).add(status="UPDATING")
    assert run(kinesis, state="absent", check_mode=True)["changed"] is True
    assert kinesis.write_names() == []
    assert run(kinesis, state="absent")["changed"] is True
    assert kinesis.stream is None


def test_a_stream_being_deleted_is_waited_for_then_created_again():
    kinesis = FakeKinesis(busy_reads=1).add()
    kinesis._busy("DELETING")
    result = run(kinesis)
    assert result["changed"] is True and kinesis.write_names()[0] == "create_stream"


def test_inputs_are_checked_before_any_aws_call():
    result, services = run_main(mod.main, dict(name=NAME, shards=2, retention_period=12), {})
    assert result["failed"] and "retention_period must be from 24 to 8760" in result["msg"] and services == []
    result, services = run_main(mod.main, dict(name=NAME), {})
    assert result["failed"] and "shards must be a positive integer" in result["msg"] and services == []


def test_main_runs_a_noop_end_to_end():
    kinesis = FakeKinesis().add()
    args = dict(name=NAME, shards=2, retention_period=24, encryption_key_id=KEY, tags=TAGS)
    result, services = run_main(mod.main, args, {"kinesis": kinesis})
    assert result["failed"] is False and result["changed"] is False and services == ["kinesis"]
    assert result["stream_arn"] == ARN
