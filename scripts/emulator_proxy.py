#!/usr/bin/env python3
"""Realistic-mode proxy in front of moto server: latency, faults and API-call counts.

    emulator_proxy.py --listen HOST:PORT --backend URL --counts-file PATH
                      [--latency-scale 0.05] [--call-latency-ms 30]
                      [--fault-rate 0] [--seed N] [--fault-kinds throttle,5xx,drop]

moto answers every call at once and moves no resource through states. This proxy
forwards each request to moto unchanged and:

* remembers when a slow resource was created, modified or deleted, and rewrites the
  status fields of describe responses until the real AWS time (LATENCY, times
  --latency-scale) has passed; while a resource is busy it refuses the calls AWS
  refuses, in AWS's own error form;
* holds every AWS call for --call-latency-ms before it answers: the round trip a
  call costs on real AWS, which moto on loopback does not (so a benchmark shows what
  a run's call count costs);
* with --fault-rate, answers some requests (before forwarding, so a mutating call
  never half-happens) with a throttling error, a 5xx or a dropped connection, drawn
  from random.Random(--seed);
* counts every call by service and operation, serves the counts at GET /_proxy/counts
  (POST /_proxy/reset-counts zeroes them) and writes them to --counts-file on
  SIGTERM/SIGINT; POST /_proxy/faults {"rate", "seed", "kinds"} starts a new fault
  sequence without a restart;
* keeps a history of every transitional phase it started (kind, id, state, LATENCY
  key, start and length in seconds) at GET /_proxy/phases, cleared by reset-counts,
  so a benchmark can tell how long a run had to wait and which waits chain.

Standard library only. docs/emulator.md describes the behaviour for role authors.
"""

from __future__ import annotations

import argparse
import copy
import http.client
import json
import random
import re
import signal
import sys
import threading
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ADMIN_PREFIX = "/_proxy/"
MOTO_API_PREFIX = "/moto-api/"
READ_PREFIXES = ("Describe", "List", "Get")
# What one AWS API call costs in time beyond the service's own work: an HTTPS
# request over a kept-alive connection from a machine in the same region to the
# service's regional endpoint. AWS publishes no such figure; "tens of ms in-region,
# 100+ ms from a laptop" is the range platform engineers see, and 30 ms is the
# low end of it (our assumption: docs/emulator.md). --call-latency-ms 120 models a
# laptop far from its region.
DEFAULT_CALL_LATENCY_MS = 30.0

# ---------------------------------------------------------------------------
# Request classification: which service and operation a request is
# ---------------------------------------------------------------------------

_SCOPE = re.compile(r"Credential=[^/,]+/\d{8}/[^/]+/([^/]+)/aws4_request")
_CBOR_PATH = re.compile(r"^/service/([^/]+)/operation/([^/?]+)")


@dataclass(frozen=True)
class Call:
    """One AWS API request as the proxy understands it."""

    service: str  # signing name from the credential scope: rds, ec2, kinesis, ecs, monitoring...
    operation: str  # CreateDBCluster; "GET /path-head" for REST services
    protocol: str  # json | query | ec2 | cbor | rest
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def mutating(self) -> bool:
        if self.protocol == "rest":
            return self.operation.split(" ", 1)[0] not in ("GET", "HEAD")
        return not self.operation.startswith(READ_PREFIXES)


