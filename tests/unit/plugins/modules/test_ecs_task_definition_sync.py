"""ecs_task_definition_sync and module_utils.ecs: what counts as the same revision (mocked client)."""

from __future__ import annotations

import copy
from unittest.mock import MagicMock

import pytest
from ansible_collections.streamflix.video_pipeline.plugins.module_utils import ecs as utils
from ansible_collections.streamflix.video_pipeline.plugins.modules import ecs_task_definition_sync as mod
from botocore.exceptions import ClientError

from tests.unit.plugins.modules.fakes import client_error

FAMILY = "video-processing-dev"
PREFIX = "arn:aws:ecs:us-east-1:123456789012:task-definition/"

PARAMS = {
    "family": FAMILY,
    "state": "present",
    "cpu": "1024",
    "memory": "2048",
    "network_mode": "awsvpc",
    "requires_compatibilities": ["FARGATE"],
    "task_role_arn": "arn:aws:iam::123456789012:role/task",
    "execution_role_arn": "arn:aws:iam::123456789012:role/exec",
    "volumes": [{"name": "scratch"}],
    "container_definitions": [
        {
            "name": "worker",
            "image": "python:3.11-slim",
            "essential": True,
            "command": ["python", "-c", "loop"],
            "readonlyRootFilesystem": True,
            "environment": [{"name": "B", "value": "2"}, {"name": "A", "value": "1"}],
            "secrets": [{"name": "S", "valueFrom": "arn:aws:secretsmanager:us-east-1:1:secret:s-abcdef"}],
            "mountPoints": [{"sourceVolume": "scratch", "containerPath": "/scratch", "readOnly": False}],
            "logConfiguration": {"logDriver": "awslogs", "options": {"mode": "non-blocking", "awslogs-group": "g"}},
        }
    ],
    "tags": {"Environment": "dev"},
    "purge_tags": True,
}


def described(params=PARAMS, revision=3):
    """What DescribeTaskDefinition returns for a revision registered from params (AWS adds defaults)."""
    td = copy.deepcopy(mod.wanted_definition(params))
    container = td["containerDefinitions"][0]
    # AWS fills these in and reorders keys and lists
    container.update({"cpu": 0, "portMappings": [], "volumesFrom": [], "systemControls": []})
    container["environment"] = list(reversed(container["environment"]))
    td["containerDefinitions"] = [dict(reversed(list(container.items())))]
    td["volumes"] = [{"name": "scratch", "host": {}}]
    td.update(
        {
            "taskDefinitionArn": f"{PREFIX}{FAMILY}:{revision}",
            "revision": revision,
            "status": "ACTIVE",
            "compatibilities": ["EC2", "FARGATE"],
            "requiresAttributes": [{"name": "com.amazonaws.ecs.capability.logging-driver.awslogs"}],
            "placementConstraints": [],
            "registeredAt": "2026-01-01T00:00:00Z",
        }
    )
    return {"taskDefinition": td, "tags": [{"key": "Environment", "value": "dev"}]}


def client_with(revisions, latest=None):
    client = MagicMock()
    client.list_task_definitions.return_value = {"taskDefinitionArns": revisions}
    if revisions:
        client.describe_task_definition.return_value = latest or described(revision=3)
    else:
        # what ECS answers for a family without any revision
        client.describe_task_definition.side_effect = client_error("ClientException", "DescribeTaskDefinition")
    client.register_task_definition.side_effect = lambda **kw: {
        "taskDefinition": {"taskDefinitionArn": f"{PREFIX}{FAMILY}:4", "revision": 4}
    }
    return client


# ARNs as ListTaskDefinitions returns them: unsorted, and with a look-alike family
REVISIONS = [f"{PREFIX}{FAMILY}:3", f"{PREFIX}{FAMILY}:1", f"{PREFIX}{FAMILY}2:9", f"{PREFIX}{FAMILY}:2"]


def test_active_revisions_are_sorted_and_exact_family():
    client = client_with(REVISIONS)
    assert utils.active_revision_arns(client, FAMILY) == [f"{PREFIX}{FAMILY}:{n}" for n in (1, 2, 3)]


def test_active_revisions_follow_next_token():
    client = MagicMock()
    client.list_task_definitions.side_effect = [
        {"taskDefinitionArns": [f"{PREFIX}{FAMILY}:10"], "nextToken": "t"},
        {"taskDefinitionArns": [f"{PREFIX}{FAMILY}:9"]},
    ]
    assert utils.active_revision_arns(client, FAMILY)[-1] == f"{PREFIX}{FAMILY}:10"


def test_same_definition_with_aws_defaults_and_reordering_is_no_change():
    client = client_with(REVISIONS)
    result = mod.ensure_present(client, PARAMS, check_mode=False)
    assert result["changed"] is False
    assert result["differences"] == []
    assert result["task_definition_arn"] == f"{PREFIX}{FAMILY}:3"
    # one read: the bare family answers with its latest ACTIVE revision and its tags
    client.describe_task_definition.assert_called_once_with(aws_retry=True, taskDefinition=FAMILY, include=["TAGS"])
    client.list_task_definitions.assert_not_called()
    client.register_task_definition.assert_not_called()


