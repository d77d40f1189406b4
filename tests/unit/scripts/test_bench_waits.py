"""benchmarks/bench.py: critical path, serial waits, busy time and the realistic columns."""

from __future__ import annotations

import pytest
from _load import load

bench = load("bench", "benchmarks/bench.py")
proxy = load("emulator_proxy", "scripts/emulator_proxy.py")

KINDS = {"rds.cluster": "db-cluster", "rds.instance": "db-instance", "kinesis": "stream", "ecs": "ecs-service"}


def phase(key: str, ident: str, start: float, seconds: float, **extra) -> dict:
    kind = next((k for prefix, k in KINDS.items() if key.startswith(prefix)), "nat-gateway")
    return {"kind": kind, "id": ident, "state": "x", "key": key, "start": start, "seconds": seconds, **extra}


def test_dependency_map_uses_only_latency_keys_and_known_scopes():
    for key, needs in bench.DEPENDS.items():
        assert key in proxy.LATENCY
        assert set(needs) <= set(proxy.LATENCY), key
        assert set(needs.values()) <= {bench.SAME, bench.ANY}, key


def test_no_phases_no_path():
    assert bench.critical_path([]) == (0.0, [])
    assert bench.busy_seconds([]) == 0.0


def test_deploy_chain_cluster_then_modify_then_instance_beats_parallel_work():
    phases = [
        phase("kinesis.create", "s", 0, 1.5),
        phase("kinesis.update", "s", 3, 0.5),
        phase("ec2.nat.create", "nat-1", 4, 6),
        phase("rds.cluster.create", "c", 10, 15),
        phase("rds.cluster.modify", "c", 26, 3),
        phase("rds.instance.create", "i1", 30, 24),
        phase("ecs.deploy", "c/web", 40, 6),
    ]
    total, chain = bench.critical_path(phases)
    assert total == 42.0  # 15 + 3 + 24; NAT and ECS do not chain (public subnets)
    assert [p["key"] for p in chain] == ["rds.cluster.create", "rds.cluster.modify", "rds.instance.create"]


def test_waits_of_the_same_key_on_another_resource_do_not_chain():
    phases = [
        phase("kinesis.create", "a", 0, 10),
        phase("kinesis.create", "b", 1, 1),
        phase("kinesis.reshard", "b", 5, 3),  # SAME: chains onto b's creation only
    ]
    total, chain = bench.critical_path(phases)
    assert total == 10.0
    assert [(p["key"], p["id"]) for p in chain] == [("kinesis.create", "a")]


def test_any_scope_chains_a_cluster_delete_after_its_slowest_instance_delete():
    phases = [
        phase("rds.instance.delete", "i1", 0, 15),
        phase("rds.instance.delete", "i2", 0.5, 20),
        phase("ecs.drain", "c/web", 1, 3),
        phase("ec2.nat.delete", "nat-1", 2, 3),
        phase("rds.cluster.delete", "c", 21, 6),
    ]
    total, chain = bench.critical_path(phases)
    assert total == 26.0
    assert [p["id"] for p in chain] == ["i2", "c"]


def test_only_earlier_phases_can_be_predecessors():
    # The instance began first (impossible on AWS, possible in a history): nothing to chain onto.
    phases = [phase("rds.instance.create", "i1", 0, 24), phase("rds.cluster.create", "c", 1, 15)]
    assert bench.critical_path(phases)[0] == 24.0


def test_a_superseded_phase_counts_until_it_was_replaced():
    phases = [
        phase("kinesis.create", "s", 0, 1.5),
        phase("kinesis.reshard", "s", 2, 3, superseded_after=1.0),
        phase("kinesis.update", "s", 3, 0.5),
    ]
    assert bench.wait_seconds(phases[1]) == 1.0
    assert bench.critical_path(phases)[0] == 3.0  # 1.5 + 1 + 0.5
    assert bench.summarize_waits({"scale": 0.05, "phases": phases})["waits_s"] == 3.0


