"""ecs_service_sync: create, compare, update, wait and delete (mocked client)."""

from __future__ import annotations

import copy
from unittest.mock import MagicMock

import pytest
from ansible_collections.streamflix.video_pipeline.plugins.module_utils import ecs as utils
from ansible_collections.streamflix.video_pipeline.plugins.modules import ecs_service_sync as mod

from tests.unit.plugins.modules.fakes import run_main

TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/video-processing-dev:3"
TD4 = "arn:aws:ecs:us-east-1:123456789012:task-definition/video-processing-dev:4"
PARAMS = {
    "name": "svc",
    "cluster": "cluster",
    "state": "present",
    "task_definition": TD,
    "desired_count": 1,
    "launch_type": "FARGATE",
    "subnets": ["subnet-b", "subnet-a"],
    "security_groups": ["sg-1"],
    "assign_public_ip": True,
    "circuit_breaker": True,
    "circuit_breaker_rollback": True,
    "maximum_percent": 200,
    "minimum_healthy_percent": 100,
    "propagate_tags": "SERVICE",
    "tags": {"Environment": "dev"},
    "purge_tags": True,
    "wait": False,
    "wait_timeout": 60,
    "wait_delay": 0,
}


def service(**overrides):
    svc = {
        "serviceArn": "arn:aws:ecs:us-east-1:123456789012:service/cluster/svc",
        "serviceName": "svc",
        "status": "ACTIVE",
        "launchType": "FARGATE",
        "taskDefinition": TD,
        "desiredCount": 1,
        "runningCount": 1,
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": ["subnet-a", "subnet-b"],
                "securityGroups": ["sg-1"],
                "assignPublicIp": "ENABLED",
            }
        },
        "deploymentConfiguration": {
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
            "alarms": {"alarmNames": [], "enable": False, "rollback": False},
        },
        "propagateTags": "SERVICE",
        "deployments": [{"status": "PRIMARY", "taskDefinition": TD, "rolloutState": "COMPLETED"}],
        "tags": [{"key": "Environment", "value": "dev"}],
    }
    svc.update(overrides)
    return svc


def client_with(*described):
    """describe_services returns each given service in turn (None: not found); the last one repeats."""
    client = MagicMock()
    answers = [{"services": [s] if s else [], "failures": []} for s in described]

    def describe(**_kw):
        return answers.pop(0) if len(answers) > 1 else answers[0]

    client.describe_services.side_effect = describe
    client.update_service.side_effect = lambda **kw: {"service": service()}
    return client


def test_converged_service_is_no_change():
    client = client_with(service())
    result = mod.ensure_present(client, PARAMS, check_mode=False)
    assert result["changed"] is False and result["updates"] == []
    client.update_service.assert_not_called()
    client.create_service.assert_not_called()


def test_create_reapplies_a_dropped_deployment_configuration():
    client = client_with(None)
    created = service()
    del created["deploymentConfiguration"]  # what some endpoints do on CreateService
    client.create_service.return_value = {"service": created}
    result = mod.ensure_present(client, PARAMS, check_mode=False)
    assert result["changed"] is True and result["created"] is True
    request = client.create_service.call_args.kwargs
    assert request["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"] == "ENABLED"
    assert request["deploymentConfiguration"]["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    client.update_service.assert_called_once()
    assert set(client.update_service.call_args.kwargs) == {"aws_retry", "cluster", "service", "deploymentConfiguration"}


def test_create_without_dropped_configuration_sends_no_update():
    client = client_with(None)
    client.create_service.return_value = {"service": service()}
    mod.ensure_present(client, PARAMS, check_mode=False)
    client.update_service.assert_not_called()


def test_check_mode_create_calls_nothing():
    client = client_with(None)
    result = mod.ensure_present(client, PARAMS, check_mode=True)
    assert result["changed"] is True
    client.create_service.assert_not_called()


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        (service(taskDefinition=TD4), ["task_definition"]),
        (service(desiredCount=3), ["desired_count"]),
        (
            service(
                networkConfiguration={
                    "awsvpcConfiguration": {
                        "subnets": ["subnet-a"],
                        "securityGroups": ["sg-1"],
                        "assignPublicIp": "ENABLED",
                    }
                }
            ),
            ["network_configuration"],
        ),
        (
            service(deploymentConfiguration={"maximumPercent": 200, "minimumHealthyPercent": 100}),
            ["deployment_configuration"],
        ),
    ],
)
def test_only_the_differing_settings_are_sent(current, expected):
    client = client_with(current)
    result = mod.ensure_present(client, PARAMS, check_mode=False)
    assert result["changed"] is True and result["updates"] == expected
    sent = set(client.update_service.call_args.kwargs) - {"aws_retry", "cluster", "service"}
    assert len(sent) == 1


def test_check_mode_update_calls_nothing():
    client = client_with(service(taskDefinition=TD4))
    result = mod.ensure_present(client, PARAMS, check_mode=True)
    assert result["changed"] is True
    client.update_service.assert_not_called()


def test_launch_type_change_is_refused():
    with pytest.raises(mod.ServiceFailure, match="launch type"):
        mod.ensure_present(client_with(service(launchType="EC2")), PARAMS, check_mode=False)


