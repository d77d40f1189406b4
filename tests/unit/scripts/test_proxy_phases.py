"""The emulator proxy's phase history (ResourceStates) and GET /_proxy/phases."""

from __future__ import annotations

import http.client
import http.server
import json
import threading
import urllib.parse

import pytest
from _load import load

proxy = load("emulator_proxy", "scripts/emulator_proxy.py")


@pytest.fixture
def states(clock) -> proxy.ResourceStates:
    return proxy.ResourceStates(scale=0.05, clock=clock)


def test_every_phase_begun_is_recorded_with_its_key_start_and_scaled_length(states, clock):
    clock.now += 2
    states.begin("db-cluster", "c1", "creating", "rds.cluster.create")
    clock.now += 20
    states.begin("db-instance", "i1", "creating", "rds.instance.create")
    history = states.history()
    assert history["scale"] == 0.05
    assert history["elapsed"] == 22.0
    assert history["phases"] == [
        {
            "kind": "db-cluster",
            "id": "c1",
            "state": "creating",
            "key": "rds.cluster.create",
            "start": 2.0,
            "seconds": 15.0,
        },
        {
            "kind": "db-instance",
            "id": "i1",
            "state": "creating",
            "key": "rds.instance.create",
            "start": 22.0,
            "seconds": 24.0,
        },
    ]


def test_settled_phases_stay_in_the_history(states, clock):
    states.begin("stream", "s", "CREATING", "kinesis.create")
    clock.now += 100
    assert states.state("stream", "s") is None  # settled, dropped from the live states
    assert [p["key"] for p in states.history()["phases"]] == ["kinesis.create"]


def test_reset_history_forgets_it_and_restarts_the_clock_but_keeps_running_phases(states, clock):
    states.begin("stream", "s", "CREATING", "kinesis.create")
    clock.now += 0.5
    states.reset_history()
    assert states.history()["phases"] == []
    assert states.state("stream", "s") == "CREATING"  # still busy for 1 s more
    clock.now += 3
    states.begin("stream", "s", "UPDATING", "kinesis.update")
    assert states.history()["phases"][0]["start"] == 3.0


def test_a_phase_replaced_while_running_is_marked_superseded(states, clock):
    states.begin("ecs-service", "c/web", "IN_PROGRESS", "ecs.deploy")  # 6 s
    clock.now += 2
    states.begin("ecs-service", "c/web", "IN_PROGRESS", "ecs.deploy")
    clock.now += 10  # the second one runs out
    states.begin("ecs-service", "c/web", "DRAINING", "ecs.drain")
    first, second, third = states.history()["phases"]
    assert first["superseded_after"] == 2.0
    assert "superseded_after" not in second  # it had settled before the drain began
    assert "superseded_after" not in third


def test_moto_reset_clears_live_states_but_not_the_history(states):
    states.begin("nat-gateway", "nat-1", "pending", "ec2.nat.create")
    states.clear()
    assert states.active() == {}
    assert len(states.history()["phases"]) == 1


def test_history_returns_copies(states):
    states.begin("nat-gateway", "nat-1", "pending", "ec2.nat.create")
    states.history()["phases"][0]["seconds"] = 999
    assert states.history()["phases"][0]["seconds"] == 6.0


def test_record_transition_writes_the_history():
    states = proxy.ResourceStates(scale=0.1)
    call = proxy.Call("rds", "CreateDBCluster", "query", {"Action": "CreateDBCluster", "DBClusterIdentifier": "C1"})
    proxy.record_transition(call, b"", states)
    nat = proxy.Call("ec2", "CreateNatGateway", "ec2", {"Action": "CreateNatGateway"})
    proxy.record_transition(nat, b"<natGatewayId>nat-0abc</natGatewayId>", states)
    phases = states.history()["phases"]
    assert [(p["kind"], p["id"], p["key"], p["seconds"]) for p in phases] == [
        ("db-cluster", "c1", "rds.cluster.create", 30.0),
        ("nat-gateway", "nat-0abc", "ec2.nat.create", 12.0),
    ]


def test_history_is_complete_and_in_start_order_under_concurrent_begins():
    states = proxy.ResourceStates(scale=0.01)

    def begin_many(n: int) -> None:
        for i in range(200):
            states.begin("stream", f"s{n}-{i}", "CREATING", "kinesis.create")

    threads = [threading.Thread(target=begin_many, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    phases = states.history()["phases"]
    assert len(phases) == 1600
    assert len({p["id"] for p in phases}) == 1600
    starts = [p["start"] for p in phases]
    assert starts == sorted(starts)


# --- the endpoint, through a live proxy in front of a stand-in backend ---------------


class _Ok(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def live_proxy():
    backend = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    url = urllib.parse.urlsplit(f"http://127.0.0.1:{backend.server_address[1]}")
    server = proxy.serve(
        proxy.Proxy(url, proxy.ResourceStates(0.1), proxy.FaultInjector(0, ["drop"], 1)), "127.0.0.1", 0
    )
    server.RequestHandlerClass.log_message = lambda *args: None
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in (backend, server)]
    for thread in threads:
        thread.start()
    yield server
    for s in (backend, server):
        s.shutdown()
        s.server_close()


def _request(server, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


def _kinesis(operation: str) -> dict[str, str]:
    scope = "Credential=testing/20261126/us-east-1/kinesis/aws4_request"
    return {"Authorization": f"AWS4-HMAC-SHA256 {scope}, Signature=x", "X-Amz-Target": f"Kinesis_20131202.{operation}"}


def test_phases_endpoint_serves_the_history_and_reset_counts_clears_it(live_proxy):
    assert (
        _request(live_proxy, "POST", "/", b'{"StreamName": "s", "ShardCount": 1}', _kinesis("CreateStream"))[0] == 200
    )
    _request(live_proxy, "POST", "/", b'{"StreamName": "s"}', _kinesis("DescribeStream"))  # a read: no phase
    status, data = _request(live_proxy, "GET", "/_proxy/phases")
    history = json.loads(data)
    assert status == 200
    assert history["scale"] == 0.1
    assert [(p["kind"], p["id"], p["state"], p["key"], p["seconds"]) for p in history["phases"]] == [
        ("stream", "s", "CREATING", "kinesis.create", 3.0)
    ]
    assert _request(live_proxy, "POST", "/_proxy/reset-counts")[0] == 200
    assert json.loads(_request(live_proxy, "GET", "/_proxy/phases")[1])["phases"] == []
    assert _request(live_proxy, "POST", "/_proxy/phases")[0] == 404  # read-only
