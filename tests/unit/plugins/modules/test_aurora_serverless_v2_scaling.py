"""aurora_serverless_v2_scaling: validation, change computation and the module flow with a mocked client."""

from __future__ import annotations

from unittest import mock

import pytest
from ansible_collections.streamflix.video_pipeline.plugins.module_utils import aurora
from ansible_collections.streamflix.video_pipeline.plugins.modules import aurora_serverless_v2_scaling as scaling_module

from tests.unit.plugins.modules.fakes import run_main

# -- validation ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"min_capacity": -0.5}, "min_capacity must be between 0 and 256 ACU in steps of 0.5"),
        ({"min_capacity": 256.5}, "min_capacity must be between 0 and 256 ACU in steps of 0.5"),
        ({"min_capacity": 1.25}, "min_capacity must be between 0 and 256 ACU in steps of 0.5"),
        (
            {"max_capacity": 300},
            "max_capacity must be between 1 and 256 ACU in steps of 0.5 (0, 0.5, 1, 1.5, ...), got 300",
        ),
        ({"max_capacity": 0.5}, "max_capacity must be between 1 and 256 ACU"),
        ({"max_capacity": 0}, "max_capacity must be between 1 and 256 ACU"),
        ({"max_capacity": 7.3}, "max_capacity must be between 1 and 256 ACU"),
        ({"min_capacity": 8, "max_capacity": 4}, "min_capacity (8) must not be greater than max_capacity (4)"),
        (
            {"min_capacity": 0.5, "max_capacity": 4, "seconds_until_auto_pause": 600},
            "seconds_until_auto_pause is allowed only with min_capacity 0",
        ),
        (
            {"min_capacity": 0, "max_capacity": 4, "seconds_until_auto_pause": 299},
            "seconds_until_auto_pause must be between 300 and 86400 seconds, got 299",
        ),
        (
            {"min_capacity": 0, "max_capacity": 4, "seconds_until_auto_pause": 86401},
            "seconds_until_auto_pause must be between 300 and 86400 seconds, got 86401",
        ),
        ({"seconds_until_auto_pause": 0}, "seconds_until_auto_pause must be between 300 and 86400"),
        ({"min_capacity": "a lot"}, "min_capacity must be a number of ACUs"),
        ({"max_capacity": True}, "max_capacity must be a number of ACUs"),
        ({"seconds_until_auto_pause": 600.5}, "seconds_until_auto_pause must be a whole number"),
    ],
)
def test_invalid_input_is_refused_with_the_option_and_range(kwargs, needle):
    problems = aurora.validate_scaling(**kwargs)
    assert any(needle in p for p in problems), problems


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_capacity": 0, "max_capacity": 1},
        {"min_capacity": 0, "max_capacity": 4, "seconds_until_auto_pause": 300},
        {"min_capacity": 0, "max_capacity": 256, "seconds_until_auto_pause": 86400},
        {"min_capacity": 0.5, "max_capacity": 0.5 + 0.5},
        {"min_capacity": 256, "max_capacity": 256},
        {"min_capacity": 2.5, "max_capacity": 2.5},
        {"max_capacity": 8},
        {"seconds_until_auto_pause": 3600},  # min comes from the cluster
        {},
    ],
)
def test_valid_input_passes(kwargs):
    assert aurora.validate_scaling(**kwargs) == []


def test_every_problem_is_reported_at_once():
    problems = aurora.validate_scaling(min_capacity=300, max_capacity=0.3, seconds_until_auto_pause=5)
    assert len(problems) == 4, problems


# -- current / wanted / changes ---------------------------------------------------


def cluster(min_capacity=0.5, max_capacity=4.0, seconds=None, **extra):
    config = {"MinCapacity": min_capacity, "MaxCapacity": max_capacity}
    if seconds is not None:
        config["SecondsUntilAutoPause"] = seconds
    base = {
        "DBClusterIdentifier": "c1",
        "Engine": "aurora-postgresql",
        "EngineVersion": "16.4",
        "EngineMode": "provisioned",
        "Status": "available",
        "ServerlessV2ScalingConfiguration": config,
    }
    base.update(extra)
    return base