def classify(method: str, target: str, headers: Mapping[str, str], body: bytes) -> Call:
    """Service, operation, protocol and parameters of a request (headers: lower-case keys)."""
    url = urllib.parse.urlsplit(target)
    query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
    scope = _SCOPE.search(headers.get("authorization", "")) or _SCOPE.search(
        "Credential=" + query.get("X-Amz-Credential", "")
    )
    service = scope.group(1) if scope else "unknown"

    if "x-amz-target" in headers:  # JSON protocol: ECS, Kinesis, KMS, Secrets Manager, Logs, SQS...
        operation = headers["x-amz-target"].rsplit(".", 1)[-1]
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            params = {}
        return Call(service, operation, "json", params if isinstance(params, dict) else {})

    cbor = _CBOR_PATH.match(url.path)
    if cbor:  # Smithy RPC v2 CBOR: CloudWatch in current botocore; parameters are not decoded
        return Call(service, cbor.group(2), "cbor")

    form = dict(query)
    if "x-www-form-urlencoded" in headers.get("content-type", ""):
        form.update(urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    if "Action" in form:  # query protocol: EC2 has its own error shape
        return Call(service, form["Action"], "ec2" if service == "ec2" else "query", form)

    head = url.path.strip("/").split("/", 1)[0]
    return Call(service, f"{method} /{head}", "rest")


# ---------------------------------------------------------------------------
# Latency profile: how long real AWS keeps a resource in a transitional state
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Delay:
    seconds: float
    source: str


# Figures in seconds at scale 1. AWS publishes no RDS/ECS/NAT times: "typical" is the middle
# of what small resources commonly take in us-east-1. docs/emulator.md has the details.
LATENCY: dict[str, Delay] = {
    "rds.cluster.create": Delay(300, "typical: empty aurora-postgresql cluster 'creating' 4-6 min"),
    "rds.cluster.modify": Delay(60, "typical: ModifyDBCluster (Serverless v2 scaling) 'modifying' ~1 min"),
    "rds.cluster.delete": Delay(120, "typical: Aurora cluster without instances 'deleting' 1-3 min"),
    "rds.instance.create": Delay(480, "typical: db.serverless writer 'creating' 6-10 min"),
    "rds.instance.modify": Delay(60, "typical: small instance change 'modifying' ~1 min"),
    "rds.instance.delete": Delay(300, "typical: Aurora instance 'deleting' 4-8 min"),
    "kinesis.create": Delay(30, "API reference: CreateStream is asynchronous, CREATING then ACTIVE; typically < 1 min"),
    "kinesis.reshard": Delay(60, "API reference: UpdateShardCount 'could take a few minutes' by stream size"),
    "kinesis.update": Delay(10, "API reference: encryption 'normally takes a few seconds'; retention: same assumed"),
    "ecs.deploy": Delay(120, "typical: Fargate rolling deployment of a small image 1.5-3 min"),
    "ecs.drain": Delay(60, "typical: DRAINING until Fargate tasks stop (30 s stopTimeout) and free their ENIs"),
    "ec2.nat.create": Delay(120, "typical: NAT gateway 'pending' 1-3 min"),
    "ec2.nat.delete": Delay(60, "typical: NAT gateway 'deleting' ~1 min"),
}


# ---------------------------------------------------------------------------
# Resource states: the latency state machine
# ---------------------------------------------------------------------------


@dataclass
class Phase:
    state: str  # the status AWS shows meanwhile: creating, UPDATING, IN_PROGRESS, pending...
    until: float  # clock() value at which the resource is settled again
    snapshot: ET.Element | None = None  # RDS: the resource's XML, shown while moto has forgotten it
    holds: frozenset[str] = frozenset()  # ids it still uses meanwhile: security groups, subnets, subnet group


class ResourceStates:
    """(kind, identifier) -> the transitional phase it is in, if any. Thread-safe.

    Also a history of every phase begun since the last reset_history(), in the order
    they began: what a benchmark needs to add up the waits of a run.
    """

    def __init__(self, scale: float, clock: Callable[[], float] = time.monotonic):
        self.scale = scale
        self.clock = clock
        self._phases: dict[tuple[str, str], Phase] = {}
        self._lock = threading.Lock()
        self._epoch = clock()  # history times are seconds since this
        self._history: list[dict[str, Any]] = []
        self._latest: dict[tuple[str, str], dict[str, Any]] = {}  # last history entry per resource

    def begin(
        self,
        kind: str,
        ident: str,
        state: str,
        delay: str,
        snapshot: ET.Element | None = None,
        holds: frozenset[str] = frozenset(),
    ) -> None:
        seconds = LATENCY[delay].seconds * self.scale
        with self._lock:  # clock read under the lock: history order == start order
            now = self.clock()
            key = (kind, ident)
            running = self._phases.get(key)
            previous = self._latest.get(key)
            if running is not None and now < running.until and previous is not None:
                # A new phase replaces one still running (e.g. UpdateService during a
                # deployment): the old wait ended here, not at its nominal end.
                previous["superseded_after"] = round(now - self._epoch - previous["start"], 3)
            self._phases[key] = Phase(state, now + seconds, snapshot, holds)
            record = {
                "kind": kind,
                "id": ident,
                "state": state,
                "key": delay,
                "start": round(now - self._epoch, 3),
                "seconds": round(seconds, 3),
            }
            self._history.append(record)
            self._latest[key] = record

    def history(self) -> dict[str, Any]:
        """The phases begun since the last reset, oldest first (copies)."""
        with self._lock:
            return {
                "scale": self.scale,
                "elapsed": round(self.clock() - self._epoch, 3),
                "phases": [dict(record) for record in self._history],
            }

    def reset_history(self) -> None:
        """Forget the history and count its times from now (running phases stay)."""
        with self._lock:
            self._epoch = self.clock()
            self._history = []
            self._latest = {}

    def phase(self, kind: str, ident: str) -> Phase | None:
        """The phase the resource is still in, or None once it has settled."""
        with self._lock:
            phase = self._phases.get((kind, ident))
            if phase is not None and self.clock() >= phase.until:
                del self._phases[(kind, ident)]
                return None
            return phase

    def state(self, kind: str, ident: str) -> str | None:
        phase = self.phase(kind, ident)
        return phase.state if phase else None

    def active(self, kind: str | None = None) -> dict[tuple[str, str], Phase]:
        with self._lock:
            keys = [key for key in self._phases if kind is None or key[0] == kind]
        return {key: phase for key in keys if (phase := self.phase(*key)) is not None}

    def clear(self) -> None:
        with self._lock:
            self._phases.clear()


# ---------------------------------------------------------------------------
# Resource identifiers: which resource a request or response element names
# ---------------------------------------------------------------------------


def _last(value: str) -> str:
    return value.rsplit("/", 1)[-1]


def ecs_service_key(cluster: str | None, service: str) -> str:
    """cluster/service from names or ARNs (arn:...:service/<cluster>/<name>)."""
    return f"{_last(cluster or 'default')}/{_last(service)}"


def request_ident(call: Call, kind: str) -> str | None:
    """The identifier of a resource of `kind` that the request names, if any."""
    p = call.params
    if kind == "db-cluster":
        return str(p["DBClusterIdentifier"]).lower() if p.get("DBClusterIdentifier") else None
    if kind == "db-instance":
        return str(p["DBInstanceIdentifier"]).lower() if p.get("DBInstanceIdentifier") else None
    if kind == "stream":
        name = p.get("StreamName") or _last(str(p.get("StreamARN", "")))
        return name or None
    if kind == "ecs-service":
        service = p.get("serviceName") or p.get("service")
        return ecs_service_key(p.get("cluster"), service) if service else None
    if kind == "nat-gateway":
        return p.get("NatGatewayId")
    return None


# ---------------------------------------------------------------------------
# Transitions: what a successful mutating call starts
# ---------------------------------------------------------------------------

# (service, operation) -> (kind, state shown meanwhile, LATENCY key)
TRANSITIONS: dict[tuple[str, str], tuple[str, str, str]] = {
    ("rds", "CreateDBCluster"): ("db-cluster", "creating", "rds.cluster.create"),
    ("rds", "ModifyDBCluster"): ("db-cluster", "modifying", "rds.cluster.modify"),
    ("rds", "DeleteDBCluster"): ("db-cluster", "deleting", "rds.cluster.delete"),
    ("rds", "CreateDBInstance"): ("db-instance", "creating", "rds.instance.create"),
    ("rds", "ModifyDBInstance"): ("db-instance", "modifying", "rds.instance.modify"),
    ("rds", "DeleteDBInstance"): ("db-instance", "deleting", "rds.instance.delete"),
    ("kinesis", "CreateStream"): ("stream", "CREATING", "kinesis.create"),
    ("kinesis", "UpdateShardCount"): ("stream", "UPDATING", "kinesis.reshard"),
    ("kinesis", "IncreaseStreamRetentionPeriod"): ("stream", "UPDATING", "kinesis.update"),
    ("kinesis", "DecreaseStreamRetentionPeriod"): ("stream", "UPDATING", "kinesis.update"),
    ("kinesis", "StartStreamEncryption"): ("stream", "UPDATING", "kinesis.update"),
    ("kinesis", "StopStreamEncryption"): ("stream", "UPDATING", "kinesis.update"),
    ("ecs", "CreateService"): ("ecs-service", "IN_PROGRESS", "ecs.deploy"),
    ("ecs", "UpdateService"): ("ecs-service", "IN_PROGRESS", "ecs.deploy"),
    ("ecs", "DeleteService"): ("ecs-service", "DRAINING", "ecs.drain"),
    ("ec2", "CreateNatGateway"): ("nat-gateway", "pending", "ec2.nat.create"),
    ("ec2", "DeleteNatGateway"): ("nat-gateway", "deleting", "ec2.nat.delete"),
}

# RDS XML: kind -> (element, identifier field, status field, describe operation, list element)
RDS_SHAPES = {
    "db-cluster": ("DBCluster", "DBClusterIdentifier", "Status", "DescribeDBClusters", "DBClusters"),
    "db-instance": ("DBInstance", "DBInstanceIdentifier", "DBInstanceStatus", "DescribeDBInstances", "DBInstances"),
}
_RDS_HELD = ("DBSubnetGroupName", "VpcSecurityGroupId", "SubnetIdentifier")
_NAT_ID = re.compile(rb"<natGatewayId>(nat-[0-9a-zA-Z]+)</natGatewayId>")


def record_transition(call: Call, response: bytes, states: ResourceStates) -> None:
    """After moto accepted a mutating call: start the phase real AWS would show."""
    transition = TRANSITIONS.get((call.service, call.operation))
    if transition is None:
        return
    kind, state, delay = transition
    ident = request_ident(call, kind)
    if kind == "nat-gateway" and ident is None:
        found = _NAT_ID.search(response)
        ident = found.group(1).decode() if found else None
    if ident is None:
        return
    snapshot, holds = None, frozenset[str]()
    if state == "deleting" and kind in RDS_SHAPES:
        # moto forgets the resource at once; keep its XML to show it 'deleting' meanwhile.
        snapshot = next(iter(_xml_items(response, RDS_SHAPES[kind][0])), None)
        holds = _rds_holds(snapshot) if snapshot is not None else holds
    elif state == "DRAINING":
        holds = _ecs_holds(response)
    states.begin(kind, ident, state, delay, snapshot, holds)


def _rds_holds(snapshot: ET.Element) -> frozenset[str]:
    """What a deleting cluster/instance still uses: its subnet group, subnets and security groups."""
    held = [el.text for tag in _RDS_HELD for el in snapshot.iterfind(f".//{{*}}{tag}")]
    group = snapshot.find("{*}DBSubnetGroup")  # a cluster names its group; an instance nests it
    if group is not None and len(group) == 0:
        held.append(group.text)
    return frozenset(h.lower() for h in held if h)


def _ecs_holds(response: bytes) -> frozenset[str]:
    """What a draining service's tasks still use: their ENIs' security groups and subnets."""
    try:
        vpc = json.loads(response)["service"]["networkConfiguration"]["awsvpcConfiguration"]
        return frozenset(x.lower() for x in (*vpc.get("securityGroups", []), *vpc.get("subnets", [])))
    except (ValueError, KeyError, TypeError, AttributeError):
        return frozenset()


# ---------------------------------------------------------------------------
# AWS error responses, one form per protocol
# ---------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def _cbor_text(text: str) -> bytes:
    data = text.encode()
    size = len(data)
    if size < 24:
        return bytes([0x60 | size]) + data
    if size < 256:
        return bytes([0x78, size]) + data
    return bytes([0x79]) + size.to_bytes(2, "big") + data


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def aws_error(call: Call, code: str, message: str, status: int) -> Reply:
    """An error exactly as the service's protocol carries it, so botocore parses the code."""
    request_id = str(uuid.uuid4())
    headers = [("x-amzn-RequestId", request_id)]
    if call.protocol == "ec2":
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{code}</Code>'
            f"<Message>{_escape(message)}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>"
        ).encode()
        return Reply(status, [*headers, ("Content-Type", "text/xml")], body)
    if call.protocol == "query":
        kind = "Sender" if status < 500 else "Receiver"
        body = (
            f"<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{_escape(message)}</Message>"
            f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        return Reply(status, [*headers, ("Content-Type", "text/xml")], body)
    if call.protocol == "cbor":
        body = bytes([0xA2]) + _cbor_text("__type") + _cbor_text(code) + _cbor_text("message") + _cbor_text(message)
        return Reply(status, [*headers, ("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")], body)
    body = json.dumps({"__type": code, "message": message}).encode()
    return Reply(status, [*headers, ("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", code)], body)


# ---------------------------------------------------------------------------
# Refusals: what AWS rejects while a resource is busy
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    kind: str
    states: frozenset[str]  # refused while the resource is in one of these
    code: str
    message: str  # {ident} and {state} are filled in


_RDS_CLUSTER_BUSY = frozenset({"creating", "modifying", "deleting"})
_STREAM_BUSY = frozenset({"CREATING", "UPDATING"})
_STREAM_REFUSAL = Refusal(
    "stream",
    _STREAM_BUSY,
    "ResourceInUseException",
    "Stream {ident} under account 123456789012 not ACTIVE, instead in state {state}",
)

REFUSALS: dict[tuple[str, str], Refusal] = {
    ("rds", "CreateDBInstance"): Refusal(
        "db-cluster",
        _RDS_CLUSTER_BUSY,
        "InvalidDBClusterStateFault",
        "DB cluster {ident} is in state {state}; wait until it is available before adding instances",
    ),
    ("rds", "ModifyDBCluster"): Refusal(
        "db-cluster", _RDS_CLUSTER_BUSY, "InvalidDBClusterStateFault", "DB cluster {ident} is not available: {state}"
    ),
    ("rds", "DeleteDBCluster"): Refusal(
        "db-cluster", frozenset({"deleting"}), "InvalidDBClusterStateFault", "DB cluster {ident} is already {state}"
    ),
    ("rds", "CreateDBCluster"): Refusal(
        "db-cluster", frozenset({"deleting"}), "DBClusterAlreadyExistsFault", "DB cluster {ident} is still {state}"
    ),
    ("rds", "ModifyDBInstance"): Refusal(
        "db-instance",
        frozenset({"creating", "modifying", "deleting"}),
        "InvalidDBInstanceStateFault",
        "DB instance {ident} is not available: {state}",
    ),
    ("rds", "DeleteDBInstance"): Refusal(
        "db-instance", frozenset({"deleting"}), "InvalidDBInstanceStateFault", "DB instance {ident} is already {state}"
    ),
    ("kinesis", "UpdateShardCount"): _STREAM_REFUSAL,
    ("kinesis", "IncreaseStreamRetentionPeriod"): _STREAM_REFUSAL,
    ("kinesis", "DecreaseStreamRetentionPeriod"): _STREAM_REFUSAL,
    ("kinesis", "StartStreamEncryption"): _STREAM_REFUSAL,
    ("kinesis", "StopStreamEncryption"): _STREAM_REFUSAL,
    ("kinesis", "AddTagsToStream"): _STREAM_REFUSAL,
    ("kinesis", "RemoveTagsFromStream"): _STREAM_REFUSAL,
}


# Deleting something a resource in a deleting/draining phase still uses:
# (service, operation) -> (parameter naming it, error code, message)
DEPENDENCIES: dict[tuple[str, str], tuple[str, str, str]] = {
    ("rds", "DeleteDBSubnetGroup"): (
        "DBSubnetGroupName",
        "InvalidDBSubnetGroupStateFault",
        "Cannot delete the subnet group '{value}' because {holder} is still using it",
    ),
    ("ec2", "DeleteSecurityGroup"): (
        "GroupId",
        "DependencyViolation",
        "resource {value} has a dependent object ({holder})",
    ),
    ("ec2", "DeleteSubnet"): (
        "SubnetId",
        "DependencyViolation",
        "The subnet '{value}' has dependencies and cannot be deleted ({holder})",
    ),
}


def _holder(states: ResourceStates, value: str) -> str | None:
    """Which busy resource still holds `value` (a security group, subnet or subnet group)."""
    for (kind, ident), phase in states.active().items():
        if value.lower() in phase.holds:
            return f"{kind} {ident} is {phase.state}"
    return None


def refusal(call: Call, states: ResourceStates) -> Reply | None:
    """The error AWS would return for this call now, or None to forward it."""
    rule = REFUSALS.get((call.service, call.operation))
    if rule is not None:
        ident = request_ident(call, rule.kind)
        state = states.state(rule.kind, ident) if ident else None
        if state in rule.states:
            return aws_error(call, rule.code, rule.message.format(ident=ident, state=state), 400)
    dependency = DEPENDENCIES.get((call.service, call.operation))
    if dependency is not None:
        param, code, message = dependency
        value = str(call.params.get(param, ""))
        holder = _holder(states, value) if value else None
        if holder:
            return aws_error(call, code, message.format(value=value, holder=holder), 400)
    if (call.service, call.operation) == ("ecs", "DeleteCluster"):
        cluster = _last(str(call.params.get("cluster") or "default"))
        services = states.active("ecs-service").items()
        draining = [i for (_, i), p in services if p.state == "DRAINING" and i.startswith(f"{cluster}/")]
        if draining:
            message = f"The Cluster cannot be deleted while tasks are active: service {draining[0]} is DRAINING"
            return aws_error(call, "ClusterContainsTasksException", message, 400)
    return None


# ---------------------------------------------------------------------------
# Rewriting describe responses
# ---------------------------------------------------------------------------


def _xml_items(body: bytes, tag: str) -> list[ET.Element]:
    try:
        root = ET.fromstring(body)  # noqa: S314 - moto's own output on loopback
    except ET.ParseError:
        return []
    return list(root.iterfind(f".//{{*}}{tag}"))


def _namespace(root: ET.Element) -> str:
    return root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""


def _xml_bytes(root: ET.Element) -> bytes:
    ns = _namespace(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True, default_namespace=ns or None)


def rewrite_rds(call: Call, status: int, body: bytes, states: ResourceStates) -> tuple[int, bytes]:
    """DescribeDBClusters / DescribeDBInstances: show creating/modifying/deleting; keep deleted ones listed."""
    kind = next((k for k, shape in RDS_SHAPES.items() if shape[3] == call.operation), None)
    busy = states.active(kind) if kind else {}
    if kind is None or not busy:  # nothing to show: leave moto's answer untouched
        return status, body
    element, id_field, status_field, _, list_tag = RDS_SHAPES[kind]
    wanted = request_ident(call, kind)
    ghosts = {
        ident: phase.snapshot
        for (_, ident), phase in busy.items()
        if phase.snapshot is not None and wanted in (None, ident) and _matches_filters(call, phase.snapshot)
    }
    if status == 404 and ghosts:  # moto: NotFound; AWS: still 'deleting'
        ns = "http://rds.amazonaws.com/doc/2014-10-31/"
        body = (
            f'<{call.operation}Response xmlns="{ns}"><{call.operation}Result><{list_tag}/></{call.operation}Result>'
            f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></{call.operation}Response>"
        ).encode()
        status = 200
    if status != 200:
        return status, body
    root = ET.fromstring(body)  # noqa: S314 - moto's own output on loopback
    listing = next(root.iterfind(f".//{{*}}{list_tag}"), None)
    if listing is None:
        return status, body
    present = {(item.findtext(f"{{*}}{id_field}") or "").lower() for item in listing.findall(f"{{*}}{element}")}
    for ident, snapshot in ghosts.items():
        if ident not in present:
            listing.append(copy.deepcopy(snapshot))  # same RDS namespace: it came from a DeleteDB* answer
    for item in listing.findall(f"{{*}}{element}"):
        state = states.state(kind, (item.findtext(f"{{*}}{id_field}") or "").lower())
        node = item.find(f"{{*}}{status_field}")
        if state and node is not None:
            node.text = state
    return status, _xml_bytes(root)


def _matches_filters(call: Call, snapshot: ET.Element) -> bool:
    """Roughly RDS's Filters (db-cluster-id=...): some filter value names the resource or its cluster."""
    values = {str(v).lower() for k, v in call.params.items() if k.startswith("Filters.") and ".Values." in k}
    fields = {(child.text or "").lower() for child in snapshot}
    return not values or bool(values & fields)


def rewrite_nat(call: Call, body: bytes, states: ResourceStates) -> bytes:
    """DescribeNatGateways: 'pending' / 'deleting' until the NAT gateway has settled."""
    root = ET.fromstring(body)  # noqa: S314 - moto's own output on loopback
    changed = False
    for item in root.iterfind("{*}natGatewaySet/{*}item"):
        state = states.state("nat-gateway", item.findtext("{*}natGatewayId") or "")
        node = item.find("{*}state")
        if state and node is not None:
            node.text, changed = state, True
    return _xml_bytes(root) if changed else body


def rewrite_kinesis(call: Call, body: bytes, states: ResourceStates) -> bytes:
    """DescribeStream / DescribeStreamSummary / ListStreams: StreamStatus CREATING/UPDATING until settled."""
    data = json.loads(body)
    streams = [data.get("StreamDescription"), data.get("StreamDescriptionSummary"), *data.get("StreamSummaries", [])]
    for stream in filter(None, streams):
        state = states.state("stream", stream.get("StreamName", ""))
        if state:
            stream["StreamStatus"] = state
    return json.dumps(data).encode()


def rewrite_ecs(call: Call, body: bytes, states: ResourceStates) -> bytes:
    """DescribeServices: a deployment runs for a while, then its tasks all run; a deleted one drains.

    moto never starts tasks (runningCount 0, rolloutState IN_PROGRESS forever), so once
    the deployment time has passed the proxy shows what Fargate would: one PRIMARY
    deployment, COMPLETED, runningCount == desiredCount. moto marks a deleted service
    INACTIVE at once; AWS shows it DRAINING until its tasks have stopped.
    """
    data = json.loads(body)
    for service in data.get("services", []):
        key = ecs_service_key(service.get("clusterArn"), service.get("serviceName", ""))
        state = states.state("ecs-service", key)
        if state == "DRAINING" or service.get("status") == "INACTIVE":
            service.update(status=state or "INACTIVE", runningCount=0, pendingCount=0)
            continue
        desired = service.get("desiredCount", 0)
        in_progress = state == "IN_PROGRESS"
        running = 0 if in_progress else desired
        service.update(runningCount=running, pendingCount=desired - running)
        primary = [d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"]
        for deployment in primary:
            # On AWS the PRIMARY deployment runs the service's task definition; moto
            # leaves the first one's there after an UpdateService that changed it.
            if service.get("taskDefinition"):
                deployment["taskDefinition"] = service["taskDefinition"]
            deployment.update(
                runningCount=running,
                pendingCount=deployment.get("desiredCount", desired) - running,
                rolloutState="IN_PROGRESS" if in_progress else "COMPLETED",
                rolloutStateReason=f"ECS deployment {deployment.get('id')} "
                + ("in progress." if in_progress else "completed."),
            )
        if not in_progress and primary:
            service["deployments"] = primary
    return json.dumps(data).encode()


def rewrite(call: Call, status: int, body: bytes, states: ResourceStates) -> tuple[int, bytes]:
    """Adjust moto's answer to a describe call to the states real AWS would show now."""
    try:
        if call.service == "rds":
            return rewrite_rds(call, status, body, states)
        if status != 200:
            return status, body
        if (call.service, call.operation) == ("ec2", "DescribeNatGateways"):
            return status, rewrite_nat(call, body, states)
        if call.service == "kinesis" and call.operation in ("DescribeStream", "DescribeStreamSummary", "ListStreams"):
            return status, rewrite_kinesis(call, body, states)
        if (call.service, call.operation) == ("ecs", "DescribeServices"):
            return status, rewrite_ecs(call, body, states)
    except (ValueError, ET.ParseError) as exc:  # unexpected body: pass it on untouched
        print(f"rewrite {call.service}:{call.operation} skipped: {exc}", file=sys.stderr)
    return status, body


# ---------------------------------------------------------------------------
# Faults: deterministic throttling, 5xx and dropped connections
# ---------------------------------------------------------------------------

FAULT_KINDS = ("throttle", "5xx", "drop")


@dataclass(frozen=True)
class Fault:
    kind: str  # throttle | 5xx | drop
    status: int = 0  # HTTP status for 5xx (500 or 503)


class FaultInjector:
    """Decides per request whether to fail it; one draw sequence per seed."""

    def __init__(self, rate: float, kinds: list[str], seed: int | None):
        unknown = set(kinds) - set(FAULT_KINDS)
        if unknown or not kinds:
            raise ValueError(f"fault kinds must be a non-empty subset of {','.join(FAULT_KINDS)}")
        if not 0 <= rate <= 1:
            raise ValueError(f"fault rate must be within 0..1, not {rate}")
        self.rate = rate
        self.kinds = kinds
        self.seed = seed
        self._rng = random.Random(seed)  # noqa: S311 - reproducible faults, not secrets
        self._lock = threading.Lock()

    @classmethod
    def from_json(cls, body: bytes) -> FaultInjector:
        """From the admin API: {"rate": 0.3, "seed": 1, "kinds": ["throttle", "5xx", "drop"]}."""
        try:
            wanted = json.loads(body or b"{}")
            return cls(float(wanted.get("rate", 0)), list(wanted.get("kinds", FAULT_KINDS)), wanted.get("seed"))
        except (AttributeError, TypeError) as exc:  # not an object, or wrong types
            raise ValueError(f"expected {{rate, seed, kinds}}: {exc}") from exc

    def settings(self) -> dict[str, Any]:
        return {"rate": self.rate, "seed": self.seed, "kinds": self.kinds}

    def draw(self) -> Fault | None:
        if self.rate <= 0:
            return None
        with self._lock:
            if self._rng.random() >= self.rate:
                return None
            kind = self._rng.choice(self.kinds)
            return Fault(kind, self._rng.choice((500, 503)) if kind == "5xx" else 0)


THROTTLE_ERRORS = {  # protocol -> (code, message, HTTP status) as AWS sends them
    "json": ("ThrottlingException", "Rate exceeded", 400),
    "cbor": ("ThrottlingException", "Rate exceeded", 400),
    "query": ("Throttling", "Rate exceeded", 400),
    "ec2": ("RequestLimitExceeded", "Request limit exceeded.", 503),
    "rest": ("ThrottlingException", "Rate exceeded", 429),
}


def fault_reply(call: Call, fault: Fault) -> Reply | None:
    """The response for an injected fault; None means: drop the connection."""
    if fault.kind == "throttle":
        return aws_error(call, *THROTTLE_ERRORS[call.protocol])
    if fault.kind == "5xx":
        if call.protocol == "ec2":
            code = "Unavailable" if fault.status == 503 else "InternalError"
        else:
            code = "ServiceUnavailable" if fault.status == 503 else "InternalFailure"
        return aws_error(call, code, "Injected by the emulator proxy", fault.status)
    return None


# ---------------------------------------------------------------------------
# Counting: every call by service and operation
# ---------------------------------------------------------------------------

OUTCOMES = ("forwarded", "refused", *FAULT_KINDS)


class Counts:
    """Calls per service/operation and what the proxy did with them. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._since = datetime.now(UTC).isoformat(timespec="seconds")
        self._ops: dict[tuple[str, str], dict[str, Any]] = {}

    def reset(self) -> dict[str, Any]:
        """Start counting afresh; returns the counts that were dropped."""
        with self._lock:
            before = self._snapshot()
            self._since = datetime.now(UTC).isoformat(timespec="seconds")
            self._ops = {}
        return before

    def add(self, call: Call, outcome: str) -> None:
        with self._lock:
            entry = self._ops.setdefault(
                (call.service, call.operation),
                {"mutating": call.mutating, "requests": 0, **dict.fromkeys(OUTCOMES, 0)},
            )
            entry["requests"] += 1
            entry[outcome] += 1

    def _snapshot(self) -> dict[str, Any]:
        totals = {"requests": 0, "mutating": 0, "read": 0, **dict.fromkeys(OUTCOMES, 0)}
        services: dict[str, dict[str, Any]] = {}
        for (service, operation), entry in sorted(self._ops.items()):
            services.setdefault(service, {})[operation] = dict(entry)
            totals["requests"] += entry["requests"]
            totals["mutating" if entry["mutating"] else "read"] += entry["requests"]
            for outcome in OUTCOMES:
                totals[outcome] += entry[outcome]
        return {"since": self._since, "totals": totals, "services": services}

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return self._snapshot()

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.snapshot(), indent=2) + "\n")
        tmp.replace(path)


# ---------------------------------------------------------------------------
# HTTP plumbing
# ---------------------------------------------------------------------------

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"}


@dataclass
class Proxy:
    backend: urllib.parse.SplitResult
    states: ResourceStates
    faults: FaultInjector
    counts: Counts = field(default_factory=Counts)
    # Seconds each AWS call takes before its answer (--call-latency-ms).
    call_latency: float = 0.0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore expects
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall
    proxy: Proxy  # set on the subclass made in serve()

    def read_body(self) -> bytes:
        if "chunked" not in self.headers.get("Transfer-Encoding", "").lower():
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""
        chunks = []
        while size := int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16):
            chunks.append(self.rfile.read(size))
            self.rfile.readline()  # the CRLF after each chunk
        while self.rfile.readline().strip():
            pass  # trailers
        return b"".join(chunks)

    def do_any(self) -> None:
        body = self.read_body()
        if self.path.startswith(ADMIN_PREFIX):
            return self.send(self.admin(body))
        if self.path.startswith(MOTO_API_PREFIX):
            if self.path.startswith(MOTO_API_PREFIX + "reset") and self.command == "POST":
                self.proxy.states.clear()  # moto forgets every resource: so do we
            return self.send(self.forward(body))

        headers = {k.lower(): v for k, v in self.headers.items()}
        call = classify(self.command, self.path, headers, body)
        if self.proxy.call_latency:
            time.sleep(self.proxy.call_latency)  # the round trip to AWS, refused and failed calls included
        fault = self.proxy.faults.draw()
        if fault is not None:
            self.proxy.counts.add(call, fault.kind)
            self.log(call, fault.kind)
            reply = fault_reply(call, fault)
            if reply is None:  # dropped: close without a byte of response
                self.close_connection = True
                return None
            return self.send(reply)
        refused = refusal(call, self.proxy.states) if call.mutating else None
        if refused is not None:
            self.proxy.counts.add(call, "refused")
            self.log(call, "refused")
            return self.send(refused)

        self.proxy.counts.add(call, "forwarded")
        reply = self.forward(body)
        if call.mutating and 200 <= reply.status < 300:
            record_transition(call, reply.body, self.proxy.states)
        reply.status, reply.body = rewrite(call, reply.status, reply.body, self.proxy.states)
        self.log(call, str(reply.status))
        return self.send(reply)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_any

    def admin(self, body: bytes) -> Reply:
        if self.path == ADMIN_PREFIX + "faults" and self.command == "POST":
            try:  # a new fault sequence without a restart, e.g. per benchmark phase
                self.proxy.faults = FaultInjector.from_json(body)
            except ValueError as exc:
                return Reply(400, [("Content-Type", "application/json")], json.dumps({"error": str(exc)}).encode())
            data: Any = self.proxy.faults.settings()
        elif self.path == ADMIN_PREFIX + "faults" and self.command == "GET":
            data = self.proxy.faults.settings()
        elif self.path == ADMIN_PREFIX + "counts" and self.command == "GET":
            data = self.proxy.counts.snapshot()
        elif self.path == ADMIN_PREFIX + "reset-counts" and self.command == "POST":
            self.proxy.states.reset_history()
            data = self.proxy.counts.reset()
        elif self.path == ADMIN_PREFIX + "phases" and self.command == "GET":
            data = self.proxy.states.history()
        elif self.path == ADMIN_PREFIX + "states" and self.command == "GET":
            now = self.proxy.states.clock()
            data = [
                {"kind": kind, "id": ident, "state": phase.state, "seconds_left": round(phase.until - now, 2)}
                for (kind, ident), phase in self.proxy.states.active().items()
            ]
        else:
            return Reply(404, [("Content-Type", "application/json")], b'{"error": "unknown proxy path"}')
        return Reply(200, [("Content-Type", "application/json")], json.dumps(data, indent=2).encode())

    def forward(self, body: bytes) -> Reply:
        backend = self.proxy.backend
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | {"content-length"}}
        conn = http.client.HTTPConnection(backend.hostname or "127.0.0.1", backend.port or 80, timeout=120)
        try:
            conn.request(self.command, self.path, body=body or None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            kept = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP | {"content-length"}]
            return Reply(resp.status, kept, data)
        except OSError as exc:
            return Reply(502, [("Content-Type", "text/plain")], f"emulator proxy: backend unreachable: {exc}".encode())
        finally:
            conn.close()

    def send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        for key, value in reply.headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    def log(self, call: Call, outcome: str) -> None:
        self.log_message("%s:%s %s", call.service, call.operation, outcome)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # one line per call comes from log() instead


def serve(proxy: Proxy, host: str, port: int) -> ThreadingHTTPServer:
    handler = type("BoundHandler", (Handler,), {"proxy": proxy})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listen", required=True, help="HOST:PORT to serve on")
    parser.add_argument("--backend", required=True, help="moto server URL, e.g. http://127.0.0.1:5000")
    parser.add_argument("--counts-file", required=True, type=Path, help="JSON written on SIGTERM/SIGINT")
    parser.add_argument("--latency-scale", type=float, default=0.05, help="multiplier for AWS times (default 1/20)")
    parser.add_argument(
        "--call-latency-ms",
        type=float,
        default=DEFAULT_CALL_LATENCY_MS,
        help=f"milliseconds each AWS call takes (default {DEFAULT_CALL_LATENCY_MS:g}: in-region round trip; 0: none)",
    )
    parser.add_argument("--fault-rate", type=float, default=0.0, help="share of requests to fail, 0..1")
    parser.add_argument("--seed", type=int, default=None, help="seed of the fault sequence")
    parser.add_argument("--fault-kinds", default=",".join(FAULT_KINDS), help="comma list of throttle,5xx,drop")
    args = parser.parse_args(argv)
    if args.latency_scale < 0:
        parser.error("--latency-scale must be >= 0")
    if args.call_latency_ms < 0:
        parser.error("--call-latency-ms must be >= 0")
    try:
        faults = FaultInjector(args.fault_rate, [k for k in args.fault_kinds.split(",") if k], args.seed)
    except ValueError as exc:
        parser.error(str(exc))
    host, _, port = args.listen.rpartition(":")
    states = ResourceStates(args.latency_scale)
    proxy = Proxy(urllib.parse.urlsplit(args.backend), states, faults, call_latency=args.call_latency_ms / 1000)
    server = serve(proxy, host or "127.0.0.1", int(port))
    signal.signal(signal.SIGTERM, _stop)
    print(f"emulator proxy on {args.listen} -> {args.backend}, {vars(args)}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        proxy.counts.write(args.counts_file)
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
