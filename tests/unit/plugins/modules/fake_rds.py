"""A small in-memory RDS for the aurora_*_sync unit tests.

It keeps one cluster, its instances and one DB subnet group, answers the calls
the modules make with the shapes boto3 returns, and records every call, so a
test can assert which writes a run made (and that a no-op made none).
"""

from __future__ import annotations

import copy

from tests.unit.plugins.modules.fakes import client_error

ACCOUNT = "123456789012"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1111-2222"
MASTER_SECRET_ARN = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:rds!cluster-1-AbCdEf"
READS = ("describe_", "list_")


def tag_list(tags):
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def cluster(identifier="c1", **extra):
    """A settled cluster as DescribeDBClusters returns it (defaults: the pipeline's dev settings)."""
    base = {
        "DBClusterIdentifier": identifier,
        "DBClusterArn": f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster:{identifier}",
        "Status": "available",
        "Engine": "aurora-postgresql",
        "EngineVersion": "16.6",
        "EngineMode": "provisioned",
        "DatabaseName": "videometadata",
        "MasterUsername": "videoadmin",
        "Port": 5432,
        "DBSubnetGroup": "g1",
        "VpcSecurityGroups": [{"VpcSecurityGroupId": "sg-1", "Status": "active"}],
        "StorageEncrypted": True,
        "KmsKeyId": KEY,
        "BackupRetentionPeriod": 1,
        "DeletionProtection": False,
        "CopyTagsToSnapshot": True,
        "IAMDatabaseAuthenticationEnabled": True,
        "EnabledCloudwatchLogsExports": ["postgresql"],
        "ServerlessV2ScalingConfiguration": {"MinCapacity": 0.0, "MaxCapacity": 4.0, "SecondsUntilAutoPause": 3600},
        "MasterUserSecret": {"SecretArn": MASTER_SECRET_ARN, "SecretStatus": "active", "KmsKeyId": KEY},
        "Endpoint": f"{identifier}.cluster-x.us-east-1.rds.amazonaws.com",
        "ReaderEndpoint": f"{identifier}.cluster-ro-x.us-east-1.rds.amazonaws.com",
        "DBClusterMembers": [],
        "TagList": tag_list({"Env": "dev", "Name": identifier}),
    }
    base.update(extra)
    return base


def instance(identifier, index=0, cluster_id="c1", **extra):
    base = {
        "DBInstanceIdentifier": identifier,
        "DBInstanceArn": f"arn:aws:rds:us-east-1:{ACCOUNT}:db:{identifier}",
        "DBClusterIdentifier": cluster_id,
        "DBInstanceClass": "db.serverless",
        "DBInstanceStatus": "available",
        "AvailabilityZone": ["us-east-1a", "us-east-1b"][index % 2],
        "PromotionTier": index,
        "PubliclyAccessible": False,
        "MonitoringInterval": 0,
        "TagList": tag_list({"Env": "dev", "Name": identifier}),
    }
    base.update(extra)
    return base


def subnet_group(name="g1", subnets=("subnet-a", "subnet-b"), description="private subnets"):
    return {
        "DBSubnetGroupName": name,
        "DBSubnetGroupDescription": description,
        "DBSubnetGroupArn": f"arn:aws:rds:us-east-1:{ACCOUNT}:subgrp:{name}",
        "VpcId": "vpc-1",
        "Subnets": [{"SubnetIdentifier": s} for s in subnets],
    }


