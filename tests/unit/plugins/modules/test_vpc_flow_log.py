"""vpc_flow_log: find, replace on immutable differences, tags, check mode, absent (mocked client)."""

from __future__ import annotations

from unittest.mock import MagicMock

import pytest
from ansible_collections.streamflix.video_pipeline.plugins.modules import vpc_flow_log as mod

from tests.unit.plugins.modules.fakes import Failed, client_error, fake_module

ROLE = "arn:aws:iam::123456789012:role/flowlogs"
PARAMS = {
    "resource_id": "vpc-1",
    "resource_type": "VPC",
    "log_group_name": "/vpc/x",
    "deliver_logs_permission_arn": ROLE,
    "traffic_type": "ALL",
    "max_aggregation_interval": 600,
    "log_format": None,
    "tags": {"Component": "monitoring"},
    "purge_tags": True,
    "state": "present",
}


def flow_log(flow_log_id="fl-1", **overrides):
    item = {
        "FlowLogId": flow_log_id,
        "ResourceId": "vpc-1",
        "LogGroupName": "/vpc/x",
        "LogDestinationType": "cloud-watch-logs",
        "DeliverLogsPermissionArn": ROLE,
        "TrafficType": "ALL",
        "MaxAggregationInterval": 600,
        "LogFormat": "${version} ${action}",
        "FlowLogStatus": "ACTIVE",
        "Tags": [{"Key": "Component", "Value": "monitoring"}],
    }
    item.update(overrides)
    return item


def client_with(*listings):
    """A client whose successive DescribeFlowLogs listings are `listings` (one page each)."""
    client = MagicMock()
    client.describe_flow_logs.side_effect = [{"FlowLogs": list(x)} for x in listings]
    client.create_flow_logs.return_value = {"FlowLogIds": ["fl-new"], "Unsuccessful": []}
    client.delete_flow_logs.return_value = {"Unsuccessful": []}
    return client


def test_differences_ignore_unset_log_format():
    assert mod.differences(flow_log(), PARAMS) == []
    assert mod.differences(flow_log(TrafficType="REJECT"), PARAMS) == ["traffic_type"]
    assert mod.differences(flow_log(), dict(PARAMS, log_format="${action}")) == ["log_format"]


def test_flow_logs_of_other_resources_or_groups_are_ignored():
    client = client_with([flow_log(), flow_log("fl-2", ResourceId="vpc-2"), flow_log("fl-3", LogGroupName="/other")])
    assert [f["FlowLogId"] for f in mod.find_flow_logs(client, fake_module(), "vpc-1", "/vpc/x")] == ["fl-1"]


def test_matching_flow_log_changes_nothing():
    client = client_with([flow_log()])
    result = mod.ensure_present(client, fake_module(), PARAMS)
    assert result["changed"] is False
    assert client.describe_flow_logs.call_count == 1  # nothing re-read to report
    assert result["flow_log_id"] == "fl-1"
    assert result["flow_log"]["traffic_type"] == "ALL"
    assert result["flow_log"]["tags"] == {"Component": "monitoring"}
    client.create_flow_logs.assert_not_called()
    client.delete_flow_logs.assert_not_called()
    client.create_tags.assert_not_called()


def test_missing_flow_log_is_created_with_tags():
    client = client_with([])
    result = mod.ensure_present(client, fake_module(), PARAMS)
    assert result["changed"] is True
    assert result["flow_log_id"] == "fl-new"
    assert result["flow_log"]["flow_log_id"] == "fl-new" and result["flow_log"]["tags"] == {"Component": "monitoring"}
    assert client.describe_flow_logs.call_count == 1  # the result is built from the request
    request = client.create_flow_logs.call_args.kwargs
    assert request["ResourceIds"] == ["vpc-1"]
    assert request["TrafficType"] == "ALL"
    assert request["LogDestinationType"] == "cloud-watch-logs"
    assert request["LogGroupName"] == "/vpc/x"
    assert request["DeliverLogsPermissionArn"] == ROLE
    assert request["TagSpecifications"] == [
        {"ResourceType": "vpc-flow-log", "Tags": [{"Key": "Component", "Value": "monitoring"}]}
    ]
    assert "LogFormat" not in request


def test_immutable_difference_replaces_the_flow_log():
    client = client_with([flow_log(TrafficType="REJECT")])
    result = mod.ensure_present(client, fake_module(), PARAMS)
    assert result["changed"] is True
    client.delete_flow_logs.assert_called_once_with(FlowLogIds=["fl-1"], aws_retry=True)
    client.create_flow_logs.assert_called_once()
    assert result["diff"]["before"]["traffic_type"] == "REJECT"
    assert result["diff"]["after"]["traffic_type"] == "ALL"


