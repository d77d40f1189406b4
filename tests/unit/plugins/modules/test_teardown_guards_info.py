"""teardown_guards_info: what it reads of the cluster and the queue (mocked clients)."""

from __future__ import annotations

from unittest.mock import MagicMock

from ansible_collections.streamflix.video_pipeline.plugins.modules import teardown_guards_info as mod

from tests.unit.plugins.modules.fakes import client_error, run_main

URL = "https://sqs.us-east-1.amazonaws.com/123456789012/video-processing-dlq-prod"


def rds_with(*clusters):
    rds = MagicMock()
    rds.describe_db_clusters.return_value = {"DBClusters": list(clusters)}
    return rds


def sqs_with(**counts):
    sqs = MagicMock()
    sqs.get_queue_url.return_value = {"QueueUrl": URL}
    sqs.get_queue_attributes.return_value = {"Attributes": {k: str(v) for k, v in counts.items()}}
    return sqs


def test_protected_cluster_and_every_kind_of_message_are_reported():
    rds = rds_with({"Status": "available", "DeletionProtection": True})
    sqs = sqs_with(
        ApproximateNumberOfMessages=2, ApproximateNumberOfMessagesNotVisible=1, ApproximateNumberOfMessagesDelayed=1
    )
    args = {"region": "us-east-1", "cluster_identifier": "c", "queue_name": "q"}
    result, services = run_main(mod.main, args, {"rds": rds, "sqs": sqs})
    assert result["cluster"] == {"exists": True, "deletion_protection": True, "status": "available"}
    assert result["queue"] == {"exists": True, "url": URL, "messages": 4}
    assert services == ["rds", "sqs"] and result["changed"] is False


def test_missing_or_deleting_resources_do_not_exist():
    rds = MagicMock()
    rds.describe_db_clusters.side_effect = client_error("DBClusterNotFoundFault")
    sqs = MagicMock()
    sqs.get_queue_url.side_effect = client_error("AWS.SimpleQueueService.NonExistentQueue")
    args = {"region": "us-east-1", "cluster_identifier": "c", "queue_name": "q"}
    result, _ = run_main(mod.main, args, {"rds": rds, "sqs": sqs})
    assert result["cluster"] == {"exists": False, "deletion_protection": False, "status": ""}
    assert result["queue"] == {"exists": False, "url": "", "messages": 0}
    deleting = rds_with({"Status": "deleting", "DeletionProtection": False})
    result, _ = run_main(mod.main, {"region": "us-east-1", "cluster_identifier": "c"}, {"rds": deleting})
    assert result["cluster"]["exists"] is False and "queue" not in result


def test_nothing_asked_nothing_read():
    result, services = run_main(mod.main, {"region": "us-east-1"}, {})
    assert (result["failed"], services) == (False, [])


def test_other_errors_fail_naming_what_was_read():
    rds = MagicMock()
    rds.describe_db_clusters.side_effect = client_error("AccessDenied")
    result, _ = run_main(mod.main, {"region": "us-east-1", "cluster_identifier": "c"}, {"rds": rds})
    assert result["failed"] is True and "Aurora cluster c" in result["msg"]
