"""sns_topic_encryption: compare, set, check mode, missing topic (mocked client)."""

from __future__ import annotations

from unittest.mock import MagicMock

import pytest
from ansible_collections.streamflix.video_pipeline.plugins.modules import sns_topic_encryption as mod

from tests.unit.plugins.modules.fakes import Failed, client_error, fake_module

TOPIC = "arn:aws:sns:us-east-1:123456789012:alarms"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234"


def client_with(key):
    client = MagicMock()
    if key is None:
        client.get_topic_attributes.side_effect = client_error("NotFound", "GetTopicAttributes")
    else:
        attributes = {"TopicArn": TOPIC}
        if key:
            attributes["KmsMasterKeyId"] = key
        client.get_topic_attributes.return_value = {"Attributes": attributes}
    return client


def test_same_key_changes_nothing():
    client = client_with(KEY)
    result = mod.ensure(client, fake_module(), TOPIC, KEY)
    assert result["changed"] is False
    client.set_topic_attributes.assert_not_called()


def test_unencrypted_topic_gets_the_key():
    client = client_with("")
    result = mod.ensure(client, fake_module(), TOPIC, KEY)
    assert result["changed"] is True
    assert result["diff"] == {"before": {"kms_master_key_id": ""}, "after": {"kms_master_key_id": KEY}}
    client.set_topic_attributes.assert_called_once_with(
        TopicArn=TOPIC, AttributeName="KmsMasterKeyId", AttributeValue=KEY, aws_retry=True
    )


def test_empty_key_turns_encryption_off():
    client = client_with(KEY)
    assert mod.ensure(client, fake_module(), TOPIC, "")["changed"] is True
    assert client.set_topic_attributes.call_args.kwargs["AttributeValue"] == ""


def test_check_mode_does_not_write():
    client = client_with("alias/other")
    assert mod.ensure(client, fake_module(check_mode=True), TOPIC, KEY)["changed"] is True
    client.set_topic_attributes.assert_not_called()


def test_missing_topic_fails_except_in_check_mode():
    with pytest.raises(Failed) as failed:
        mod.ensure(client_with(None), fake_module(), TOPIC, KEY)
    assert "does not exist" in failed.value.args[0]["msg"]
    assert mod.ensure(client_with(None), fake_module(check_mode=True), TOPIC, KEY)["changed"] is True