def test_latest_revision_inactive_falls_back_to_the_active_list():
    # the emulator describes the highest revision even when it was deregistered
    inactive = described(revision=5)
    inactive["taskDefinition"]["status"] = "INACTIVE"
    client = client_with(REVISIONS)
    client.describe_task_definition.side_effect = [inactive, described(revision=3)]
    result = mod.ensure_present(client, PARAMS, check_mode=False)
    assert result["changed"] is False and result["task_definition_arn"] == f"{PREFIX}{FAMILY}:3"
    assert client.describe_task_definition.call_args.kwargs["taskDefinition"] == f"{PREFIX}{FAMILY}:3"


def test_other_describe_errors_are_raised():
    client = client_with(REVISIONS)
    client.describe_task_definition.side_effect = client_error("AccessDeniedException", "DescribeTaskDefinition")
    with pytest.raises(ClientError):
        mod.ensure_present(client, PARAMS, check_mode=False)


def test_numbers_and_strings_compare_equal():
    params = dict(PARAMS, cpu=1024, memory=2048)
    assert mod.ensure_present(client_with(REVISIONS), params, check_mode=False)["changed"] is False


def changed_params(**changes):
    params = copy.deepcopy(PARAMS)
    container = params["container_definitions"][0]
    for key, value in changes.items():
        if key in container:
            container[key] = value
        else:
            params[key] = value
    return params


def test_memory_change_registers_one_revision():
    client = client_with(REVISIONS)
    result = mod.ensure_present(client, changed_params(memory="4096"), check_mode=False)
    assert result["changed"] is True and result["registered"] is True
    assert result["differences"] == ["memory"]
    assert result["task_definition_arn"] == f"{PREFIX}{FAMILY}:4"
    client.register_task_definition.assert_called_once()
    request = client.register_task_definition.call_args.kwargs
    assert request["memory"] == "4096" and request["cpu"] == "1024"
    assert request["tags"] == [{"key": "Environment", "value": "dev"}]


def test_container_changes_are_detected():
    for change in (
        {"image": "python:3.12-slim"},
        {"environment": [{"name": "A", "value": "1"}]},
        {"command": ["python", "loop", "-c"]},  # argument order matters
        {"readonlyRootFilesystem": False},
    ):
        client = client_with(REVISIONS)
        result = mod.ensure_present(client, changed_params(**change), check_mode=False)
        assert result["differences"] == ["containerDefinitions"], change
        client.register_task_definition.assert_called_once()


def test_check_mode_reports_the_next_revision_without_registering():
    client = client_with(REVISIONS)
    result = mod.ensure_present(client, changed_params(image="python:3.12-slim"), check_mode=True)
    assert result["changed"] is True
    assert result["task_definition_arn"] == f"{PREFIX}{FAMILY}:4"
    assert result["revision"] == 4
    client.register_task_definition.assert_not_called()


def test_first_revision():
    client = client_with([])
    result = mod.ensure_present(client, PARAMS, check_mode=False)
    assert result["changed"] is True and result["differences"] == ["(no active revision)"]
    assert result["diff"]["before"] == {}
    client.describe_task_definition.assert_called_once()
    client.list_task_definitions.assert_called_once()


def test_first_revision_in_check_mode_has_no_arn():
    result = mod.ensure_present(client_with([]), PARAMS, check_mode=True)
    assert result["changed"] is True and "task_definition_arn" not in result


def test_tag_change_only_retags_the_latest_revision():
    client = client_with(REVISIONS)
    result = mod.ensure_present(client, dict(PARAMS, tags={"Environment": "dev", "Owner": "video"}), check_mode=False)
    assert result["changed"] is True and result["registered"] is False
    client.register_task_definition.assert_not_called()
    client.tag_resource.assert_called_once()
    assert client.tag_resource.call_args.kwargs["tags"] == [{"key": "Owner", "value": "video"}]


def test_absent_deregisters_every_active_revision():
    client = client_with(REVISIONS)
    result = mod.ensure_absent(client, {"family": FAMILY}, check_mode=False)
    assert result["changed"] is True
    assert [c.kwargs["taskDefinition"] for c in client.deregister_task_definition.call_args_list] == [
        f"{PREFIX}{FAMILY}:{n}" for n in (1, 2, 3)
    ]


def test_absent_twice_and_in_check_mode():
    assert mod.ensure_absent(client_with([]), {"family": FAMILY}, check_mode=False)["changed"] is False
    client = client_with(REVISIONS)
    assert mod.ensure_absent(client, {"family": FAMILY}, check_mode=True)["changed"] is True
    client.deregister_task_definition.assert_not_called()


def test_normalisation_keeps_user_data_maps_verbatim():
    a = utils.normalize_task_definition(
        {"containerDefinitions": [{"name": "w", "logConfiguration": {"options": {"mode": "non-blocking", "x": ""}}}]}
    )
    assert a["containerDefinitions"][0]["logConfiguration"]["options"] == {"mode": "non-blocking", "x": ""}
