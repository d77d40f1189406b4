"""scripts/emulator_proxy.py without sockets: classification, states, faults, rewriting."""

from __future__ import annotations

import http.client
import http.server
import importlib.util
import json
import sys
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from botocore import parsers
from botocore.session import get_session

_PATH = Path(__file__).resolve().parents[2] / "scripts" / "emulator_proxy.py"
_SPEC = importlib.util.spec_from_file_location("emulator_proxy", _PATH)
assert _SPEC and _SPEC.loader
proxy = importlib.util.module_from_spec(_SPEC)
sys.modules["emulator_proxy"] = proxy  # dataclasses look their module up here
_SPEC.loader.exec_module(proxy)

RDS_NS = "http://rds.amazonaws.com/doc/2014-10-31/"


def auth(service: str) -> str:
    return (
        "AWS4-HMAC-SHA256 Credential=testing/20261126/us-east-1/"
        f"{service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc"
    )


def form(service: str) -> dict[str, str]:
    return {"authorization": auth(service), "content-type": "application/x-www-form-urlencoded; charset=utf-8"}


@pytest.fixture
def states(clock) -> proxy.ResourceStates:
    return proxy.ResourceStates(scale=0.1, clock=clock)


def query_call(service: str, action: str, **params: str):
    protocol = "ec2" if service == "ec2" else "query"
    return proxy.Call(service, action, protocol, {"Action": action, **params})


# --- classification -----------------------------------------------------------


def test_json_protocol_from_target_header_and_credential_scope():
    headers = {"authorization": auth("kinesis"), "x-amz-target": "Kinesis_20131202.UpdateShardCount"}
    call = proxy.classify("POST", "/", headers, b'{"StreamName": "s", "TargetShardCount": 4}')
    assert (call.service, call.operation, call.protocol) == ("kinesis", "UpdateShardCount", "json")
    assert call.params["StreamName"] == "s"
    assert call.mutating


def test_query_protocol_from_form_body():
    body = "Action=CreateDBCluster&Version=2014-10-31&DBClusterIdentifier=Video-Cluster"
    call = proxy.classify("POST", "/", form("rds"), body.encode())
    assert (call.service, call.operation, call.protocol) == ("rds", "CreateDBCluster", "query")
    assert proxy.request_ident(call, "db-cluster") == "video-cluster"  # RDS identifiers are case-insensitive


def test_query_protocol_from_query_string_and_ec2_gets_its_own_protocol():
    call = proxy.classify("GET", "/?Action=ListRoles&Version=2010-05-08", {"authorization": auth("iam")}, b"")
    assert (call.service, call.operation, call.protocol, call.mutating) == ("iam", "ListRoles", "query", False)
    body = "Action=DescribeNatGateways&Version=2016-11-15"
    call = proxy.classify("POST", "/", form("ec2"), body.encode())
    assert (call.service, call.operation, call.protocol) == ("ec2", "DescribeNatGateways", "ec2")


def test_cbor_and_rest_and_unsigned_requests():
    path = "/service/GraniteServiceVersion20100801/operation/PutMetricAlarm"
    call = proxy.classify("POST", path, {"authorization": auth("monitoring")}, b"\xa0")
    assert (call.service, call.operation, call.protocol, call.mutating) == (
        "monitoring",
        "PutMetricAlarm",
        "cbor",
        True,
    )
    get = proxy.classify("GET", "/2015-03-31/functions/f?x=1", {"authorization": auth("lambda")}, b"")
    put = proxy.classify("PUT", "/2015-03-31/functions/f", {"authorization": auth("lambda")}, b"{}")
    assert (get.operation, get.protocol, get.mutating, put.mutating) == ("GET /2015-03-31", "rest", False, True)
    assert proxy.classify("POST", "/", {}, b"Action=GetCallerIdentity").service == "unknown"


@pytest.mark.parametrize(
    ("operation", "mutating"),
    [
        ("DescribeDBClusters", False),
        ("ListTagsForResource", False),
        ("GetSecretValue", False),
        ("CreateDBCluster", True),
        ("ModifyDBCluster", True),
        ("PutRetentionPolicy", True),
        ("TagResource", True),
        ("DeleteStream", True),
    ],
)
def test_describe_list_get_are_reads_everything_else_mutates(operation, mutating):
    assert proxy.Call("x", operation, "json").mutating is mutating


# --- latency state machine ------------------------------------------------------


