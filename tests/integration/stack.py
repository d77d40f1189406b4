"""What a whole env consists of, counted through boto3 (for full-stack tests)."""

from __future__ import annotations

ALARMS = [
    "kinesis-write-throttling",
    "kinesis-read-throttling",
    "iterator-age",
    "dlq-messages",
    "ecs-running-tasks",
    "aurora-acu",
]


def _tags(item, key="Tags"):
    return {t["Key"]: t["Value"] for t in item.get(key, [])}


def resource_counts(aws, env: str) -> dict[str, int]:
    """How many of each pipeline resource exist for env (0 everywhere after teardown)."""
    ec2 = aws("ec2")
    env_filter = [{"Name": "tag:Environment", "Values": [env]}]
    counts = {
        "vpc": len(ec2.describe_vpcs(Filters=env_filter)["Vpcs"]),
        "subnet": len(ec2.describe_subnets(Filters=env_filter)["Subnets"]),
        "internet_gateway": len(ec2.describe_internet_gateways(Filters=env_filter)["InternetGateways"]),
        "route_table": len(ec2.describe_route_tables(Filters=env_filter)["RouteTables"]),
        "security_group": len(ec2.describe_security_groups(Filters=env_filter)["SecurityGroups"]),
        "nat_gateway": len(
            [
                n
                for n in ec2.describe_nat_gateways(Filter=env_filter)["NatGateways"]
                if n["State"] not in ("deleted", "deleting")
            ]
        ),
    }
    kms = aws("kms")
    live_keys = 0
    for key in kms.list_keys()["Keys"]:
        meta = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
        if meta["KeyState"] == "PendingDeletion" or meta.get("KeyManager") != "CUSTOMER":
            continue
        tags = {t["TagKey"]: t["TagValue"] for t in kms.list_resource_tags(KeyId=key["KeyId"]).get("Tags", [])}
        if tags.get("Environment") == env:
            live_keys += 1
    counts["kms_key"] = live_keys
    counts["kms_alias"] = len(
        [a for a in kms.list_aliases()["Aliases"] if a["AliasName"] == f"alias/video-processing-{env}"]
    )
    counts["kinesis_stream"] = len(
        [s for s in aws("kinesis").list_streams()["StreamNames"] if s == f"video-ingestion-stream-{env}"]
    )
    counts["sqs_queue"] = len(
        aws("sqs").list_queues(QueueNamePrefix=f"video-processing-dlq-{env}").get("QueueUrls", [])
    )
    rds = aws("rds")
    counts["db_cluster"] = len(
        [
            c
            for c in rds.describe_db_clusters()["DBClusters"]
            if c["DBClusterIdentifier"] == f"video-metadata-cluster-{env}"
        ]
    )
    counts["db_instance"] = len(
        [
            i
            for i in rds.describe_db_instances()["DBInstances"]
            if i["DBInstanceIdentifier"].startswith("video-metadata-instance-")
            and i["DBInstanceIdentifier"].endswith(f"-{env}")
        ]
    )
    counts["db_subnet_group"] = len(
        [
            g
            for g in rds.describe_db_subnet_groups()["DBSubnetGroups"]
            if g["DBSubnetGroupName"] == f"video-metadata-subnets-{env}"
        ]
    )
    secrets = aws("secretsmanager").list_secrets()["SecretList"]
    counts["secret"] = len(
        [
            s
            for s in secrets
            if s["Name"] in (f"video-processing-db-credentials-{env}", f"video-processing-api-keys-{env}")
            and "DeletedDate" not in s
        ]
    )
    ecs = aws("ecs")
    clusters = ecs.describe_clusters(clusters=[f"video-processing-cluster-{env}"])["clusters"]
    counts["ecs_cluster"] = len([c for c in clusters if c["status"] == "ACTIVE"])
    counts["ecs_service"] = 0
    if counts["ecs_cluster"]:
        services = ecs.describe_services(
            cluster=f"video-processing-cluster-{env}", services=[f"video-processing-service-{env}"]
        )["services"]
        counts["ecs_service"] = len([s for s in services if s["status"] == "ACTIVE"])
    # moto lists a family as ACTIVE after all its revisions were deregistered:
    # count the family only when one of its revisions is still ACTIVE.
    family = f"video-processing-{env}"
    arns = ecs.list_task_definitions(familyPrefix=family)["taskDefinitionArns"]
    active = [
        arn
        for arn in arns
        if arn.rsplit("/", 1)[-1].rsplit(":", 1)[0] == family
        and ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]["status"] == "ACTIVE"
    ]
    counts["task_definition_family"] = 1 if active else 0
    iam = aws("iam")
    role_names = {r["RoleName"] for r in iam.list_roles()["Roles"]}
    counts["iam_role"] = len(
        [
            r
            for r in role_names
            if r.endswith(f"-{env}") and (r.startswith("video-processing-") or r.startswith("video-metadata-"))
        ]
    )
    logs = aws("logs")
    counts["log_group"] = sum(
        len([g for g in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"] if g["logGroupName"] == name])
        for name in (f"/ecs/video-processing-{env}", f"/vpc/video-processing-{env}")
    )
    topics = aws("sns").list_topics()["Topics"]
    counts["sns_topic"] = len([t for t in topics if t["TopicArn"].endswith(f":video-processing-alarms-{env}")])
    alarms = aws("cloudwatch").describe_alarms(AlarmNamePrefix="video-processing-")["MetricAlarms"]
    counts["alarm"] = len([a for a in alarms if a["AlarmName"].endswith(f"-{env}")])
    dashboards = aws("cloudwatch").list_dashboards(DashboardNamePrefix=f"video-processing-{env}")["DashboardEntries"]
    counts["dashboard"] = len([d for d in dashboards if d["DashboardName"] == f"video-processing-{env}"])
    counts["flow_log"] = len(
        ec2.describe_flow_logs(Filters=[{"Name": "log-group-name", "Values": [f"/vpc/video-processing-{env}"]}])[
            "FlowLogs"
        ]
    )
    return counts


def expected_counts(instances: int = 1) -> dict[str, int]:
    """A complete env with dev sizing (instances=2 for prod's writer + reader)."""
    return {
        "vpc": 1,
        "subnet": 4,
        "internet_gateway": 1,
        "route_table": 2,
        "security_group": 2,
        "nat_gateway": 0,
        "kms_key": 1,
        "kms_alias": 1,
        "kinesis_stream": 1,
        "sqs_queue": 1,
        "db_cluster": 1,
        "db_instance": instances,
        "db_subnet_group": 1,
        "secret": 2,
        "ecs_cluster": 1,
        "ecs_service": 1,
        "task_definition_family": 1,
        "iam_role": 3,
        "log_group": 2,
        "sns_topic": 1,
        "alarm": len(ALARMS),
        "dashboard": 1,
        "flow_log": 1,
    }


def nothing_left(aws, env: str) -> dict[str, int]:
    """The resources still there (empty dict when the env is fully gone)."""
    return {kind: n for kind, n in resource_counts(aws, env).items() if n}
