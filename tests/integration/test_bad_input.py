"""Bad input is refused before any AWS call, with a message naming the variable.

Each case runs site.yml as a user would and asserts: a non-zero exit, a
message that names the variable and what is allowed, nothing reported as
changed, and no resource of that env in the emulator afterwards.
"""

from __future__ import annotations

import json

import pytest

from tests.integration.helpers import new_env, run_playbook


def resources_of(aws, env_name: str) -> list[str]:
    """Everything the pipeline would have created for env_name, by tag or SPEC name."""
    found = []
    tagging = aws("resourcegroupstaggingapi").get_resources(TagFilters=[{"Key": "Environment", "Values": [env_name]}])[
        "ResourceTagMappingList"
    ]
    found += [r["ResourceARN"] for r in tagging]
    ec2 = aws("ec2")
    env_filter = [{"Name": "tag:Environment", "Values": [env_name]}]
    found += [v["VpcId"] for v in ec2.describe_vpcs(Filters=env_filter)["Vpcs"]]
    found += [g["GroupId"] for g in ec2.describe_security_groups(Filters=env_filter)["SecurityGroups"]]
    found += [s for s in aws("kinesis").list_streams()["StreamNames"] if s.endswith(f"-{env_name}")]
    found += [
        c["DBClusterIdentifier"]
        for c in aws("rds").describe_db_clusters()["DBClusters"]
        if c["DBClusterIdentifier"].endswith(f"-{env_name}")
    ]
    found += [a["AliasName"] for a in aws("kms").list_aliases()["Aliases"] if a["AliasName"].endswith(f"-{env_name}")]
    found += [
        s["Name"] for s in aws("secretsmanager").list_secrets()["SecretList"] if s["Name"].endswith(f"-{env_name}")
    ]
    found += [q for q in aws("sqs").list_queues().get("QueueUrls", []) if q.endswith(f"-{env_name}")]
    found += [c for c in aws("ecs").list_clusters()["clusterArns"] if c.endswith(f"-{env_name}")]
    return found


def assert_refused(run, *words):
    output = run.stdout + run.stderr
    assert run.rc != 0, f"expected the run to be refused\n{run.explain()}"
    assert run.recap.get("changed", 0) == 0, run.explain()
    for word in words:
        assert word in output, f"{word!r} not in the error message\n{run.explain()}"


# (id, env name or None, extra vars, words the message must contain)
ENV_CASES = [
    ("no-env", None, {}, ["env", "^[a-z][a-z0-9-]{1,15}$"]),
    ("capitals", "Dev", {}, ["env=Dev", "^[a-z][a-z0-9-]{1,15}$"]),
    ("space", "my env", {}, ["env=my env", "lower-case"]),
    ("underscore", "my_env", {}, ["env=my_env"]),
    ("too-long", "a" * 17, {}, ["2-16 characters"]),
    ("one-char", "a", {}, ["2-16 characters"]),
    ("leading-digit", "1dev", {}, ["env=1dev", "starting with a letter"]),
    ("leading-dash", "-dev", {}, ["starting with a letter"]),
    ("shell-metachars", "dev;rm", {}, ["env=dev;rm"]),
    ("dollar", "dev$(id)", {}, ["^[a-z][a-z0-9-]{1,15}$"]),
    ("unknown-role", "ok-env", {"video_pipeline_roles": ["network", "nope"]}, ["video_pipeline_roles"]),
    ("bad-state", "ok-env", {"video_pipeline_state": "gone"}, ["video_pipeline_state must be present or absent"]),
]