def test_state_lasts_the_scaled_aws_time(states, clock):
    states.begin("db-cluster", "c1", "creating", "rds.cluster.create")
    assert states.state("db-cluster", "c1") == "creating"
    clock.now += proxy.LATENCY["rds.cluster.create"].seconds * 0.1 - 0.01
    assert states.state("db-cluster", "c1") == "creating"
    clock.now += 0.02
    assert states.state("db-cluster", "c1") is None
    assert states.active() == {}


def test_mutating_calls_start_the_phase_real_aws_shows(states, clock):
    proxy.record_transition(query_call("rds", "CreateDBCluster", DBClusterIdentifier="C1"), b"", states)
    kinesis = proxy.Call("kinesis", "CreateStream", "json", {"StreamName": "s"})
    proxy.record_transition(kinesis, b"", states)
    ecs = proxy.Call("ecs", "UpdateService", "json", {"cluster": "arn:aws:ecs:us-east-1:1:cluster/k", "service": "svc"})
    proxy.record_transition(ecs, b"", states)
    nat = b"<CreateNatGatewayResponse><natGateway><natGatewayId>nat-0abc</natGatewayId></natGateway>"
    nat += b"</CreateNatGatewayResponse>"
    proxy.record_transition(query_call("ec2", "CreateNatGateway", SubnetId="subnet-1"), nat, states)
    proxy.record_transition(proxy.Call("kinesis", "ListStreams", "json"), b"", states)  # reads start nothing
    assert {key: phase.state for key, phase in states.active().items()} == {
        ("db-cluster", "c1"): "creating",
        ("stream", "s"): "CREATING",
        ("ecs-service", "k/svc"): "IN_PROGRESS",
        ("nat-gateway", "nat-0abc"): "pending",
    }
    clock.now += 60 * 0.1 + 0.01  # 60 s of AWS time later: the stream is ACTIVE, the deployment still runs
    assert states.state("stream", "s") is None
    assert states.state("ecs-service", "k/svc") == "IN_PROGRESS"


# --- refusals ------------------------------------------------------------------


def _parse_error(call, reply) -> dict:
    """Parse a reply the way botocore does for that service's protocol."""
    service = {"monitoring": "cloudwatch"}.get(call.service, call.service)
    model = get_session().get_service_model(service)
    protocol = call.protocol if call.protocol != "cbor" else "smithy-rpc-v2-cbor"
    response = {"status_code": reply.status, "headers": dict(reply.headers), "body": reply.body}
    parsed = parsers.create_parser(protocol).parse(response, model.operation_model(call.operation).output_shape)
    return parsed["Error"]


def test_instance_into_a_creating_cluster_is_refused_until_available(states, clock):
    proxy.record_transition(query_call("rds", "CreateDBCluster", DBClusterIdentifier="c1"), b"", states)
    create = query_call("rds", "CreateDBInstance", DBInstanceIdentifier="i1", DBClusterIdentifier="C1")
    reply = proxy.refusal(create, states)
    assert reply is not None and reply.status == 400
    assert _parse_error(create, reply)["Code"] == "InvalidDBClusterStateFault"
    clock.now += 30.01
    assert proxy.refusal(create, states) is None


def test_reshard_while_updating_is_refused(states):
    update = proxy.Call("kinesis", "UpdateShardCount", "json", {"StreamARN": "arn:aws:kinesis:us-east-1:1:stream/s"})
    assert proxy.refusal(update, states) is None
    proxy.record_transition(update, b"{}", states)
    reply = proxy.refusal(update, states)
    assert reply is not None
    error = _parse_error(update, reply)
    assert (error["Code"], reply.status) == ("ResourceInUseException", 400)
    assert "UPDATING" in error["Message"]


def test_a_deleting_cluster_holds_its_subnet_group_and_security_groups(states, clock):
    deleted = DESCRIBE_CLUSTERS.replace(b"DescribeDBClusters", b"DeleteDBCluster")
    proxy.record_transition(query_call("rds", "DeleteDBCluster", DBClusterIdentifier="c1"), deleted, states)
    subnet_group = query_call("rds", "DeleteDBSubnetGroup", DBSubnetGroupName="video-subnets")
    security_group = query_call("ec2", "DeleteSecurityGroup", GroupId="sg-1")
    assert _parse_error(subnet_group, proxy.refusal(subnet_group, states))["Code"] == "InvalidDBSubnetGroupStateFault"
    assert _parse_error(security_group, proxy.refusal(security_group, states))["Code"] == "DependencyViolation"
    assert proxy.refusal(query_call("ec2", "DeleteSecurityGroup", GroupId="sg-2"), states) is None
    clock.now += 12.01
    assert proxy.refusal(subnet_group, states) is None


