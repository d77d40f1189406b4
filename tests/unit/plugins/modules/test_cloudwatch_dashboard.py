"""cloudwatch_dashboard: body comparison, check mode, absent, validation failures (mocked client)."""

from __future__ import annotations

import json
from unittest.mock import MagicMock, patch

import pytest
from ansible_collections.streamflix.video_pipeline.plugins.modules import cloudwatch_dashboard as mod
from botocore.exceptions import ClientError

from tests.unit.plugins.modules.fakes import Failed, client_error, fake_module

ARN = "arn:aws:cloudwatch::123456789012:dashboard/dash"
BODY = {
    "widgets": [
        {
            "type": "metric",
            "x": 0,
            "y": 0,
            "width": 12,
            "height": 6,
            "properties": {"region": "us-east-1", "stat": "Sum"},
        }
    ]
}


def not_found(operation="GetDashboard"):
    return client_error("ResourceNotFound", operation)


def client_with(body):
    """A client whose GetDashboard returns `body` (a JSON string) or raises ResourceNotFound (None)."""
    client = MagicMock()
    if body is None:
        client.get_dashboard.side_effect = not_found()
    else:
        client.get_dashboard.return_value = {"DashboardArn": ARN, "DashboardBody": body, "DashboardName": "dash"}
    client.put_dashboard.return_value = {"DashboardValidationMessages": []}
    return client


# --- normalisation and comparison -------------------------------------------------


def test_json_string_and_dict_normalise_to_the_same_body():
    assert mod.normalize_body(json.dumps(BODY)) == mod.normalize_body(BODY) == BODY


def test_key_order_and_whitespace_do_not_matter():
    reordered = (
        '{ "widgets" : [ {"properties": {"stat": "Sum", "region": "us-east-1"},\n'
        '"height": 6, "width": 12, "y": 0, "x": 0, "type": "metric"} ] }'
    )
    assert not mod.bodies_differ(mod.normalize_body(reordered), mod.normalize_body(BODY))


def test_a_changed_value_or_widget_order_is_a_difference():
    changed = json.loads(json.dumps(BODY))
    changed["widgets"][0]["properties"]["stat"] = "Average"
    assert mod.bodies_differ(BODY, changed)
    two = {"widgets": [{"type": "text", "x": 0}, {"type": "text", "x": 1}]}
    assert mod.bodies_differ(two, {"widgets": list(reversed(two["widgets"]))})


def test_missing_dashboard_always_differs():
    assert mod.bodies_differ(None, {})


@pytest.mark.parametrize("bad", ["{not json", "[1, 2]", 42, ["widgets"]])
def test_bodies_that_are_not_json_objects_are_refused(bad):
    with pytest.raises(mod.DashboardBodyError):
        mod.normalize_body(bad)


# --- present --------------------------------------------------------------------------


def test_same_body_does_not_call_put():
    client = client_with(json.dumps(BODY, indent=2))
    result = mod.ensure_present(client, fake_module(), "dash", BODY)
    assert result["changed"] is False
    assert result["dashboard_arn"] == ARN
    client.put_dashboard.assert_not_called()


def test_different_body_is_written_and_diffed():
    old = {"widgets": []}
    client = client_with(json.dumps(old))
    result = mod.ensure_present(client, fake_module(), "dash", BODY)
    assert result["changed"] is True
    assert result["diff"] == {"before": old, "after": BODY}
    assert result["dashboard_body"] == BODY
    (call,) = client.put_dashboard.call_args_list
    assert call.kwargs["DashboardName"] == "dash"
    assert json.loads(call.kwargs["DashboardBody"]) == BODY


def test_new_dashboard_is_created():
    client = MagicMock()
    client.get_dashboard.side_effect = [not_found(), {"DashboardArn": ARN, "DashboardBody": json.dumps(BODY)}]
    client.put_dashboard.return_value = {}
    result = mod.ensure_present(client, fake_module(), "dash", BODY)
    assert result["changed"] is True
    assert result["dashboard_arn"] == ARN
    assert result["diff"]["before"] == {}
    client.put_dashboard.assert_called_once()


