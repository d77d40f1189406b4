"""aurora_cluster_sync against the emulator: its Serverless v2 scaling set, re-set, changed, checked, diffed,
auto-pause on and off, bad input; options left out are not compared (the fixture's cluster has no subnet group,
tags or security groups of ours, and none is touched)."""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml

from tests.integration.helpers import REPO, VENV_BIN, ansible_env, new_env

MODULE = "streamflix.video_pipeline.aurora_cluster_sync"
JSON_OUTPUT = {"ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"}


def _results(proc) -> list[dict]:
    """Every host result of a run with the json callback (loop items flattened)."""
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(f"no JSON output:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}") from exc
    results = []
    for play in report["plays"]:
        for task in play["tasks"]:
            result = task["hosts"]["localhost"]
            results.extend(result.get("results", [result]))
    return results


def run_module(endpoint, args: dict, *, check=False, diff=False) -> dict:
    """One ad-hoc call of the module, exactly as a user would make it."""
    argv = [str(VENV_BIN / "ansible"), "localhost", "-m", MODULE, "-a", json.dumps(args)]
    if check:
        argv.append("--check")
    if diff:
        argv.append("--diff")
    proc = subprocess.run(
        argv, cwd=REPO, env=ansible_env(endpoint, JSON_OUTPUT), capture_output=True, text=True, timeout=300, check=False
    )
    (result,) = _results(proc)
    assert proc.returncode == (2 if result.get("failed") else 0), proc.stderr
    return result


def scaling(result) -> dict:
    """The scaling part of the module's settings."""
    return {k: result["settings"][k] for k in ("min_capacity", "max_capacity", "seconds_until_auto_pause")}


def scaling_of(aws, cluster_id) -> dict:
    return aws("rds").describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"][0][
        "ServerlessV2ScalingConfiguration"
    ]


def set_scaling(aws, cluster_id, config):
    aws("rds").modify_db_cluster(
        DBClusterIdentifier=cluster_id, ApplyImmediately=True, ServerlessV2ScalingConfiguration=config
    )


@pytest.fixture(scope="module")
def cluster_id(aws):
    name = f"scaling-{new_env('m')}"
    aws("rds").create_db_cluster(
        DBClusterIdentifier=name,
        Engine="aurora-postgresql",
        EngineVersion="16.4",
        MasterUsername="videoadmin",
        ManageMasterUserPassword=True,
        ServerlessV2ScalingConfiguration={"MinCapacity": 0.5, "MaxCapacity": 4},
    )
    yield name
    aws("rds").delete_db_cluster(DBClusterIdentifier=name, SkipFinalSnapshot=True)


@pytest.fixture
def cluster(cluster_id, aws):
    """The shared cluster, reset to 0.5-4 ACU without auto-pause before each test."""
    set_scaling(aws, cluster_id, {"MinCapacity": 0.5, "MaxCapacity": 4})
    return cluster_id


def test_set_then_reset_changes_nothing(cluster, endpoint, aws):
    first = run_module(endpoint, {"cluster_identifier": cluster, "min_capacity": 1, "max_capacity": 8})
    assert first["changed"] is True
    assert first["cluster"]["status"] == "available"
    assert scaling(first) == {
        "min_capacity": 1.0,
        "max_capacity": 8.0,
        "seconds_until_auto_pause": None,
    }
    assert scaling_of(aws, cluster) == {"MinCapacity": 1.0, "MaxCapacity": 8.0}

    again = run_module(endpoint, {"cluster_identifier": cluster, "min_capacity": 1, "max_capacity": 8})
    assert again["changed"] is False
    assert again["changes"] == {}


def test_change_of_one_field_keeps_the_others(cluster, endpoint, aws):
    result = run_module(endpoint, {"cluster_identifier": cluster, "max_capacity": 16})
    assert result["changed"] is True
    assert result["changes"] == {"max_capacity": {"before": 4.0, "after": 16.0}}
    assert scaling_of(aws, cluster) == {"MinCapacity": 0.5, "MaxCapacity": 16.0}


def test_check_mode_reports_and_changes_nothing(cluster, endpoint, aws):
    result = run_module(endpoint, {"cluster_identifier": cluster, "min_capacity": 2, "max_capacity": 32}, check=True)
    assert result["changed"] is True
    assert result["settings"]["max_capacity"] == 32.0
    assert scaling_of(aws, cluster) == {"MinCapacity": 0.5, "MaxCapacity": 4.0}


def test_diff_shows_before_and_after(cluster, endpoint):
    result = run_module(endpoint, {"cluster_identifier": cluster, "max_capacity": 6}, check=True, diff=True)
    before, after = result["diff"]["before"], result["diff"]["after"]
    assert {k: v for k, v in before.items() if before[k] != after[k]} == {"max_capacity": 4.0}
    assert {k: v for k, v in after.items() if before[k] != after[k]} == {"max_capacity": 6.0}
    assert before["seconds_until_auto_pause"] is None
    unchanged = run_module(endpoint, {"cluster_identifier": cluster, "max_capacity": 4}, diff=True)
    assert unchanged["changed"] is False
    assert unchanged["diff"]["before"] == unchanged["diff"]["after"]