ECS_DELETED = json.dumps(
    {
        "service": {
            "serviceName": "svc",
            "clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/k",
            "status": "INACTIVE",
            "desiredCount": 1,
            "runningCount": 0,
            "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"], "securityGroups": ["sg-9"]}},
        }
    }
).encode()


def test_a_draining_ecs_service_holds_its_network_and_its_cluster(states, clock):
    delete = proxy.Call("ecs", "DeleteService", "json", {"cluster": "k", "service": "svc", "force": True})
    proxy.record_transition(delete, ECS_DELETED, states)
    assert states.state("ecs-service", "k/svc") == "DRAINING"
    refused = [
        (query_call("ec2", "DeleteSecurityGroup", GroupId="sg-9"), "DependencyViolation"),
        (query_call("ec2", "DeleteSubnet", SubnetId="subnet-1"), "DependencyViolation"),
        (
            proxy.Call("ecs", "DeleteCluster", "json", {"cluster": "arn:aws:ecs:::cluster/k"}),
            "ClusterContainsTasksException",
        ),
    ]
    for call, code in refused:
        assert _parse_error(call, proxy.refusal(call, states))["Code"] == code
    assert proxy.refusal(proxy.Call("ecs", "DeleteCluster", "json", {"cluster": "other"}), states) is None

    describe = proxy.Call("ecs", "DescribeServices", "json", {"cluster": "k", "services": ["svc"]})
    listing = json.dumps({"services": [json.loads(ECS_DELETED)["service"]]}).encode()
    assert json.loads(proxy.rewrite(describe, 200, listing, states)[1])["services"][0]["status"] == "DRAINING"
    clock.now += 6.01
    service = json.loads(proxy.rewrite(describe, 200, listing, states)[1])["services"][0]
    assert (service["status"], service["runningCount"]) == ("INACTIVE", 0)
    assert all(proxy.refusal(call, states) is None for call, _ in refused)


def test_a_deleting_instance_holds_its_nested_subnet_group_and_subnets(states):
    deleted = (
        f'<DeleteDBInstanceResponse xmlns="{RDS_NS}"><DeleteDBInstanceResult><DBInstance>'
        "<DBInstanceIdentifier>i1</DBInstanceIdentifier><DBSubnetGroup><DBSubnetGroupName>Video-Subnets"
        "</DBSubnetGroupName><Subnets><Subnet><SubnetIdentifier>subnet-7</SubnetIdentifier></Subnet></Subnets>"
        "</DBSubnetGroup></DBInstance></DeleteDBInstanceResult></DeleteDBInstanceResponse>"
    ).encode()
    proxy.record_transition(query_call("rds", "DeleteDBInstance", DBInstanceIdentifier="i1"), deleted, states)
    assert states.active()[("db-instance", "i1")].holds == frozenset({"video-subnets", "subnet-7"})
    subnet_group = query_call("rds", "DeleteDBSubnetGroup", DBSubnetGroupName="video-subnets")
    assert _parse_error(subnet_group, proxy.refusal(subnet_group, states))["Code"] == "InvalidDBSubnetGroupStateFault"


# --- faults --------------------------------------------------------------------


def _sequence(seed: int, rate: float = 0.3, kinds=("throttle", "5xx", "drop"), n: int = 200) -> list:
    injector = proxy.FaultInjector(rate, list(kinds), seed)
    return [injector.draw() for _ in range(n)]


def test_fault_sequence_is_fixed_by_the_seed():
    first = _sequence(1)
    assert first == _sequence(1)
    assert first != _sequence(2)
    hits = [fault for fault in first if fault is not None]
    assert 40 <= len(hits) <= 80  # about 30 % of 200
    assert {fault.kind for fault in hits} == {"throttle", "5xx", "drop"}
    assert {fault.status for fault in hits if fault.kind == "5xx"} <= {500, 503}


def test_fault_rate_and_kinds_are_honoured():
    assert _sequence(1, rate=0) == [None] * 200
    assert {fault.kind for fault in _sequence(1, rate=1, kinds=["throttle"])} == {"throttle"}
    with pytest.raises(ValueError, match="fault kinds"):
        proxy.FaultInjector(0.1, ["timeout"], 1)


