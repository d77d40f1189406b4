"""The realistic emulator profile: proxy-level behaviour seen through boto3.

Each emulator here is started by scripts/emulator.py exactly as a developer would
(`start --profile realistic --port N ...`), with its state in a tmp dir.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from botocore.exceptions import ClientError
from botocore.retries import standard

from tests.integration.emulators import Realistic

pytestmark = pytest.mark.realistic

KINDS = ("throttle", "5xx", "drop")
SCALE = 0.01  # Aurora cluster: 300 s -> 3 s; instance 480 s -> 4.8 s; Kinesis create 30 s -> 0.3 s
CLUSTER_SECONDS = 300 * SCALE


@pytest.fixture(scope="module")
def emu(tmp_path_factory) -> Iterator[Realistic]:
    emulator = Realistic(tmp_path_factory.mktemp("realistic"), "--latency-scale", str(SCALE))
    yield emulator
    emulator.stop()


def _poll(read: Callable[[], str], until: str, timeout: float = 30) -> tuple[list[str], float]:
    """Poll like a role's wait does; returns the states seen and the time it took."""
    start, seen = time.monotonic(), []
    while time.monotonic() - start < timeout:
        state = read()
        if not seen or seen[-1] != state:
            seen.append(state)
        if state == until:
            return seen, time.monotonic() - start
        time.sleep(0.2)
    raise AssertionError(f"still {seen[-1]!r} after {timeout}s (seen {seen})")


def _create_cluster(rds, name: str) -> None:
    rds.create_db_cluster(
        DBClusterIdentifier=name,
        Engine="aurora-postgresql",
        MasterUsername="videoadmin",
        ManageMasterUserPassword=True,
        ServerlessV2ScalingConfiguration={"MinCapacity": 0.5, "MaxCapacity": 2},
    )


def _create_instance(rds, name: str, cluster: str) -> None:
    rds.create_db_instance(
        DBInstanceIdentifier=name,
        DBClusterIdentifier=cluster,
        Engine="aurora-postgresql",
        DBInstanceClass="db.serverless",
    )


def test_aurora_cluster_is_creating_and_refuses_instances_until_available(emu):
    rds = emu.client("rds")
    _create_cluster(rds, "video-metadata-cluster-rt1")

    def status() -> str:
        return rds.describe_db_clusters(DBClusterIdentifier="video-metadata-cluster-rt1")["DBClusters"][0]["Status"]

    assert status() == "creating"
    with pytest.raises(ClientError) as refused:
        _create_instance(rds, "video-metadata-instance-1-rt1", "video-metadata-cluster-rt1")
    assert refused.value.response["Error"]["Code"] == "InvalidDBClusterStateFault"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400

    seen, waited = _poll(status, "available")
    assert seen[0] == "creating"
    assert waited > CLUSTER_SECONDS * 0.5

    _create_instance(rds, "video-metadata-instance-1-rt1", "video-metadata-cluster-rt1")
    instance = rds.describe_db_instances(DBInstanceIdentifier="video-metadata-instance-1-rt1")["DBInstances"][0]
    assert instance["DBInstanceStatus"] == "creating"
    # boto3's own waiter (what amazon.aws's rds modules use) waits through it.
    rds.get_waiter("db_instance_available").wait(
        DBInstanceIdentifier="video-metadata-instance-1-rt1", WaiterConfig={"Delay": 0.5, "MaxAttempts": 40}
    )


def test_aurora_cluster_modifying_after_scaling_change_then_deleting(emu):
    rds = emu.client("rds")
    name = "video-metadata-cluster-rt2"
    _create_cluster(rds, name)
    rds.get_waiter("db_cluster_available").wait(
        DBClusterIdentifier=name, WaiterConfig={"Delay": 0.5, "MaxAttempts": 40}
    )
    rds.modify_db_cluster(
        DBClusterIdentifier=name, ServerlessV2ScalingConfiguration={"MinCapacity": 0.5, "MaxCapacity": 4}
    )
    assert rds.describe_db_clusters(DBClusterIdentifier=name)["DBClusters"][0]["Status"] == "modifying"
    with pytest.raises(ClientError) as refused:
        rds.modify_db_cluster(DBClusterIdentifier=name, BackupRetentionPeriod=2)
    assert refused.value.response["Error"]["Code"] == "InvalidDBClusterStateFault"
    rds.get_waiter("db_cluster_available").wait(
        DBClusterIdentifier=name, WaiterConfig={"Delay": 0.5, "MaxAttempts": 40}
    )

    rds.delete_db_cluster(DBClusterIdentifier=name, SkipFinalSnapshot=True)
    # moto forgets it at once; AWS keeps showing it 'deleting' first.
    assert rds.describe_db_clusters(DBClusterIdentifier=name)["DBClusters"][0]["Status"] == "deleting"
    rds.get_waiter("db_cluster_deleted").wait(DBClusterIdentifier=name, WaiterConfig={"Delay": 0.5, "MaxAttempts": 40})


def test_kinesis_stream_creating_then_active_and_updating_refuses_reshard(emu):
    kinesis = emu.client("kinesis")
    name = "video-ingestion-stream-rt"
    kinesis.create_stream(StreamName=name, ShardCount=1)

    def status() -> str:
        return kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamStatus"]

    seen, _ = _poll(status, "ACTIVE")
    assert seen == ["CREATING", "ACTIVE"]

    kinesis.update_shard_count(StreamName=name, TargetShardCount=2, ScalingType="UNIFORM_SCALING")
    assert kinesis.describe_stream(StreamName=name)["StreamDescription"]["StreamStatus"] == "UPDATING"
    with pytest.raises(ClientError) as refused:
        kinesis.update_shard_count(StreamName=name, TargetShardCount=4, ScalingType="UNIFORM_SCALING")
    assert refused.value.response["Error"]["Code"] == "ResourceInUseException"
    kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})