def rolling(td=TD4, state="IN_PROGRESS", deployments=2):
    deps = [{"status": "PRIMARY", "taskDefinition": td, "rolloutState": state}]
    deps += [{"status": "ACTIVE", "taskDefinition": TD, "rolloutState": "COMPLETED"}] * (deployments - 1)
    return service(taskDefinition=td, deployments=deps)


def test_wait_until_the_new_deployment_is_complete():
    params = dict(PARAMS, task_definition=TD4, wait=True)
    client = client_with(service(), rolling(), rolling(state="COMPLETED", deployments=1))
    result = mod.ensure_present(client, params, check_mode=False)
    assert result["changed"] is True
    assert result["service"]["deployments"][0]["rolloutState"] == "COMPLETED"


def test_wait_reports_a_failed_deployment():
    params = dict(PARAMS, task_definition=TD4, wait=True)
    client = client_with(service(), rolling(state="FAILED"))
    with pytest.raises(mod.ServiceFailure, match="failed"):
        mod.ensure_present(client, params, check_mode=False)


def test_wait_reports_a_rollback():
    params = dict(PARAMS, task_definition=TD4, wait=True)
    client = client_with(service(), rolling(td=TD, state="COMPLETED", deployments=1))
    with pytest.raises(mod.ServiceFailure, match="rolled"):
        mod.ensure_present(client, params, check_mode=False)


def test_wait_times_out():
    ticks = iter(range(0, 1000, 10))
    state = utils.wait_for(
        lambda: 1, lambda _r: False, timeout=30, delay=10, sleep=lambda _s: None, clock=lambda: next(ticks)
    )
    assert state == (1, False)


def test_absent_scales_to_zero_deletes_and_waits():
    client = client_with(service(desiredCount=2), service(status="DRAINING", desiredCount=0), None)
    result = mod.ensure_absent(client, dict(PARAMS, state="absent", wait=True), check_mode=False)
    assert result["changed"] is True
    assert client.update_service.call_args.kwargs["desiredCount"] == 0
    client.delete_service.assert_called_once()


def test_absent_when_gone_or_inactive():
    for gone in (None, service(status="INACTIVE")):
        client = client_with(gone)
        assert mod.ensure_absent(client, dict(PARAMS, state="absent"), check_mode=False)["changed"] is False
        client.delete_service.assert_not_called()


def test_absent_check_mode():
    client = client_with(service())
    assert mod.ensure_absent(client, dict(PARAMS, state="absent"), check_mode=True)["changed"] is True
    client.delete_service.assert_not_called()
    client.update_service.assert_not_called()


def test_normalised_service_ignores_order_and_extra_keys():
    a = copy.deepcopy(service())
    a["networkConfiguration"]["awsvpcConfiguration"]["subnets"].reverse()
    assert utils.service_updates(mod.wanted_service(PARAMS), a) == {}


def test_module_reports_a_service_failure_as_its_message():
    """ServiceFailure (a module_utils.ecs SyncFailure) ends main() with fail_json, not a traceback."""
    args = {k: v for k, v in PARAMS.items() if k != "state"}
    result, services = run_main(
        mod.main, dict(args, region="us-east-1"), {"ecs": client_with(service(launchType="EC2"))}
    )
    assert services == ["ecs"]
    assert result["failed"] and "needs a new service" in result["msg"]


def test_present_without_wait_starts_the_roll_out_and_returns():
    client = client_with(service())
    result = mod.ensure_present(client, dict(PARAMS, task_definition=TD4, wait=False), check_mode=False)
    assert result["changed"] is True and result["updates"] == ["task_definition"]
    client.update_service.assert_called_once()
    assert client.describe_services.call_count == 1


STEADY = dict(PARAMS, state="steady", wait_delay=0)


def test_steady_waits_for_the_roll_out_and_changes_nothing():
    client = client_with(rolling(), rolling(), rolling(state="COMPLETED", deployments=1))
    result = mod.ensure_steady(client, dict(STEADY, task_definition=TD4), check_mode=False)
    assert result["changed"] is False
    assert client.describe_services.call_count == 3
    client.update_service.assert_not_called()
    client.create_service.assert_not_called()


def test_steady_on_a_steady_service_is_one_read():
    client = client_with(service())
    assert mod.ensure_steady(client, STEADY, check_mode=False)["changed"] is False
    assert client.describe_services.call_count == 1


def test_steady_reports_a_rollback_and_a_missing_service():
    client = client_with(rolling(td=TD, state="COMPLETED", deployments=1))
    with pytest.raises(mod.ServiceFailure, match="rolled"):
        mod.ensure_steady(client, dict(STEADY, task_definition=TD4), check_mode=False)
    with pytest.raises(mod.ServiceFailure, match="does not exist"):
        mod.ensure_steady(client_with(None), STEADY, check_mode=False)


def test_module_state_steady_needs_only_name_and_cluster():
    client = client_with(service())
    result, services = run_main(
        mod.main, dict(name="svc", cluster="cluster", state="steady", wait_delay=1, region="us-east-1"), {"ecs": client}
    )
    assert services == ["ecs"]
    assert result["failed"] is False and result["changed"] is False
    assert result["service"]["service_name"] == "svc"