@pytest.mark.parametrize(
    ("call", "code", "status"),
    [
        (proxy.Call("kinesis", "DescribeStreamSummary", "json"), "ThrottlingException", 400),
        (proxy.Call("rds", "DescribeDBClusters", "query"), "Throttling", 400),
        (proxy.Call("ec2", "DescribeVpcs", "ec2"), "RequestLimitExceeded", 503),
        (proxy.Call("monitoring", "DescribeAlarms", "cbor"), "ThrottlingException", 400),
    ],
)
def test_throttling_is_sent_in_each_protocols_real_form(call, code, status):
    reply = proxy.fault_reply(call, proxy.Fault("throttle"))
    assert reply.status == status
    assert _parse_error(call, reply)["Code"] == code


def test_5xx_and_drop_replies():
    call = proxy.Call("ec2", "DescribeVpcs", "ec2")
    reply = proxy.fault_reply(call, proxy.Fault("5xx", 503))
    assert (reply.status, _parse_error(call, reply)["Code"]) == (503, "Unavailable")
    json_call = proxy.Call("kinesis", "ListStreams", "json")
    reply = proxy.fault_reply(json_call, proxy.Fault("5xx", 500))
    assert (reply.status, json.loads(reply.body)["__type"]) == (500, "InternalFailure")
    assert proxy.fault_reply(json_call, proxy.Fault("drop")) is None


# --- rewriting describe responses ------------------------------------------------

DESCRIBE_CLUSTERS = f"""<DescribeDBClustersResponse xmlns="{RDS_NS}"><DescribeDBClustersResult><DBClusters>
<DBCluster><DBClusterIdentifier>c1</DBClusterIdentifier><DBSubnetGroup>video-subnets</DBSubnetGroup>
<Status>available</Status><VpcSecurityGroups><VpcSecurityGroupMembership><VpcSecurityGroupId>sg-1</VpcSecurityGroupId>
<Status>active</Status></VpcSecurityGroupMembership></VpcSecurityGroups></DBCluster>
<DBCluster><DBClusterIdentifier>other</DBClusterIdentifier><Status>available</Status></DBCluster>
</DBClusters></DescribeDBClustersResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>
</DescribeDBClustersResponse>""".encode()


def _parse_ok(service: str, operation: str, body: bytes) -> dict:
    model = get_session().get_service_model(service)
    protocol = model.protocol
    response = {"status_code": 200, "headers": {}, "body": body}
    return parsers.create_parser(protocol).parse(response, model.operation_model(operation).output_shape)


def test_rds_status_is_rewritten_only_for_the_busy_cluster(states):
    states.begin("db-cluster", "c1", "creating", "rds.cluster.create")
    call = query_call("rds", "DescribeDBClusters")
    status, body = proxy.rewrite(call, 200, DESCRIBE_CLUSTERS, states)
    clusters = _parse_ok("rds", "DescribeDBClusters", body)["DBClusters"]
    assert status == 200
    assert [(c["DBClusterIdentifier"], c["Status"]) for c in clusters] == [("c1", "creating"), ("other", "available")]
    assert clusters[0]["VpcSecurityGroups"][0]["Status"] == "active"  # nested Status left alone


def test_rds_deleting_cluster_is_still_described_after_moto_forgot_it(states, clock):
    deleted = DESCRIBE_CLUSTERS.replace(b"DescribeDBClusters", b"DeleteDBCluster")
    proxy.record_transition(query_call("rds", "DeleteDBCluster", DBClusterIdentifier="c1"), deleted, states)
    not_found = b"<ErrorResponse><Error><Code>DBClusterNotFoundFault</Code></Error></ErrorResponse>"
    by_id = query_call("rds", "DescribeDBClusters", DBClusterIdentifier="c1")
    status, body = proxy.rewrite(by_id, 404, not_found, states)
    assert status == 200
    assert [c["Status"] for c in _parse_ok("rds", "DescribeDBClusters", body)["DBClusters"]] == ["deleting"]
    empty = DESCRIBE_CLUSTERS.split(b"<DBClusters>")[0] + b"<DBClusters/></DescribeDBClustersResult>"
    empty += b"</DescribeDBClustersResponse>"
    _, body = proxy.rewrite(query_call("rds", "DescribeDBClusters"), 200, empty, states)
    assert [c["DBClusterIdentifier"] for c in _parse_ok("rds", "DescribeDBClusters", body)["DBClusters"]] == ["c1"]
    clock.now += 12.01
    assert proxy.rewrite(by_id, 404, not_found, states) == (404, not_found)