def test_ecs_service_deploys_then_drains_before_its_cluster_can_go(emu):
    ecs = emu.client("ecs")
    ecs.create_cluster(clusterName="video-processing-cluster-rt")
    ecs.register_task_definition(
        family="video-processing-rt",
        containerDefinitions=[{"name": "worker", "image": "busybox", "memory": 128, "essential": True}],
    )
    ecs.create_service(
        cluster="video-processing-cluster-rt",
        serviceName="video-processing-service-rt",
        taskDefinition="video-processing-rt",
        desiredCount=2,
    )
    service = ecs.describe_services(cluster="video-processing-cluster-rt", services=["video-processing-service-rt"])[
        "services"
    ][0]
    assert service["deployments"][0]["rolloutState"] == "IN_PROGRESS"
    assert service["runningCount"] < service["desiredCount"] == 2
    ecs.get_waiter("services_stable").wait(
        cluster="video-processing-cluster-rt",
        services=["video-processing-service-rt"],
        WaiterConfig={"Delay": 0.3, "MaxAttempts": 40},
    )
    service = ecs.describe_services(cluster="video-processing-cluster-rt", services=["video-processing-service-rt"])[
        "services"
    ][0]
    assert (service["runningCount"], service["deployments"][0]["rolloutState"]) == (2, "COMPLETED")

    ecs.delete_service(cluster="video-processing-cluster-rt", service="video-processing-service-rt", force=True)
    service = ecs.describe_services(cluster="video-processing-cluster-rt", services=["video-processing-service-rt"])[
        "services"
    ][0]
    assert service["status"] == "DRAINING"
    with pytest.raises(ClientError) as refused:
        ecs.delete_cluster(cluster="video-processing-cluster-rt")
    assert refused.value.response["Error"]["Code"] == "ClusterContainsTasksException"
    ecs.get_waiter("services_inactive").wait(
        cluster="video-processing-cluster-rt",
        services=["video-processing-service-rt"],
        WaiterConfig={"Delay": 0.3, "MaxAttempts": 40},
    )
    ecs.delete_cluster(cluster="video-processing-cluster-rt")


def test_counts_endpoint_counts_and_resets(emu):
    sts = emu.client("sts")
    sts.get_caller_identity()
    assert emu.admin("reset-counts", {})["services"]["sts"]["GetCallerIdentity"]["requests"] >= 1
    sts.get_caller_identity()
    emu.client("kinesis").list_streams()
    emu.client("sqs").create_queue(QueueName="video-processing-dlq-rt")

    counts = emu.admin("counts")
    assert counts["services"]["sts"]["GetCallerIdentity"]["requests"] == 1
    assert counts["services"]["sqs"]["CreateQueue"]["mutating"] is True
    assert counts["services"]["kinesis"]["ListStreams"]["mutating"] is False
    assert (counts["totals"]["requests"], counts["totals"]["mutating"], counts["totals"]["read"]) == (3, 1, 2)


def _fault_workload(emu: Realistic, name: str) -> None:
    """The same calls in the same order, across the four wire protocols."""
    kinesis, ec2, rds, cloudwatch = (emu.client(s) for s in ("kinesis", "ec2", "rds", "cloudwatch"))
    kinesis.create_stream(StreamName=name, ShardCount=1)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        MetricName="IteratorAgeMilliseconds",
        Namespace="AWS/Kinesis",
        Statistic="Maximum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
    )
    for _ in range(3):
        assert kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamName"] == name
        assert ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["VpcId"] == vpc
        assert rds.describe_db_clusters()["DBClusters"] == []
        assert cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["AlarmName"] == name


def test_faults_are_retried_by_boto3_and_repeat_for_the_same_seed(tmp_path, monkeypatch):
    # botocore's standard backoff (up to 2**n s per retry) would dominate the run time;
    # the emulator scales AWS time down, so scale the client's waits down too.
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0.01)
    emu = Realistic(tmp_path, "--fault-rate", "0.3", "--seed", "1", "--latency-scale", "0", retries=10)
    try:
        _fault_workload(emu, "faulty-1")
        first = emu.admin("reset-counts", {})
        # The same fault sequence again, without a restart (what a benchmark phase does).
        assert emu.admin("faults", {"rate": 0.3, "seed": 1}) == {"rate": 0.3, "seed": 1, "kinds": list(KINDS)}
        _fault_workload(emu, "faulty-2")
    finally:
        second = emu.stop()  # the counts file written on SIGTERM
    totals = first["totals"]
    assert totals["throttle"] > 0 and totals["5xx"] > 0 and totals["drop"] > 0, totals
    # Every fault was retried: each operation got through as often as the workload called it.
    assert first["services"]["kinesis"]["CreateStream"]["forwarded"] == 1
    assert first["services"]["ec2"]["DescribeVpcs"]["forwarded"] == 3
    assert first["services"]["monitoring"]["DescribeAlarms"]["forwarded"] == 3
    assert totals["requests"] == totals["forwarded"] + totals["throttle"] + totals["5xx"] + totals["drop"]
    # Same seed, same request sequence: the same faults on the same operations.
    assert first["services"] == second["services"]
