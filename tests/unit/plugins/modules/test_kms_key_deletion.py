"""kms_key_deletion: schedule by key id, delete the alias, idempotency, check mode (mocked client)."""

from __future__ import annotations

import datetime
from unittest.mock import MagicMock

import pytest
from ansible_collections.streamflix.video_pipeline.plugins.modules import kms_key_deletion as mod

from tests.unit.plugins.modules.fakes import Failed, client_error, fake_module

ALIAS = "alias/video-processing-dev"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
WHEN = datetime.datetime(2026, 12, 3, tzinfo=datetime.UTC)


def not_found(operation):
    return client_error("NotFoundException", operation)


def client_with(state):
    client = MagicMock()
    if state is None:
        client.describe_key.side_effect = not_found("DescribeKey")
    else:
        metadata = {"KeyId": KEY_ID, "Arn": f"arn:aws:kms:us-east-1:123456789012:key/{KEY_ID}", "KeyState": state}
        if state == "PendingDeletion":
            metadata["DeletionDate"] = WHEN
        client.describe_key.return_value = {"KeyMetadata": metadata}
    client.schedule_key_deletion.return_value = {"KeyId": KEY_ID, "DeletionDate": WHEN}
    return client


def test_enabled_key_is_scheduled_by_id_and_its_alias_deleted():
    client = client_with("Enabled")
    result = mod.retire(client, fake_module(), ALIAS, 7)
    assert result["changed"] is True
    assert result["key_state"] == "PendingDeletion"
    assert result["deletion_date"] == WHEN.isoformat()
    client.schedule_key_deletion.assert_called_once_with(KeyId=KEY_ID, PendingWindowInDays=7, aws_retry=True)
    client.delete_alias.assert_called_once_with(AliasName=ALIAS, aws_retry=True)
    assert result["diff"]["before"]["key_state"] == "Enabled"


def test_missing_alias_means_already_retired():
    client = client_with(None)
    result = mod.retire(client, fake_module(), ALIAS, 7)
    assert result["changed"] is False
    client.schedule_key_deletion.assert_not_called()
    client.delete_alias.assert_not_called()


def test_key_pending_deletion_only_loses_its_alias():
    """An earlier run died between the two calls: finish the job without rescheduling."""
    client = client_with("PendingDeletion")
    result = mod.retire(client, fake_module(), ALIAS, 7)
    assert result["changed"] is True
    client.schedule_key_deletion.assert_not_called()
    client.delete_alias.assert_called_once_with(AliasName=ALIAS, aws_retry=True)


def test_check_mode_reports_without_calling():
    client = client_with("Enabled")
    result = mod.retire(client, fake_module(check_mode=True), ALIAS, 30)
    assert result["changed"] is True
    client.schedule_key_deletion.assert_not_called()
    client.delete_alias.assert_not_called()


def test_alias_deleted_meanwhile_is_fine():
    client = client_with("Enabled")
    client.delete_alias.side_effect = not_found("DeleteAlias")
    assert mod.retire(client, fake_module(), ALIAS, 7)["changed"] is True


def test_other_errors_fail():
    client = client_with("Enabled")
    client.schedule_key_deletion.side_effect = client_error("KMSInvalidStateException", "ScheduleKeyDeletion")
    with pytest.raises(Failed):
        mod.retire(client, fake_module(), ALIAS, 7)


@pytest.mark.parametrize(("given", "wanted"), [("video-processing-dev", ALIAS), (ALIAS, ALIAS)])
def test_alias_prefix_is_optional(given, wanted):
    assert mod.canonical_alias(given) == wanted