def test_check_mode_reports_without_writing():
    for current in (None, json.dumps({"widgets": []})):
        client = client_with(current)
        result = mod.ensure_present(client, fake_module(check_mode=True), "dash", BODY)
        assert result["changed"] is True
        assert result["diff"]["after"] == BODY
        client.put_dashboard.assert_not_called()


def test_validation_messages_fail_the_module():
    client = client_with(None)
    message = "Should have required property 'metrics'"
    messages = [{"DataPath": "/widgets/0", "Message": message}]
    client.put_dashboard.return_value = {"DashboardValidationMessages": messages}
    with pytest.raises(Failed) as failed:
        mod.ensure_present(client, fake_module(), "dash", BODY)
    details = failed.value.args[0]
    assert "/widgets/0" in details["msg"]
    assert details["validation_messages"] == [{"data_path": "/widgets/0", "message": message}]


def test_refused_body_fails_with_the_validation_messages():
    client = client_with(None)
    client.put_dashboard.side_effect = ClientError(
        {
            "Error": {"Code": "InvalidParameterInput", "Message": "DashboardBody must be a valid JSON object"},
            "DashboardValidationMessages": [{"DataPath": "/widgets", "Message": "bad"}],
        },
        "PutDashboard",
    )
    with pytest.raises(Failed) as failed:
        mod.ensure_present(client, fake_module(), "dash", BODY)
    assert failed.value.args[0]["validation_messages"] == [{"data_path": "/widgets", "message": "bad"}]


def test_other_read_errors_fail():
    client = MagicMock()
    client.get_dashboard.side_effect = client_error("AccessDenied", "GetDashboard")
    with pytest.raises(Failed):
        mod.ensure_present(client, fake_module(), "dash", BODY)


# --- absent ---------------------------------------------------------------------------


def test_absent_deletes_an_existing_dashboard():
    client = client_with(json.dumps(BODY))
    result = mod.ensure_absent(client, fake_module(), "dash")
    assert result["changed"] is True
    assert result["diff"] == {"before": BODY, "after": {}}
    client.delete_dashboards.assert_called_once_with(DashboardNames=["dash"], aws_retry=True)


def test_absent_on_a_missing_dashboard_changes_nothing():
    client = client_with(None)
    result = mod.ensure_absent(client, fake_module(), "dash")
    assert result["changed"] is False
    client.delete_dashboards.assert_not_called()


def test_absent_in_check_mode_does_not_delete():
    client = client_with(json.dumps(BODY))
    result = mod.ensure_absent(client, fake_module(check_mode=True), "dash")
    assert result["changed"] is True
    client.delete_dashboards.assert_not_called()


# --- main() wiring --------------------------------------------------------------------


def run_main(params, client, check_mode=False):
    module = fake_module(check_mode)
    module.params = params
    module.client.return_value = client
    module.exit_json.side_effect = lambda **kwargs: kwargs
    with patch.object(mod, "AnsibleAWSModule", return_value=module) as factory:
        mod.main()
    assert factory.call_args.kwargs["supports_check_mode"] is True
    (call,) = module.exit_json.call_args_list
    return call.kwargs


def test_main_accepts_a_json_string_body():
    client = client_with(json.dumps(BODY))
    result = run_main({"dashboard_name": "dash", "dashboard_body": json.dumps(BODY), "state": "present"}, client)
    assert result["changed"] is False
    assert result["dashboard_body"] == BODY


def test_main_refuses_invalid_json_before_any_write():
    client = client_with(None)
    with pytest.raises(Failed) as failed:
        run_main({"dashboard_name": "dash", "dashboard_body": "{oops", "state": "present"}, client)
    assert "not valid JSON" in failed.value.args[0]["msg"]
    client.put_dashboard.assert_not_called()


def test_main_absent():
    client = client_with(None)
    result = run_main({"dashboard_name": "dash", "dashboard_body": None, "state": "absent"}, client)
    assert result == {
        "changed": False,
        "dashboard_name": "dash",
        "dashboard_arn": "",
        "dashboard_body": {},
        "diff": {"before": {}, "after": {}},
    }