def test_busy_seconds_is_the_union_of_the_wait_intervals():
    phases = [
        phase("rds.cluster.create", "c", 0, 15),
        phase("kinesis.create", "s", 5, 1.5),  # inside the cluster's wait
        phase("ec2.nat.create", "n", 14, 6),  # overlaps its end
        phase("ecs.deploy", "c/web", 30, 6),  # separate
    ]
    assert bench.busy_seconds(phases) == 26.0  # [0, 20] + [30, 36]


def test_busy_after_is_how_long_a_wait_outlived_the_run():
    phases = [phase("rds.cluster.create", "c", 0, 15), phase("rds.instance.create", "i", 171, 24)]
    assert bench.busy_after(phases, 193.0) == 2.0  # the instance was left 'creating'
    assert bench.busy_after(phases, 200.0) == 0.0
    assert bench.busy_after([], 10.0) == 0.0


def test_summarize_waits_from_the_proxy_history():
    history = {
        "scale": 0.05,
        "phases": [phase("rds.cluster.create", "c", 0, 15), phase("rds.instance.create", "i", 20, 24)],
    }
    summary = bench.summarize_waits(history)
    assert summary["waits_s"] == 39.0
    assert summary["critical_path_s"] == 39.0
    assert summary["busy_s"] == 39.0
    assert summary["critical_path"] == ["rds.cluster.create c", "rds.instance.create i"]
    assert summary["latency_scale"] == 0.05
    assert bench.summarize_waits(None)["waits_s"] is None


@pytest.mark.parametrize(
    ("plain", "realistic", "waits", "added", "hidden"),
    [
        (100.0, 120.0, 50.0, 20.0, 30.0),  # 30 of the 50 s of waits overlapped other work
        (100.0, 180.0, 50.0, 80.0, 0.0),  # waited longer than serially (slow polling): nothing hidden
        (100.0, 95.0, 50.0, -5.0, 50.0),  # faster than plain (noise): at most all of the waits
        (100.0, 100.0, 0.0, 0.0, 0.0),  # no waits at all
    ],
)
def test_added_and_hidden_seconds(plain, realistic, waits, added, hidden):
    rows = [{"phase": "deploy", "seconds": plain}]
    other = [{"phase": "deploy", "seconds": realistic, "waits_s": waits}]
    bench.compare(rows, other, 0.0)
    assert (other[0]["added_s"], other[0]["hidden_s"]) == (added, hidden)


def test_compare_without_a_plain_twin_or_history_gives_none():
    other = [{"phase": "teardown", "seconds": 10.0, "waits_s": 5.0}, {"phase": "deploy", "seconds": 1, "waits_s": None}]
    bench.compare([{"phase": "deploy", "seconds": 1.0}], other, 0.03)
    assert [(r["added_s"], r["hidden_s"], r["wait_ratio"]) for r in other] == [(None, None, None)] * 2


def test_table_shows_the_realistic_columns():
    row = {"phase": "deploy", "rc": 0, "seconds": 100.0, "tasks": 10, "changed": 5, "api_calls": 50, "api_mutating": 9}
    other = {**row, "seconds": 130.0, "api_calls": 60, "waits_s": 45.0, "critical_path_s": 39.0, "busy_after_s": 2.0}
    bench.compare([row], [other], 0.05)
    header, _, line = bench.table([row], [other]).splitlines()
    columns = ["waits s", "critical path s", "added s", "hidden s", "wait cost s", "x critical path"]
    assert header.split("  ")[-6:] == columns
    # wait cost = 30 s added + 2 s still busy after the run - 60 calls x 0.05 s of call latency
    assert line.split()[-8:] == ["130.0", "60", "45.0", "39.0", "30.0", "15.0", "29.0", "0.74"]
    assert "waits s" not in bench.table([row], None)


def test_ratios_to_the_baseline_and_per_resource():
    rows = [
        {"phase": "baseline", "rc": 0, "seconds": 1.25, "api_calls": 0},
        {"phase": "noop", "rc": 0, "seconds": 10.0, "api_calls": 49},
    ]
    bench.add_ratios(rows, 35)
    assert [(r["x_baseline"], r["calls_per_resource"]) for r in rows] == [(1.0, 0.0), (8.0, 1.4)]
    bench.add_ratios(rows, None)
    assert rows[1]["calls_per_resource"] is None