def test_current_scaling_reads_snake_case():
    assert aurora.current_scaling(cluster(0, 4, 3600)) == {
        "min_capacity": 0.0,
        "max_capacity": 4.0,
        "seconds_until_auto_pause": 3600,
    }
    assert aurora.current_scaling({}) == {"min_capacity": None, "max_capacity": None, "seconds_until_auto_pause": None}


def test_same_values_mean_no_change_even_with_an_extra_aws_key():
    # AWS may report SecondsUntilAutoPause although the minimum is above 0:
    # it is not our business then, so it is no difference.
    current = aurora.current_scaling(cluster(0.5, 4, 300))
    wanted = aurora.wanted_scaling(current, 0.5, 4)
    assert wanted["seconds_until_auto_pause"] is None
    assert aurora.compute_changes(current, wanted) == {}


def test_only_the_differing_field_is_a_change():
    current = aurora.current_scaling(cluster(0.5, 4))
    wanted = aurora.wanted_scaling(current, 0.5, 8)
    assert aurora.compute_changes(current, wanted) == {"max_capacity": {"before": 4.0, "after": 8.0}}


def test_left_out_options_keep_the_current_values():
    current = aurora.current_scaling(cluster(0, 4, 3600))
    wanted = aurora.wanted_scaling(current, max_capacity=8)
    assert wanted == {"min_capacity": 0.0, "max_capacity": 8.0, "seconds_until_auto_pause": 3600}


def test_auto_pause_on_and_its_delay():
    current = aurora.current_scaling(cluster(0.5, 4))
    wanted = aurora.wanted_scaling(current, 0, 4, 600)
    assert aurora.compute_changes(current, wanted) == {
        "min_capacity": {"before": 0.5, "after": 0.0},
        "seconds_until_auto_pause": {"before": None, "after": 600},
    }
    paused = aurora.current_scaling(cluster(0, 4, 600))
    assert aurora.compute_changes(paused, aurora.wanted_scaling(paused, 0, 4, 900)) == {
        "seconds_until_auto_pause": {"before": 600, "after": 900}
    }


def test_auto_pause_off_is_a_change_of_the_minimum_only():
    current = aurora.current_scaling(cluster(0, 4, 600))
    wanted = aurora.wanted_scaling(current, 0.5, 4)
    assert aurora.compute_changes(current, wanted) == {"min_capacity": {"before": 0.0, "after": 0.5}}


def test_min_zero_without_seconds_keeps_no_opinion():
    current = aurora.current_scaling(cluster(0.5, 4))
    wanted = aurora.wanted_scaling(current, 0, 4)
    assert wanted["seconds_until_auto_pause"] is None
    assert set(aurora.compute_changes(current, wanted)) == {"min_capacity"}


def test_modify_request_sends_min_and_max_together_and_auto_pause_only_with_min_zero():
    request = aurora.build_modify_request(
        "c1", {"min_capacity": 0.5, "max_capacity": 8.0, "seconds_until_auto_pause": 600}
    )
    assert request == {
        "DBClusterIdentifier": "c1",
        "ServerlessV2ScalingConfiguration": {"MinCapacity": 0.5, "MaxCapacity": 8.0},
        "ApplyImmediately": True,
    }
    request = aurora.build_modify_request(
        "c1", {"min_capacity": 0.0, "max_capacity": 4.0, "seconds_until_auto_pause": 600}
    )
    assert request["ServerlessV2ScalingConfiguration"] == {
        "MinCapacity": 0.0,
        "MaxCapacity": 4.0,
        "SecondsUntilAutoPause": 600,
    }
    request = aurora.build_modify_request(
        "c1", {"min_capacity": 0.0, "max_capacity": 4.0, "seconds_until_auto_pause": None}
    )
    assert "SecondsUntilAutoPause" not in request["ServerlessV2ScalingConfiguration"]