def test_rds_instance_status(states):
    states.begin("db-instance", "i1", "creating", "rds.instance.create")
    body = (
        f'<DescribeDBInstancesResponse xmlns="{RDS_NS}"><DescribeDBInstancesResult><DBInstances><DBInstance>'
        "<DBInstanceIdentifier>i1</DBInstanceIdentifier><DBInstanceStatus>available</DBInstanceStatus>"
        "</DBInstance></DBInstances></DescribeDBInstancesResult></DescribeDBInstancesResponse>"
    ).encode()
    _, out = proxy.rewrite(query_call("rds", "DescribeDBInstances"), 200, body, states)
    assert _parse_ok("rds", "DescribeDBInstances", out)["DBInstances"][0]["DBInstanceStatus"] == "creating"


def test_kinesis_stream_status_in_describe_and_summary(states):
    states.begin("stream", "s", "UPDATING", "kinesis.reshard")
    for operation, key in (
        ("DescribeStream", "StreamDescription"),
        ("DescribeStreamSummary", "StreamDescriptionSummary"),
    ):
        body = json.dumps({key: {"StreamName": "s", "StreamStatus": "ACTIVE"}}).encode()
        _, out = proxy.rewrite(proxy.Call("kinesis", operation, "json"), 200, body, states)
        assert json.loads(out)[key]["StreamStatus"] == "UPDATING"
    other = json.dumps({"StreamDescriptionSummary": {"StreamName": "t", "StreamStatus": "ACTIVE"}}).encode()
    _, out = proxy.rewrite(proxy.Call("kinesis", "DescribeStreamSummary", "json"), 200, other, states)
    assert json.loads(out)["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE"


def _ecs_services() -> bytes:
    deployment = {"id": "ecs-svc/1", "status": "PRIMARY", "desiredCount": 2, "runningCount": 0, "pendingCount": 2}
    service = {
        "serviceName": "svc",
        "clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/k",
        "desiredCount": 2,
        "runningCount": 0,
        "pendingCount": 2,
        "deployments": [deployment, {**deployment, "id": "ecs-svc/0", "status": "ACTIVE"}],
    }
    return json.dumps({"services": [service], "failures": []}).encode()


def test_ecs_deployment_in_progress_then_completed_with_all_tasks_running(states, clock):
    states.begin("ecs-service", "k/svc", "IN_PROGRESS", "ecs.deploy")
    call = proxy.Call("ecs", "DescribeServices", "json", {"cluster": "k", "services": ["svc"]})
    service = json.loads(proxy.rewrite(call, 200, _ecs_services(), states)[1])["services"][0]
    assert service["runningCount"] == 0 < service["desiredCount"]
    assert [d["rolloutState"] for d in service["deployments"] if d["status"] == "PRIMARY"] == ["IN_PROGRESS"]
    clock.now += 12.01
    service = json.loads(proxy.rewrite(call, 200, _ecs_services(), states)[1])["services"][0]
    # What the services_stable waiter wants: one deployment, runningCount == desiredCount.
    assert (service["runningCount"], service["pendingCount"]) == (2, 0)
    assert [(d["status"], d["rolloutState"], d["runningCount"]) for d in service["deployments"]] == [
        ("PRIMARY", "COMPLETED", 2)
    ]


def test_nat_gateway_pending(states):
    states.begin("nat-gateway", "nat-1", "pending", "ec2.nat.create")
    body = (
        b'<DescribeNatGatewaysResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><natGatewaySet>'
        b"<item><natGatewayId>nat-1</natGatewayId><state>available</state></item>"
        b"<item><natGatewayId>nat-2</natGatewayId><state>available</state></item>"
        b"</natGatewaySet></DescribeNatGatewaysResponse>"
    )
    _, out = proxy.rewrite(query_call("ec2", "DescribeNatGateways"), 200, body, states)
    assert [g["State"] for g in _parse_ok("ec2", "DescribeNatGateways", out)["NatGateways"]] == ["pending", "available"]


def test_unexpected_bodies_pass_through(states):
    states.begin("stream", "s", "CREATING", "kinesis.create")
    call = proxy.Call("kinesis", "DescribeStream", "json")
    assert proxy.rewrite(call, 200, b"not json", states) == (200, b"not json")
    assert proxy.rewrite(call, 400, b"{}", states) == (400, b"{}")


# --- counting ------------------------------------------------------------------


def test_counts_by_service_and_operation_with_outcomes():
    counts = proxy.Counts()
    create = proxy.Call("rds", "CreateDBCluster", "query")
    read = proxy.Call("rds", "DescribeDBClusters", "query")
    for outcome in ("throttle", "forwarded"):
        counts.add(create, outcome)
    counts.add(read, "forwarded")
    counts.add(proxy.Call("kinesis", "UpdateShardCount", "json"), "refused")
    snapshot = counts.snapshot()
    assert snapshot["services"]["rds"]["CreateDBCluster"] == {
        "mutating": True,
        "requests": 2,
        "forwarded": 1,
        "refused": 0,
        "throttle": 1,
        "5xx": 0,
        "drop": 0,
    }
    totals = snapshot["totals"]
    assert {k: totals[k] for k in ("requests", "mutating", "read", "refused", "throttle")} == {
        "requests": 4,
        "mutating": 3,
        "read": 1,
        "refused": 1,
        "throttle": 1,
    }
    assert counts.reset()["totals"]["requests"] == 4
    assert counts.snapshot()["totals"]["requests"] == 0


def test_counts_file_is_json(tmp_path):
    counts = proxy.Counts()
    counts.add(proxy.Call("sts", "GetCallerIdentity", "query"), "forwarded")
    target = tmp_path / "sub" / "api-calls.json"
    counts.write(target)
    assert json.loads(target.read_text())["services"]["sts"]["GetCallerIdentity"]["requests"] == 1


def test_rewritten_xml_keeps_the_default_namespace(states):
    states.begin("db-cluster", "c1", "modifying", "rds.cluster.modify")
    _, body = proxy.rewrite(query_call("rds", "DescribeDBClusters"), 200, DESCRIBE_CLUSTERS, states)
    assert ET.fromstring(body).tag  # noqa: S314 - our own test data == f"{{{RDS_NS}}}DescribeDBClustersResponse"
    assert b"ns0:" not in body


def test_deleting_instance_is_listed_for_a_filter_on_its_cluster(states):
    deleted = (
        f'<DeleteDBInstanceResponse xmlns="{RDS_NS}"><DeleteDBInstanceResult><DBInstance>'
        "<DBInstanceIdentifier>i1</DBInstanceIdentifier><DBClusterIdentifier>c1</DBClusterIdentifier>"
        "<DBInstanceStatus>available</DBInstanceStatus></DBInstance></DeleteDBInstanceResult></DeleteDBInstanceResponse>"
    ).encode()
    proxy.record_transition(query_call("rds", "DeleteDBInstance", DBInstanceIdentifier="i1"), deleted, states)
    empty = (
        f'<DescribeDBInstancesResponse xmlns="{RDS_NS}"><DescribeDBInstancesResult><DBInstances/>'
        "</DescribeDBInstancesResult></DescribeDBInstancesResponse>"
    ).encode()

    def listed(**filters: str) -> list[tuple[str, str]]:
        call = query_call("rds", "DescribeDBInstances", **filters)
        _, body = proxy.rewrite(call, 200, empty, states)
        return [
            (i["DBInstanceIdentifier"], i["DBInstanceStatus"])
            for i in _parse_ok("rds", call.operation, body)["DBInstances"]
        ]

    cluster_filter = {"Filters.Filter.1.Name": "db-cluster-id", "Filters.Filter.1.Values.Value.1": "c1"}
    assert listed(**cluster_filter) == [("i1", "deleting")]
    assert listed() == [("i1", "deleting")]
    assert listed(**{**cluster_filter, "Filters.Filter.1.Values.Value.1": "c2"}) == []


# --- the HTTP server itself, against a stand-in backend ----------------------------


class _Echo(http.server.BaseHTTPRequestHandler):
    """Backend stand-in: answers with what it received."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        data = json.dumps({"path": self.path, "body": body.decode(), "chunked": "Transfer-Encoding" in self.headers})
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data.encode())

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def live_proxy():
    backend = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    url = urllib.parse.urlsplit(f"http://127.0.0.1:{backend.server_address[1]}")
    faults = proxy.FaultInjector(0, ["drop"], 1)
    server = proxy.serve(proxy.Proxy(url, proxy.ResourceStates(0.1), faults), "127.0.0.1", 0)
    server.RequestHandlerClass.log_message = lambda *args: None
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in (backend, server)]
    for thread in threads:
        thread.start()
    yield server
    for s in (backend, server):
        s.shutdown()
        s.server_close()


def _request(server, method: str, path: str, body=None, headers=None, chunked=False):
    conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
    conn.request(method, path, body=body, headers=headers or {}, encode_chunked=chunked)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


def test_proxy_forwards_bodies_counts_calls_and_serves_counts(live_proxy):
    headers = {"Authorization": auth("kinesis"), "X-Amz-Target": "Kinesis_20131202.CreateStream"}
    chunks = iter([b'{"StreamName": ', b'"s", "ShardCount": 1}'])
    status, data = _request(live_proxy, "POST", "/", chunks, headers, chunked=True)
    assert status == 200
    echoed = json.loads(data)
    assert (json.loads(echoed["body"]), echoed["chunked"]) == ({"StreamName": "s", "ShardCount": 1}, False)
    assert _request(live_proxy, "POST", "/moto-api/reset")[0] == 200  # forwarded, not counted
    status, data = _request(live_proxy, "GET", "/_proxy/counts")
    counts = json.loads(data)
    assert (status, counts["totals"]["requests"]) == (200, 1)
    assert counts["services"]["kinesis"]["CreateStream"]["forwarded"] == 1
    assert _request(live_proxy, "GET", "/_proxy/nothing")[0] == 404


def test_fault_settings_can_be_replaced_at_runtime(live_proxy):
    headers = {"Authorization": auth("kinesis"), "X-Amz-Target": "Kinesis_20131202.ListStreams"}
    status, data = _request(live_proxy, "POST", "/_proxy/faults", b'{"rate": 1, "seed": 3, "kinds": ["throttle"]}')
    assert (status, json.loads(data)) == (200, {"rate": 1.0, "seed": 3, "kinds": ["throttle"]})
    status, data = _request(live_proxy, "POST", "/", b"{}", headers)
    assert (status, json.loads(data)["__type"]) == (400, "ThrottlingException")
    assert _request(live_proxy, "GET", "/_proxy/counts")[0] == 200  # admin paths are never faulted
    for bad in (b'{"rate": 2}', b'{"kinds": ["slow"]}', b"[1]", b"not json"):
        assert _request(live_proxy, "POST", "/_proxy/faults", bad)[0] == 400
    assert json.loads(_request(live_proxy, "GET", "/_proxy/faults")[1])["rate"] == 1.0
    counts = json.loads(_request(live_proxy, "GET", "/_proxy/counts")[1])
    assert counts["services"]["kinesis"]["ListStreams"] == {
        "mutating": False,
        "requests": 1,
        "forwarded": 0,
        "refused": 0,
        "throttle": 1,
        "5xx": 0,
        "drop": 0,
    }


def test_each_aws_call_costs_the_call_latency_and_admin_calls_do_not(live_proxy):
    live_proxy.RequestHandlerClass.proxy.call_latency = 0.2
    headers = {"Authorization": auth("kinesis"), "X-Amz-Target": "Kinesis_20131202.ListStreams"}
    started = time.monotonic()
    assert _request(live_proxy, "POST", "/", b"{}", headers)[0] == 200
    assert time.monotonic() - started >= 0.2
    started = time.monotonic()
    assert _request(live_proxy, "GET", "/_proxy/counts")[0] == 200
    assert time.monotonic() - started < 0.2


def test_ecs_primary_deployment_runs_the_services_task_definition(states):
    # moto keeps the first revision on its PRIMARY deployment after an UpdateService
    # to a new one; AWS shows the revision the service runs.
    data = json.loads(_ecs_services())
    data["services"][0]["taskDefinition"] = "arn:aws:ecs:us-east-1:123456789012:task-definition/f:2"
    data["services"][0]["deployments"][0]["taskDefinition"] = "arn:aws:ecs:us-east-1:123456789012:task-definition/f:1"
    call = proxy.Call("ecs", "DescribeServices", "json", {"cluster": "k", "services": ["svc"]})
    service = json.loads(proxy.rewrite(call, 200, json.dumps(data).encode(), states)[1])["services"][0]
    assert [d["taskDefinition"] for d in service["deployments"]] == [data["services"][0]["taskDefinition"]]