def test_duplicates_are_removed_and_the_matching_one_kept():
    client = client_with([flow_log("fl-1", TrafficType="ACCEPT"), flow_log("fl-2")])
    result = mod.ensure_present(client, fake_module(), PARAMS)
    assert result["changed"] is True
    assert result["flow_log_id"] == "fl-2"
    client.delete_flow_logs.assert_called_once_with(FlowLogIds=["fl-1"], aws_retry=True)
    client.create_flow_logs.assert_not_called()


def test_tags_are_updated_in_place():
    current = flow_log(Tags=[{"Key": "Component", "Value": "old"}, {"Key": "Stray", "Value": "x"}])
    client = client_with([current])
    result = mod.ensure_present(client, fake_module(), PARAMS)
    assert result["changed"] is True
    assert result["flow_log"]["tags"] == {"Component": "monitoring"}
    client.delete_tags.assert_called_once_with(Resources=["fl-1"], Tags=[{"Key": "Stray"}], aws_retry=True)
    client.create_tags.assert_called_once_with(
        Resources=["fl-1"], Tags=[{"Key": "Component", "Value": "monitoring"}], aws_retry=True
    )
    client.create_flow_logs.assert_not_called()


def test_check_mode_creates_and_deletes_nothing():
    for listing in ([], [flow_log(TrafficType="REJECT")], [flow_log(Tags=[])]):
        client = client_with(listing)
        result = mod.ensure_present(client, fake_module(check_mode=True), PARAMS)
        assert result["changed"] is True
        assert result["diff"]["after"]["tags"] == {"Component": "monitoring"}
        client.create_flow_logs.assert_not_called()
        client.delete_flow_logs.assert_not_called()
        client.create_tags.assert_not_called()


def test_check_mode_on_a_matching_flow_log_reports_no_change():
    client = client_with([flow_log()])
    result = mod.ensure_present(client, fake_module(check_mode=True), PARAMS)
    assert result["changed"] is False
    assert result["diff"]["before"] == result["diff"]["after"]


def test_refused_creation_fails():
    client = client_with([])
    client.create_flow_logs.return_value = {
        "FlowLogIds": [],
        "Unsuccessful": [{"ResourceId": "vpc-1", "Error": {"Code": "AccessDenied", "Message": "no"}}],
    }
    with pytest.raises(Failed) as failed:
        mod.ensure_present(client, fake_module(), PARAMS)
    assert failed.value.args[0]["unsuccessful"][0]["error"]["code"] == "AccessDenied"


def test_absent_deletes_every_matching_flow_log():
    client = client_with([flow_log("fl-1"), flow_log("fl-2")])
    result = mod.ensure_absent(client, fake_module(), PARAMS)
    assert result["changed"] is True
    client.delete_flow_logs.assert_called_once_with(FlowLogIds=["fl-1", "fl-2"], aws_retry=True)


def test_absent_when_missing_or_in_check_mode():
    client = client_with([])
    assert mod.ensure_absent(client, fake_module(), PARAMS)["changed"] is False
    client = client_with([flow_log()])
    assert mod.ensure_absent(client, fake_module(check_mode=True), PARAMS)["changed"] is True
    client.delete_flow_logs.assert_not_called()


def test_absent_without_resource_finds_every_flow_log_of_the_group():
    client = client_with([flow_log("fl-1"), flow_log("fl-2", ResourceId="vpc-2"), flow_log("fl-3", LogGroupName="/o")])
    result = mod.ensure_absent(client, fake_module(), dict(PARAMS, resource_id=None))
    assert result["changed"] is True
    client.delete_flow_logs.assert_called_once_with(FlowLogIds=["fl-1", "fl-2"], aws_retry=True)
    filters = client.describe_flow_logs.call_args.kwargs["Filters"]
    assert [f["Name"] for f in filters] == ["log-destination-type", "log-group-name"]


def test_every_page_is_read_with_retries():
    client = MagicMock()
    client.describe_flow_logs.side_effect = [
        {"FlowLogs": [flow_log("fl-1")], "NextToken": "t"},
        {"FlowLogs": [flow_log("fl-2")]},
    ]
    assert [f["FlowLogId"] for f in mod.find_flow_logs(client, fake_module(), "vpc-1", "/vpc/x")] == ["fl-1", "fl-2"]
    assert client.describe_flow_logs.call_args.kwargs["NextToken"] == "t"
    assert all(call.kwargs["aws_retry"] is True for call in client.describe_flow_logs.call_args_list)


def test_delete_of_a_vanished_flow_log_is_not_an_error():
    client = client_with([flow_log()])
    client.delete_flow_logs.side_effect = client_error("InvalidFlowLogId.NotFound", "DeleteFlowLogs")
    assert mod.ensure_absent(client, fake_module(), PARAMS)["changed"] is True
