"""The streaming role against the emulator: KMS key, Kinesis stream, DLQ; idempotency, in-place changes, teardown."""

from __future__ import annotations

import json

import pytest

from tests.integration.helpers import assert_no_change, deploy, new_env, run_playbook, teardown

ROLES = ["streaming"]
STANDARD_TAGS = {"Project": "video-processing", "ManagedBy": "ansible", "Component": "streaming"}


def kms_tags(aws, key_id) -> dict:
    return {t["TagKey"]: t["TagValue"] for t in aws("kms").list_resource_tags(KeyId=key_id)["Tags"]}


def assert_standard_tags(tags: dict, env_name: str) -> None:
    assert {k: tags.get(k) for k in STANDARD_TAGS} == STANDARD_TAGS
    assert tags["Environment"] == env_name


def alias_target(aws, env_name):
    wanted = f"alias/video-processing-{env_name}"
    aliases = [a for a in aws("kms").list_aliases()["Aliases"] if a["AliasName"] == wanted]
    return aliases[0].get("TargetKeyId") if aliases else None


def queue_url(aws, env_name):
    return aws("sqs").get_queue_url(QueueName=f"video-processing-dlq-{env_name}")["QueueUrl"]


@pytest.fixture(scope="module")
def env_name(endpoint):
    name = new_env("str")
    deploy(endpoint, name, roles=ROLES)
    yield name
    run_playbook(endpoint, "teardown.yml", name, roles=ROLES)


@pytest.fixture(scope="module")
def key(env_name, aws):
    key_id = alias_target(aws, env_name)
    assert key_id, "alias/video-processing-{env} does not exist"
    return aws("kms").describe_key(KeyId=key_id)["KeyMetadata"]


def test_kms_key(key, env_name, aws):
    kms = aws("kms")
    assert key["KeyManager"] == "CUSTOMER"
    assert key["KeyState"] == "Enabled"
    assert key["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is True
    assert_standard_tags(kms_tags(aws, key["KeyId"]), env_name)


def test_kms_key_policy(key, aws):
    policy = json.loads(aws("kms").get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    account = key["Arn"].split(":")[4]
    root = statements["AccountRootAdministers"]
    assert root["Principal"] == {"AWS": f"arn:aws:iam::{account}:root"} and root["Action"] == "kms:*"
    logs = statements["CloudWatchLogsPipelineGroups"]
    assert logs["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    contexts = logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert all(c.startswith(f"arn:aws:logs:us-east-1:{account}:log-group:") for c in contexts)
    publishers = statements["AlarmsAndEventsPublishToEncryptedTopicsAndQueues"]
    assert sorted(publishers["Principal"]["Service"]) == ["cloudwatch.amazonaws.com", "events.amazonaws.com"]
    assert publishers["Condition"] == {"StringEquals": {"aws:SourceAccount": account}}
    # nobody but the account root gets kms:* and no statement names a wildcard principal
    assert all(s["Principal"] != "*" and s["Principal"] != {"AWS": "*"} for s in policy["Statement"])


def test_stream(key, env_name, aws):
    kinesis = aws("kinesis")
    name = f"video-ingestion-stream-{env_name}"
    summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    assert summary["StreamStatus"] == "ACTIVE"
    assert summary["OpenShardCount"] == 2
    assert summary["RetentionPeriodHours"] == 24
    assert summary["EncryptionType"] == "KMS"
    assert summary["KeyId"] in (key["Arn"], key["KeyId"])
    tags = {t["Key"]: t["Value"] for t in kinesis.list_tags_for_stream(StreamName=name)["Tags"]}
    assert_standard_tags(tags, env_name)


def test_dead_letter_queue(key, env_name, aws):
    sqs = aws("sqs")
    url = queue_url(aws, env_name)
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["MessageRetentionPeriod"] == "1209600"
    assert attributes["KmsMasterKeyId"] in (key["Arn"], key["KeyId"])
    assert_standard_tags(sqs.list_queue_tags(QueueUrl=url)["Tags"], env_name)


# A second run of the role alone changing nothing is molecule's idempotence step
# (extensions/molecule/streaming/); a second run of all six roles, test_full_stack.py.


def test_check_diff_on_converged_env_changes_nothing(env_name, endpoint):
    assert_no_change(run_playbook(endpoint, "site.yml", env_name, roles=ROLES, check=True, diff=True))


def test_shards_and_retention_change_in_place(env_name, endpoint, aws):
    kinesis = aws("kinesis")
    name = f"video-ingestion-stream-{env_name}"
    arn_before = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]

    bigger = {"streaming_shard_count": 4, "streaming_retention_hours": 48}
    grow = run_playbook(endpoint, "site.yml", env_name, roles=ROLES, extra_vars=bigger)
    assert grow.rc == 0 and grow.failed == 0, grow.explain()
    assert any(t.startswith("streamflix.video_pipeline.streaming : Kinesis stream") for t in grow.changed_tasks())
    assert "WARNING" not in grow.stdout
    summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    assert (summary["OpenShardCount"], summary["RetentionPeriodHours"]) == (4, 48)
    assert summary["StreamARN"] == arn_before, "the stream was replaced instead of updated"
    assert summary["EncryptionType"] == "KMS"

    # back to the profile's values: a merge and a retention cut, announced first
    shrink = run_playbook(endpoint, "site.yml", env_name, roles=ROLES)
    assert shrink.rc == 0 and shrink.failed == 0, shrink.explain()
    assert "WARNING: video-ingestion-stream" in shrink.stdout
    assert "shards 4 -> 2" in shrink.stdout and "retention 48 h -> 24 h" in shrink.stdout
    summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    assert (summary["OpenShardCount"], summary["RetentionPeriodHours"]) == (2, 24)
    assert summary["StreamARN"] == arn_before


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"streaming_shard_count": 65}, "streaming_shard_count must be an integer from 1 to 64"),
        ({"streaming_shard_count": "two"}, "argument 'streaming_shard_count' is of type str"),
        ({"streaming_retention_hours": 23}, "streaming_retention_hours must be an integer from 24 to 8760"),
        ({"streaming_retention_hours": 9000}, "streaming_retention_hours must be an integer from 24 to 8760"),
    ],
)
def test_bad_input_is_refused_before_aws(extra, message, endpoint, aws):
    name = new_env("bad")
    run = run_playbook(endpoint, "site.yml", name, roles=ROLES, extra_vars=extra)
    assert run.rc != 0
    assert message in run.stdout + run.stderr, run.explain()
    assert alias_target(aws, name) is None