# -- engine support ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("engine", "version", "expected"),
    [
        ("aurora-postgresql", "16.4", (16, 4)),
        ("aurora-postgresql", "13.6", (13, 6)),
        ("aurora-mysql", "8.0.mysql_aurora.3.05.2", (3, 5, 2)),
        ("aurora-mysql", "5.7.mysql_aurora.2.11.2", (2, 11, 2)),
        ("aurora-mysql", "8.0", None),
        ("aurora-postgresql", None, None),
    ],
)
def test_parse_engine_version(engine, version, expected):
    assert aurora.parse_engine_version(engine, version) == expected


@pytest.mark.parametrize(
    ("extra", "auto_pause", "needle"),
    [
        ({"Engine": "postgres"}, False, "Aurora Serverless v2 needs one of aurora-postgresql, aurora-mysql"),
        ({"Engine": "aurora"}, False, "runs engine aurora"),
        ({"EngineMode": "serverless"}, False, "engine_mode serverless"),
        ({"EngineVersion": "12.7"}, False, "too old for Aurora Serverless v2"),
        ({"EngineVersion": "14.2"}, False, "needs 14.3 or later"),
        ({"Engine": "aurora-mysql", "EngineVersion": "5.7.mysql_aurora.2.11.2"}, False, "too old"),
        ({"EngineVersion": "16.2"}, True, "too old for min_capacity 0 / auto-pause (needs 16.3"),
        ({"Engine": "aurora-mysql", "EngineVersion": "8.0.mysql_aurora.3.05.2"}, True, "needs 3.8.0"),
    ],
)
def test_clusters_that_cannot_run_serverless_v2(extra, auto_pause, needle):
    problem = aurora.serverless_v2_problem(cluster(**extra), wants_auto_pause=auto_pause)
    assert problem and needle in problem, problem


@pytest.mark.parametrize(
    ("extra", "auto_pause"),
    [
        ({}, True),
        ({"EngineVersion": "16.2"}, False),
        ({"EngineVersion": "17.5"}, True),
        ({"EngineVersion": "18.1"}, True),  # a newer line than we know: AWS decides
        ({"Engine": "aurora-mysql", "EngineVersion": "8.0.mysql_aurora.3.08.0"}, True),
    ],
)
def test_clusters_that_can(extra, auto_pause):
    assert aurora.serverless_v2_problem(cluster(**extra), wants_auto_pause=auto_pause) is None


# -- the module with a mocked RDS client ------------------------------------------


def run_module(args, client, check_mode=False):
    """Run main() with the given args and RDS client; return the exit/fail result as a dict."""
    module_args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=True)
    results, services = run_main(scaling_module.main, module_args, {"rds": client})
    results["client_created"] = bool(services)
    return results


def fake_client(*states):
    """A client whose successive describe calls return the given clusters."""
    client = mock.Mock()
    client.describe_db_clusters.side_effect = [{"DBClusters": [state]} for state in states]
    client.modify_db_cluster.return_value = {"DBCluster": states[-1]}
    return client


def test_invalid_input_fails_before_any_client_is_created():
    client = fake_client(cluster())
    result = run_module({"cluster_identifier": "c1", "max_capacity": 300}, client)
    assert result["failed"] and "max_capacity must be between 1 and 256" in result["msg"]
    assert not result["client_created"]
    client.modify_db_cluster.assert_not_called()


def test_no_change_makes_no_modify_call():
    client = fake_client(cluster(0.5, 4))
    result = run_module({"cluster_identifier": "c1", "min_capacity": 0.5, "max_capacity": 4}, client)
    assert result["changed"] is False and result["failed"] is False
    client.modify_db_cluster.assert_not_called()
    assert result["diff"]["before"] == result["diff"]["after"]


def test_change_sends_one_modify_and_waits_for_available():
    client = fake_client(cluster(0.5, 4), cluster(0.5, 8, Status="modifying"), cluster(0.5, 8))
    with mock.patch.object(scaling_module, "WAIT_DELAY", 0):
        result = run_module({"cluster_identifier": "c1", "max_capacity": 8}, client)
    assert result["changed"] is True
    client.modify_db_cluster.assert_called_once_with(
        aws_retry=True,
        DBClusterIdentifier="c1",
        ServerlessV2ScalingConfiguration={"MinCapacity": 0.5, "MaxCapacity": 8.0},
        ApplyImmediately=True,
    )
    assert client.describe_db_clusters.call_count == 3
    assert result["status"] == "available"
    assert result["serverless_v2_scaling_configuration"] == {
        "min_capacity": 0.5,
        "max_capacity": 8.0,
        "seconds_until_auto_pause": None,
    }
    assert result["diff"]["after"]["max_capacity"] == 8.0