def test_auto_pause_on_and_off(cluster, endpoint, aws):
    on = {"cluster_identifier": cluster, "min_capacity": 0, "max_capacity": 4, "seconds_until_auto_pause": 900}
    result = run_module(endpoint, on)
    assert result["changed"] is True
    assert scaling_of(aws, cluster) == {"MinCapacity": 0.0, "MaxCapacity": 4.0, "SecondsUntilAutoPause": 900}
    assert result["settings"]["seconds_until_auto_pause"] == 900
    assert run_module(endpoint, on)["changed"] is False

    # a new delay alone, the minimum stays 0
    result = run_module(endpoint, {"cluster_identifier": cluster, "seconds_until_auto_pause": 3600})
    assert result["changes"] == {"seconds_until_auto_pause": {"before": 900, "after": 3600}}
    assert scaling_of(aws, cluster)["SecondsUntilAutoPause"] == 3600
    # a max change keeps the auto-pause delay (min and delay are sent along)
    run_module(endpoint, {"cluster_identifier": cluster, "max_capacity": 8})
    assert scaling_of(aws, cluster) == {"MinCapacity": 0.0, "MaxCapacity": 8.0, "SecondsUntilAutoPause": 3600}

    off = run_module(endpoint, {"cluster_identifier": cluster, "min_capacity": 0.5, "max_capacity": 8})
    assert off["changed"] is True
    assert off["changes"] == {"min_capacity": {"before": 0.0, "after": 0.5}}
    # the auto-pause key is not sent with a minimum above 0
    assert scaling_of(aws, cluster) == {"MinCapacity": 0.5, "MaxCapacity": 8.0}
    assert (
        run_module(endpoint, {"cluster_identifier": cluster, "min_capacity": 0.5, "max_capacity": 8})["changed"]
        is False
    )


INVALID = [
    ({"max_capacity": 300}, "max_capacity must be between 1 and 256 ACU in steps of 0.5"),
    ({"max_capacity": 0.5}, "max_capacity must be between 1 and 256 ACU"),
    ({"max_capacity": 4.2}, "max_capacity must be between 1 and 256 ACU"),
    ({"min_capacity": -1, "max_capacity": 4}, "min_capacity must be between 0 and 256 ACU"),
    ({"min_capacity": 0.75, "max_capacity": 4}, "min_capacity must be between 0 and 256 ACU"),
    ({"min_capacity": 8, "max_capacity": 4}, "min_capacity (8) must not be greater than max_capacity (4)"),
    ({"min_capacity": 2, "max_capacity": 1}, "min_capacity (2) must not be greater than max_capacity (1)"),
    (
        {"min_capacity": 0.5, "max_capacity": 4, "seconds_until_auto_pause": 600},
        "seconds_until_auto_pause is allowed only with min_capacity 0",
    ),
    ({"seconds_until_auto_pause": 600}, "seconds_until_auto_pause is allowed only with min_capacity 0"),
    (
        {"min_capacity": 0, "max_capacity": 4, "seconds_until_auto_pause": 299},
        "seconds_until_auto_pause must be between 300 and 86400 seconds",
    ),
    (
        {"min_capacity": 0, "max_capacity": 4, "seconds_until_auto_pause": 90000},
        "seconds_until_auto_pause must be between 300 and 86400 seconds",
    ),
]


def test_every_invalid_input_fails_and_modifies_nothing(cluster, endpoint, aws, tmp_path):
    """All invalid cases in one playbook run (one ansible start-up instead of eleven)."""
    tasks = [
        {
            "name": f"case {i}",
            MODULE: {"cluster_identifier": cluster, **args},
            "ignore_errors": True,
        }
        for i, (args, _) in enumerate(INVALID)
    ]
    playbook = tmp_path / "invalid.yml"
    playbook.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}]))
    proc = subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), str(playbook)],
        cwd=REPO,
        env=ansible_env(endpoint, JSON_OUTPUT),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    results = _results(proc)
    assert len(results) == len(INVALID)
    for (args, needle), result in zip(INVALID, results, strict=True):
        assert result.get("failed") is True, (args, result)
        assert needle in result["msg"], (args, result["msg"])
        assert "changed" not in result or result["changed"] is False
    assert scaling_of(aws, cluster) == {"MinCapacity": 0.5, "MaxCapacity": 4.0}


def test_max_below_current_minimum_is_refused(cluster, endpoint, aws):
    set_scaling(aws, cluster, {"MinCapacity": 4, "MaxCapacity": 8})
    result = run_module(endpoint, {"cluster_identifier": cluster, "max_capacity": 2})
    assert result["failed"] is True
    assert "min_capacity (4) must not be greater than max_capacity (2)" in result["msg"]
    assert scaling_of(aws, cluster) == {"MinCapacity": 4.0, "MaxCapacity": 8.0}


def test_missing_cluster_is_not_created_without_what_creation_needs(endpoint, aws):
    result = run_module(endpoint, {"cluster_identifier": "no-such-cluster", "max_capacity": 8})
    assert result["failed"] is True
    assert "Cannot create DB cluster no-such-cluster: master_username, min_capacity needed" in result["msg"]
    assert "no-such-cluster" not in [c["DBClusterIdentifier"] for c in aws("rds").describe_db_clusters()["DBClusters"]]


def test_cluster_too_old_for_serverless_v2_fails_clearly(endpoint, aws):
    name = f"old-{new_env('m')}"
    aws("rds").create_db_cluster(
        DBClusterIdentifier=name,
        Engine="aurora-postgresql",
        EngineVersion="12.7",
        MasterUsername="videoadmin",
        ManageMasterUserPassword=True,
    )
    try:
        result = run_module(endpoint, {"cluster_identifier": name, "min_capacity": 0.5, "max_capacity": 4})
        assert result["failed"] is True
        assert "too old for Aurora Serverless v2" in result["msg"]
        cluster = aws("rds").describe_db_clusters(DBClusterIdentifier=name)["DBClusters"][0]
        assert "ServerlessV2ScalingConfiguration" not in cluster
    finally:
        aws("rds").delete_db_cluster(DBClusterIdentifier=name, SkipFinalSnapshot=True)
