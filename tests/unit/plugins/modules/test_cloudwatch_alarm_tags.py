"""cloudwatch_alarm_tags: compare, tag/untag, purge, check mode, missing alarms (mocked client)."""

from __future__ import annotations

from unittest.mock import MagicMock

import pytest
from ansible_collections.streamflix.video_pipeline.plugins.modules import cloudwatch_alarm_tags as mod

from tests.unit.plugins.modules.fakes import Failed, fake_module

ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:"
WANTED = {"Project": "video-processing", "Component": "monitoring"}


def client_with(alarms):
    """alarms: {name: {tag: value}} of the alarms that exist."""
    client = MagicMock()
    client.get_paginator.return_value.paginate.return_value.build_full_result.return_value = {
        "MetricAlarms": [{"AlarmName": name, "AlarmArn": ARN + name} for name in alarms]
    }
    client.list_tags_for_resource.side_effect = lambda ResourceARN, aws_retry: {
        "Tags": [{"Key": k, "Value": v} for k, v in alarms[ResourceARN[len(ARN) :]].items()]
    }
    return client


def test_tagged_alarms_change_nothing():
    client = client_with({"a": dict(WANTED), "b": dict(WANTED)})
    result = mod.ensure(client, fake_module(), ["a", "b"], WANTED, True)
    assert result["changed"] is False
    assert result["alarms"]["a"] == {"alarm_arn": ARN + "a", "tags": WANTED}
    client.tag_resource.assert_not_called()
    client.untag_resource.assert_not_called()


def test_missing_and_stray_tags_are_fixed():
    client = client_with({"a": {"Project": "video-processing", "Stray": "x"}})
    result = mod.ensure(client, fake_module(), ["a"], WANTED, True)
    assert result["changed"] is True
    client.untag_resource.assert_called_once_with(ResourceARN=ARN + "a", TagKeys=["Stray"], aws_retry=True)
    client.tag_resource.assert_called_once_with(
        ResourceARN=ARN + "a", Tags=[{"Key": "Component", "Value": "monitoring"}], aws_retry=True
    )
    assert result["diff"]["after"]["a"] == WANTED


def test_without_purge_stray_tags_stay():
    client = client_with({"a": {"Stray": "x", **WANTED}})
    result = mod.ensure(client, fake_module(), ["a"], WANTED, False)
    assert result["changed"] is False
    client.untag_resource.assert_not_called()


def test_check_mode_reports_without_tagging():
    client = client_with({"a": {}})
    result = mod.ensure(client, fake_module(check_mode=True), ["a", "not-yet"], WANTED, True)
    assert result["changed"] is True
    assert result["alarms"]["not-yet"] == {"alarm_arn": "", "tags": WANTED}
    client.tag_resource.assert_not_called()


def test_missing_alarm_fails_outside_check_mode():
    with pytest.raises(Failed) as failed:
        mod.ensure(client_with({"a": {}}), fake_module(), ["a", "gone"], WANTED, True)
    assert "gone" in failed.value.args[0]["msg"]
