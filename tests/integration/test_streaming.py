"""The streaming role: KMS key, Kinesis stream and DLQ read back, changes in place, bad input.

The read-backs use the shared full-stack env (conftest.py: stack_env), the
in-place change the shared env of the "changes" group (changing_env). A run of
the role alone twice, and its teardown, are extensions/molecule/streaming/;
the prod DLQ guard is test_prod.py.
"""

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
def env_name(stack_env):
    return stack_env.name


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
    tags = kms_tags(aws, key["KeyId"])
    assert_standard_tags(tags, env_name)
    # what finds the key again if its alias is missing (a run killed before CreateAlias)
    assert tags["Name"] == f"alias/video-processing-{env_name}"


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


def test_shards_and_retention_change_in_place(changing_env, endpoint, aws):
    env_name = changing_env.name
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


def test_key_left_without_alias_by_a_killed_run_is_adopted(endpoint, aws):
    """A run killed between CreateKey and CreateAlias leaves a tagged key: the next run adopts it."""
    name = new_env("adopt")
    alias = f"alias/video-processing-{name}"
    tags = {**STANDARD_TAGS, "Environment": name, "Name": alias}
    kms = aws("kms")
    orphan = kms.create_key(Tags=[{"TagKey": k, "TagValue": v} for k, v in tags.items()])["KeyMetadata"]["KeyId"]

    deploy(endpoint, name, roles=ROLES)
    assert alias_target(aws, name) == orphan
    assert kms.get_key_rotation_status(KeyId=orphan)["KeyRotationEnabled"] is True
    keys_of_env = [k["KeyId"] for k in kms.list_keys()["Keys"] if kms_tags(aws, k["KeyId"]).get("Environment") == name]
    assert keys_of_env == [orphan], "a second key was created"
    assert_no_change(run_playbook(endpoint, "site.yml", name, roles=ROLES))

    teardown(endpoint, name, roles=ROLES)
    assert alias_target(aws, name) is None
    assert kms.describe_key(KeyId=orphan)["KeyMetadata"]["KeyState"] == "PendingDeletion"


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
