"""ecs_cluster_sync and named_resources_info (mocked clients)."""

from __future__ import annotations

from unittest.mock import MagicMock

from ansible_collections.streamflix.video_pipeline.plugins.modules import ecs_cluster_sync as mod
from ansible_collections.streamflix.video_pipeline.plugins.modules import named_resources_info as info

from tests.unit.plugins.modules.fakes import client_error, run_main

ARN = "arn:aws:ecs:us-east-1:123456789012:cluster/c"
PARAMS = {
    "name": "c",
    "state": "present",
    "settings": {"containerInsights": "enabled"},
    "tags": {"Env": "dev"},
    "purge_tags": True,
}


def cluster(settings="enabled", status="ACTIVE", tags=None):
    return {
        "clusterArn": ARN,
        "status": status,
        "settings": [{"name": "containerInsights", "value": settings}],
        "tags": tags if tags is not None else [{"key": "Env", "value": "dev"}],
    }


def client_with(found):
    client = MagicMock()
    client.describe_clusters.return_value = {"clusters": [found] if found else [], "failures": []}
    client.update_cluster.return_value = {"cluster": cluster()}
    client.create_cluster.return_value = {"cluster": cluster()}
    return client


def test_create_sets_insights_and_tags_in_one_call():
    client = client_with(None)
    assert mod.ensure_present(client, PARAMS, check_mode=False)["changed"] is True
    request = client.create_cluster.call_args.kwargs
    assert request["settings"] == [{"name": "containerInsights", "value": "enabled"}]
    assert request["tags"] == [{"key": "Env", "value": "dev"}]


def test_inactive_cluster_is_created_again():
    client = client_with(cluster(status="INACTIVE"))
    assert mod.ensure_present(client, PARAMS, check_mode=False)["changed"] is True
    client.create_cluster.assert_called_once()


def test_converged_cluster_is_no_change():
    client = client_with(cluster())
    assert mod.ensure_present(client, PARAMS, check_mode=False)["changed"] is False
    client.update_cluster.assert_not_called()
    client.tag_resource.assert_not_called()


def test_setting_drift_is_repaired_with_update_cluster():
    client = client_with(cluster(settings="disabled"))
    result = mod.ensure_present(client, PARAMS, check_mode=False)
    assert result["changed"] is True
    assert result["diff"]["before"]["settings"] == {"containerInsights": "disabled"}
    assert client.update_cluster.call_args.kwargs["settings"] == [{"name": "containerInsights", "value": "enabled"}]


def test_check_mode_changes_nothing():
    for found in (None, cluster(settings="disabled", tags=[])):
        client = client_with(found)
        assert mod.ensure_present(client, PARAMS, check_mode=True)["changed"] is True
        client.create_cluster.assert_not_called()
        client.update_cluster.assert_not_called()
        client.tag_resource.assert_not_called()


def test_absent():
    client = client_with(cluster())
    assert mod.ensure_absent(client, PARAMS, check_mode=False)["changed"] is True
    client.delete_cluster.assert_called_once()
    client = client_with(cluster(status="INACTIVE"))
    assert mod.ensure_absent(client, PARAMS, check_mode=False)["changed"] is False
    client.delete_cluster.assert_not_called()


# --- the module entry point (module_utils/ecs.py run_sync) ------------------------


def run_module(args, client):
    return run_main(mod.main, dict(args, region="us-east-1"), {"ecs": client})[0]


def test_module_returns_the_cluster_in_snake_case():
    result = run_module(
        {"name": "c", "settings": {"containerInsights": "enabled"}, "tags": {"Env": "dev"}}, client_with(cluster())
    )
    assert not result["failed"] and result["changed"] is False
    assert result["cluster"]["cluster_arn"] == ARN
    assert result["cluster"]["tags"] == [{"key": "Env", "value": "dev"}]


def test_module_state_absent_deletes():
    client = client_with(cluster())
    result = run_module({"name": "c", "state": "absent"}, client)
    assert not result["failed"] and result["changed"] is True
    client.delete_cluster.assert_called_once_with(aws_retry=True, cluster="c")


def test_module_turns_aws_errors_into_a_failure_naming_the_cluster():
    client = client_with(None)
    client.describe_clusters.side_effect = client_error("AccessDeniedException", "DescribeClusters")
    result = run_module({"name": "c"}, client)
    assert result["failed"] and result["msg"].startswith("Failed to sync ECS cluster c")


def test_named_resources_info_finds_and_misses():
    kinesis, sqs, sm = MagicMock(), MagicMock(), MagicMock()
    kinesis.describe_stream_summary.return_value = {
        "StreamDescriptionSummary": {
            "StreamARN": "arn:s",
            "StreamStatus": "ACTIVE",
            "EncryptionType": "KMS",
            "KeyId": "k",
        }
    }
    sqs.get_queue_url.side_effect = client_error("AWS.SimpleQueueService.NonExistentQueue", "GetQueueUrl")
    sm.describe_secret.side_effect = [
        {"ARN": "arn:secret:a-123456", "Name": "a", "KmsKeyId": "k"},
        client_error("ResourceNotFoundException", "DescribeSecret"),
    ]
    clients = {"kinesis": kinesis, "sqs": sqs, "secretsmanager": sm}.get
    result = info.look_up(clients, {"kinesis_streams": ["s"], "sqs_queues": ["q"], "secret_names": ["a", "b"]})
    assert result["kinesis_streams"]["s"]["arn"] == "arn:s"
    assert result["sqs_queues"] == {"q": None}
    assert result["secrets"]["a"]["arn"] == "arn:secret:a-123456" and result["secrets"]["b"] is None
    assert result["missing"] == ["q", "b"]
    sm.get_secret_value.assert_not_called()