SETTING_CASES = [
    ("vpc-cidr-garbage", {"network_vpc_cidr": "10.0.0.300/16"}, ["network_vpc_cidr"]),
    ("vpc-cidr-host-bits", {"network_vpc_cidr": "10.0.0.1/16"}, ["network_vpc_cidr"]),
    ("vpc-cidr-too-big", {"network_vpc_cidr": "10.0.0.0/8"}, ["network_vpc_cidr", "/16 to /28"]),
    (
        "overlapping-subnets",
        {"network_public_subnet_cidrs": ["10.0.0.0/20", "10.0.8.0/24"]},
        ["overlap"],
    ),
    (
        "subnet-outside-vpc",
        {"network_private_subnet_cidrs": ["10.1.0.0/24", "10.0.64.0/24"]},
        ["is not inside network_vpc_cidr"],
    ),
    (
        "three-public-subnets",
        {"network_public_subnet_cidrs": ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"]},
        ["network_public_subnet_cidrs"],
    ),
    ("unknown-region", {"video_pipeline_aws_region": "us-east-7"}, ["video_pipeline_aws_region=us-east-7"]),
    ("shards-zero", {"streaming_shard_count": 0}, ["streaming_shard_count"]),
    ("shards-negative", {"streaming_shard_count": -2}, ["streaming_shard_count"]),
    ("shards-string", {"streaming_shard_count": "lots"}, ["streaming_shard_count"]),
    ("shards-over-limit", {"streaming_shard_count": 65}, ["streaming_shard_count"]),
    ("retention-too-short", {"streaming_retention_hours": 12}, ["streaming_retention_hours"]),
    ("retention-too-long", {"streaming_retention_hours": 9000}, ["streaming_retention_hours"]),
    ("acu-min-over-max", {"database_min_capacity": 8, "database_max_capacity": 4}, ["database_min_capacity"]),
    ("acu-quarter-step", {"database_max_capacity": 4.25}, ["database_max_capacity"]),
    ("acu-300", {"database_max_capacity": 300}, ["database_max_capacity"]),
    ("acu-string", {"database_max_capacity": "big"}, ["database_max_capacity"]),
    (
        "auto-pause-with-min",
        {"database_min_capacity": 1, "database_seconds_until_auto_pause": 600},
        ["database_seconds_until_auto_pause"],
    ),
    ("log-retention-not-allowed", {"ecs_log_retention_days": 10}, ["ecs_log_retention_days"]),
    ("desired-count-negative", {"ecs_desired_count": -1}, ["ecs_desired_count"]),
    ("fargate-cpu-memory-pair", {"ecs_cpu": 256, "ecs_memory": 8192}, ["ecs_memory"]),
]


@pytest.mark.parametrize(("env_name", "extra", "words"), [c[1:] for c in ENV_CASES], ids=[c[0] for c in ENV_CASES])
def test_bad_env_and_selection(endpoint, aws, env_name, extra, words):
    run = run_playbook(endpoint, "site.yml", env_name, extra_vars=extra)
    assert_refused(run, *words)
    if env_name:
        assert resources_of(aws, env_name) == []


@pytest.mark.parametrize(("extra", "words"), [c[1:] for c in SETTING_CASES], ids=[c[0] for c in SETTING_CASES])
def test_bad_settings(endpoint, aws, extra, words):
    name = new_env("bad")
    run = run_playbook(endpoint, "site.yml", name, extra_vars=extra)
    assert_refused(run, *words)
    assert resources_of(aws, name) == []


def test_unreachable_endpoint_says_what_to_do(endpoint):
    run = run_playbook("http://127.0.0.1:9", "site.yml", new_env("bad"))
    assert_refused(run, "local AWS emulator at http://127.0.0.1:9 is not running", "make emulator")


def test_real_aws_without_credentials_is_refused(endpoint, tmp_path):
    # No keys, no profile, no instance metadata: the credential chain is empty.
    environ = {
        "AWS_ACCESS_KEY_ID": "",
        "AWS_SECRET_ACCESS_KEY": "",
        "AWS_ENDPOINT_URL": "",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_REGION": "us-east-1",
    }
    run = run_playbook(endpoint, "site.yml", new_env("bad"), inventory="inventories/aws", environ=environ)
    assert_refused(run, "AWS did not accept our credentials", "AWS_PROFILE")


def test_prod_teardown_needs_confirmation(endpoint):
    run = run_playbook(endpoint, "teardown.yml", "prod")
    assert_refused(run, "Refusing to tear down prod", "-e confirm_teardown=prod")
    wrong = run_playbook(endpoint, "teardown.yml", "prod", extra_vars={"confirm_teardown": "yes"})
    assert_refused(wrong, "confirm_teardown=prod")


def test_extra_tags_cannot_override_standard_tags(endpoint):
    run = run_playbook(
        endpoint, "site.yml", new_env("bad"), extra_vars={"video_pipeline_extra_tags": {"Environment": "x"}}
    )
    assert_refused(run, "video_pipeline_extra_tags")


def test_cases_are_valid_json():
    # guards the table itself: every extra-vars dict must survive `-e <json>`
    for case in SETTING_CASES:
        json.dumps(case[1])