def test_check_mode_reports_without_modifying():
    client = fake_client(cluster(0.5, 4))
    result = run_module({"cluster_identifier": "c1", "min_capacity": 0, "seconds_until_auto_pause": 900}, client, True)
    assert result["changed"] is True
    client.modify_db_cluster.assert_not_called()
    assert result["serverless_v2_scaling_configuration"] == {
        "min_capacity": 0.0,
        "max_capacity": 4.0,
        "seconds_until_auto_pause": 900,
    }


def test_auto_pause_against_a_current_minimum_above_zero_is_refused():
    client = fake_client(cluster(0.5, 4))
    result = run_module({"cluster_identifier": "c1", "seconds_until_auto_pause": 900}, client)
    assert result["failed"] and "allowed only with min_capacity 0" in result["msg"]
    client.modify_db_cluster.assert_not_called()


def test_max_below_the_current_minimum_is_refused():
    client = fake_client(cluster(4, 8))
    result = run_module({"cluster_identifier": "c1", "max_capacity": 2}, client)
    assert result["failed"] and "min_capacity (4) must not be greater than max_capacity (2)" in result["msg"]
    client.modify_db_cluster.assert_not_called()


def test_unsupported_engine_is_refused():
    client = fake_client(cluster(Engine="postgres"))
    result = run_module({"cluster_identifier": "c1", "max_capacity": 8}, client)
    assert result["failed"] and "needs one of aurora-postgresql, aurora-mysql" in result["msg"]
    client.modify_db_cluster.assert_not_called()


def test_wait_times_out_with_a_clear_message():
    busy = cluster(0.5, 8, Status="modifying")
    client = mock.Mock()
    client.describe_db_clusters.side_effect = [{"DBClusters": [cluster(0.5, 4)]}] + [{"DBClusters": [busy]}] * 5
    client.modify_db_cluster.return_value = {"DBCluster": busy}
    with mock.patch.object(scaling_module, "WAIT_DELAY", 0):
        result = run_module({"cluster_identifier": "c1", "max_capacity": 8, "wait_timeout": 0}, client)
    assert result["failed"] and "Timed out after 0 s" in result["msg"] and result["status"] == "modifying"


# -- the managed master secret (aurora_master_user_secret) ----------------------------

KEY = "arn:aws:kms:us-east-1:123456789012:key/1111-2222"


def test_unmanaged_password_is_enabled():
    assert aurora.master_secret_plan(cluster(), KEY) == ("enable", None)


def test_managed_with_the_same_key_needs_nothing():
    managed = cluster(MasterUserSecret={"SecretArn": "arn:s", "SecretStatus": "active", "KmsKeyId": KEY})
    assert aurora.master_secret_plan(managed, KEY) == ("none", None)
    # a bare key id names the same key
    assert aurora.master_secret_plan(managed, "1111-2222") == ("none", None)


def test_managed_with_another_key_is_refused():
    managed = cluster(MasterUserSecret={"SecretArn": "arn:s", "KmsKeyId": KEY.replace("1111", "9999")})
    action, why = aurora.master_secret_plan(managed, KEY)
    assert action == "fail"
    assert "cannot change the key of an existing managed secret" in why


def test_master_secret_result_is_snake_case():
    managed = cluster(MasterUserSecret={"SecretArn": "arn:s", "SecretStatus": "active", "KmsKeyId": KEY})
    assert aurora.master_secret_result(managed) == {"secret_arn": "arn:s", "secret_status": "active", "kms_key_id": KEY}
    assert aurora.master_secret_result(cluster()) == {"secret_arn": None, "secret_status": None, "kms_key_id": None}