def test_check_mode_on_empty_account_creates_nothing(endpoint, aws):
    name = new_env("chk")
    run = run_playbook(endpoint, "site.yml", name, roles=ROLES, check=True, diff=True)
    assert run.rc == 0 and run.failed == 0, run.explain()
    assert run.changed >= 1, "check mode should report that the key, stream and queue would be created"
    assert alias_target(aws, name) is None
    assert f"video-ingestion-stream-{name}" not in aws("kinesis").list_streams()["StreamNames"]
    assert not [u for u in aws("sqs").list_queues().get("QueueUrls", []) if u.endswith(f"-dlq-{name}")]


def test_prod_teardown_keeps_a_dlq_with_messages(endpoint, aws):
    deploy(endpoint, "prod", roles=ROLES)
    aws("sqs").send_message(QueueUrl=queue_url(aws, "prod"), MessageBody='{"video": "failed.mp4"}')
    refused = run_playbook(endpoint, "teardown.yml", "prod", roles=ROLES, extra_vars={"confirm_teardown": "prod"})
    assert refused.rc != 0
    assert "streaming_force_delete_dlq=true" in refused.stdout, refused.explain()
    assert queue_url(aws, "prod")
    teardown(endpoint, "prod", roles=ROLES, extra_vars={"confirm_teardown": "prod", "streaming_force_delete_dlq": True})
    assert not [u for u in aws("sqs").list_queues().get("QueueUrls", []) if u.endswith("-dlq-prod")]


def test_teardown_twice_leaves_nothing(env_name, key, endpoint, aws):
    first = teardown(endpoint, env_name, roles=ROLES)
    assert first.changed >= 3, first.changed_tasks()
    second = teardown(endpoint, env_name, roles=ROLES)
    assert second.changed == 0, second.changed_tasks()
    assert f"video-ingestion-stream-{env_name}" not in aws("kinesis").list_streams()["StreamNames"]
    assert not [u for u in aws("sqs").list_queues().get("QueueUrls", []) if u.endswith(f"-dlq-{env_name}")]
    # A key cannot be deleted at once: it waits out the 7-day window; its alias is gone.
    metadata = aws("kms").describe_key(KeyId=key["KeyId"])["KeyMetadata"]
    assert metadata["KeyState"] == "PendingDeletion"
    assert alias_target(aws, env_name) is None