class FakeRDS:
    """The RDS client: state plus a log of (method, kwargs) calls.

    cluster_statuses / instance_statuses: statuses the next describe calls
    report, one per call (then the stored status), to drive the waits.
    """

    def __init__(self, cluster=None, instances=(), group=None, group_tags=None):
        self.cluster = copy.deepcopy(cluster)
        self.instances = {i["DBInstanceIdentifier"]: copy.deepcopy(i) for i in instances}
        self.group = copy.deepcopy(group)
        self.tags = {}
        if group:
            self.tags[group["DBSubnetGroupArn"]] = dict(group_tags or {})
        self.cluster_statuses = []
        self.instance_statuses = []
        self.errors = {}  # method -> list of exceptions raised by its next calls
        self.calls = []

    # -- bookkeeping ------------------------------------------------------------------

    def _record(self, method, kwargs):
        kwargs.pop("aws_retry", None)
        self.calls.append((method, kwargs))
        pending = self.errors.get(method)
        if pending:
            raise pending.pop(0)

    def writes(self):
        return [(method, kwargs) for method, kwargs in self.calls if not method.startswith(READS)]

    def write_names(self):
        return [method for method, _kwargs in self.writes()]

    def called(self, method):
        return [kwargs for name, kwargs in self.calls if name == method]

    # -- clusters ---------------------------------------------------------------------

    def describe_db_clusters(self, **kwargs):
        self._record("describe_db_clusters", kwargs)
        if self.cluster is None:
            raise client_error("DBClusterNotFoundFault", "DescribeDBClusters")
        if self.cluster_statuses:
            status = self.cluster_statuses.pop(0)
            if status is None:  # gone
                self.cluster = None
                raise client_error("DBClusterNotFoundFault", "DescribeDBClusters")
            self.cluster["Status"] = status
        return {"DBClusters": [copy.deepcopy(self.cluster)]}

    def create_db_cluster(self, **kwargs):
        self._record("create_db_cluster", dict(kwargs))
        identifier = kwargs["DBClusterIdentifier"]
        self.cluster = cluster(
            identifier,
            Status="creating",
            EngineVersion=kwargs.get("EngineVersion", "16.6"),
            ServerlessV2ScalingConfiguration=kwargs["ServerlessV2ScalingConfiguration"],
            TagList=kwargs.get("Tags", []),
            DeletionProtection=kwargs.get("DeletionProtection", False),
        )
        return {"DBCluster": copy.deepcopy(self.cluster)}

    def modify_db_cluster(self, **kwargs):
        self._record("modify_db_cluster", dict(kwargs))
        if "ServerlessV2ScalingConfiguration" in kwargs:
            self.cluster["ServerlessV2ScalingConfiguration"] = kwargs["ServerlessV2ScalingConfiguration"]
        if "DeletionProtection" in kwargs:
            self.cluster["DeletionProtection"] = kwargs["DeletionProtection"]
        return {"DBCluster": copy.deepcopy(self.cluster)}

    def delete_db_cluster(self, **kwargs):
        self._record("delete_db_cluster", dict(kwargs))
        self.cluster["Status"] = "deleting"
        return {"DBCluster": copy.deepcopy(self.cluster)}

    # -- subnet groups and tags -------------------------------------------------------

    def describe_db_subnet_groups(self, **kwargs):
        self._record("describe_db_subnet_groups", kwargs)
        if self.group is None:
            raise client_error("DBSubnetGroupNotFoundFault", "DescribeDBSubnetGroups")
        return {"DBSubnetGroups": [copy.deepcopy(self.group)]}

    def create_db_subnet_group(self, **kwargs):
        self._record("create_db_subnet_group", dict(kwargs))
        self.group = subnet_group(kwargs["DBSubnetGroupName"], kwargs["SubnetIds"], kwargs["DBSubnetGroupDescription"])
        return {"DBSubnetGroup": copy.deepcopy(self.group)}

    def modify_db_subnet_group(self, **kwargs):
        self._record("modify_db_subnet_group", dict(kwargs))
        self.group = subnet_group(kwargs["DBSubnetGroupName"], kwargs["SubnetIds"], kwargs["DBSubnetGroupDescription"])
        return {"DBSubnetGroup": copy.deepcopy(self.group)}

    def delete_db_subnet_group(self, **kwargs):
        self._record("delete_db_subnet_group", dict(kwargs))
        self.group = None

    def list_tags_for_resource(self, **kwargs):
        self._record("list_tags_for_resource", kwargs)
        return {"TagList": tag_list(self.tags.get(kwargs["ResourceName"], {}))}

    def add_tags_to_resource(self, **kwargs):
        self._record("add_tags_to_resource", dict(kwargs))

    def remove_tags_from_resource(self, **kwargs):
        self._record("remove_tags_from_resource", dict(kwargs))

    # -- instances --------------------------------------------------------------------

    def describe_db_instances(self, **kwargs):
        self._record("describe_db_instances", kwargs)
        (wanted_cluster,) = kwargs["Filters"][0]["Values"]
        if self.instance_statuses:
            status = self.instance_statuses.pop(0)
            for identifier in list(self.instances):
                if status is None:
                    del self.instances[identifier]
                else:
                    self.instances[identifier]["DBInstanceStatus"] = status
        found = [copy.deepcopy(i) for i in self.instances.values() if i["DBClusterIdentifier"] == wanted_cluster]
        return {"DBInstances": found}

    def create_db_instance(self, **kwargs):
        self._record("create_db_instance", dict(kwargs))
        identifier = kwargs["DBInstanceIdentifier"]
        self.instances[identifier] = instance(
            identifier,
            kwargs.get("PromotionTier", 0),
            kwargs["DBClusterIdentifier"],
            DBInstanceStatus="creating",
            AvailabilityZone=kwargs.get("AvailabilityZone"),
            TagList=kwargs.get("Tags", []),
        )
        return {"DBInstance": copy.deepcopy(self.instances[identifier])}

    def modify_db_instance(self, **kwargs):
        self._record("modify_db_instance", dict(kwargs))
        found = self.instances[kwargs["DBInstanceIdentifier"]]
        found["DBInstanceStatus"] = "modifying"
        return {"DBInstance": copy.deepcopy(found)}

    def delete_db_instance(self, **kwargs):
        self._record("delete_db_instance", dict(kwargs))
        self.instances[kwargs["DBInstanceIdentifier"]]["DBInstanceStatus"] = "deleting"
        return {"DBInstance": copy.deepcopy(self.instances[kwargs["DBInstanceIdentifier"]])}
