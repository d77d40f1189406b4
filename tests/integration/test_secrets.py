"""The secrets role: contents, KMS key, resource policies and no leaks, read back; the API key kept; a policy change.

The read-backs use the shared full-stack env (conftest.py: stack_env, deployed
at -vvv), the re-run and the change the shared env of the "changes" group
(changing_env). Its teardown is test_full_stack.py and
extensions/molecule/secrets/.
"""

from __future__ import annotations

import json

import pytest
import yaml

from tests.integration.helpers import assert_no_change, new_env, run_playbook

ADMIN = "arn:aws:iam::123456789012:role/platform-admin"


def secret_names(env_name):
    return f"video-processing-db-credentials-{env_name}", f"video-processing-api-keys-{env_name}"


@pytest.fixture(scope="module")
def deployed(stack_env):
    """The shared env and its first run, at -vvv (the leak test reads that output)."""
    return stack_env.name, stack_env.first


@pytest.fixture(scope="module")
def env_name(deployed):
    return deployed[0]


@pytest.fixture(scope="module")
def cluster(env_name, aws):
    return aws("rds").describe_db_clusters(DBClusterIdentifier=f"video-metadata-cluster-{env_name}")["DBClusters"][0]


@pytest.fixture(scope="module")
def key_arn(env_name, aws):
    return aws("kms").describe_key(KeyId=f"alias/video-processing-{env_name}")["KeyMetadata"]["Arn"]


def value_of(aws, secret_id) -> str:
    return aws("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]


def assert_tags_and_key(aws, secret_id, env_name, key_arn):
    described = aws("secretsmanager").describe_secret(SecretId=secret_id)
    assert described["KmsKeyId"] in (key_arn, key_arn.split("/")[-1])
    tags = {t["Key"]: t["Value"] for t in described["Tags"]}
    assert tags == {
        "Project": "video-processing",
        "Environment": env_name,
        "ManagedBy": "ansible",
        "Component": "secrets",
    }


def test_db_connection_secret(env_name, cluster, key_arn, aws):
    db_secret, _ = secret_names(env_name)
    text = value_of(aws, db_secret)
    connection = json.loads(text)
    assert connection == {
        "username": cluster["MasterUsername"],
        "engine": "aurora-postgresql",
        "host": cluster["Endpoint"],
        "reader_host": cluster["ReaderEndpoint"],
        "port": 5432,
        "dbname": "videometadata",
        "dbClusterIdentifier": f"video-metadata-cluster-{env_name}",
        "master_secret_arn": cluster["MasterUserSecret"]["SecretArn"],
    }
    master_password = json.loads(value_of(aws, cluster["MasterUserSecret"]["SecretArn"]))["password"]
    assert master_password not in text
    assert "password" not in text.lower()
    assert_tags_and_key(aws, db_secret, env_name, key_arn)


def test_api_key_secret(env_name, key_arn, aws):
    _, api_secret = secret_names(env_name)
    api_key = json.loads(value_of(aws, api_secret))["api_key"]
    assert len(api_key) == 48 and api_key.isalnum()
    assert_tags_and_key(aws, api_secret, env_name, key_arn)


def allowed_principals(aws, secret_id) -> list[str]:
    policy = json.loads(aws("secretsmanager").get_resource_policy(SecretId=secret_id)["ResourcePolicy"])
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Principal"] in ("*", {"AWS": "*"})
    assert statement["Action"] == "secretsmanager:*"
    assert statement["Resource"] == "*"
    assert list(statement["Condition"]) == ["StringNotLike"]
    return statement["Condition"]["StringNotLike"]["aws:PrincipalArn"]


def test_resource_policies_deny_everyone_else(env_name, aws):
    account = aws("sts").get_caller_identity()["Account"]
    caller = aws("sts").get_caller_identity()["Arn"]
    expected = [
        f"arn:aws:iam::{account}:role/video-processing-exec-role-{env_name}",
        f"arn:aws:iam::{account}:role/video-processing-task-role-{env_name}",
        caller,
    ]
    for secret_id in secret_names(env_name):
        principals = allowed_principals(aws, secret_id)
        assert principals == expected
        assert not any(p.endswith(":root") or p == "*" for p in principals)


def test_verbose_deploy_printed_no_secret(deployed, cluster, aws):
    env_name, run = deployed
    assert "-vvv" in run.argv
    api_key = json.loads(value_of(aws, secret_names(env_name)[1]))["api_key"]
    master_password = json.loads(value_of(aws, cluster["MasterUserSecret"]["SecretArn"]))["password"]
    output = run.stdout + run.stderr
    assert len(output) > 10000, "expected the verbose output of a whole deploy"
    assert api_key not in output
    assert master_password not in output


def secrets_task(env_name):
    db_secret, api_secret = secret_names(env_name)
    return f"streamflix.video_pipeline.secrets : Secrets {db_secret} and {api_secret}"


def changed_fields(run) -> dict[str, list[str]]:
    """What the role's report task printed after a change: the fields each secret changed (never values)."""
    block = run.stdout.split("TASK [streamflix.video_pipeline.secrets : What changed in the secrets")[1]
    block = block.split("\n", 1)[1].split("\nTASK [")[0]
    report = yaml.safe_load(block.split("=>", 1)[1])["msg"]
    return {name: secret["changes"] for name, secret in report.items()}


def test_second_run_changes_nothing_and_keeps_the_api_key(changing_env, endpoint, aws):
    env_name = changing_env.name
    api_secret = secret_names(env_name)[1]
    before = value_of(aws, api_secret)
    # a run of the secrets role alone: a second random API key would be a change
    assert_no_change(run_playbook(endpoint, "site.yml", env_name, roles=["secrets"]))
    assert value_of(aws, api_secret) == before


def test_admin_arns_change_only_the_policies(changing_env, endpoint, aws):
    env_name = changing_env.name
    db_secret, api_secret = secret_names(env_name)
    api_before, db_before = value_of(aws, api_secret), value_of(aws, db_secret)
    run = run_playbook(endpoint, "site.yml", env_name, roles=["secrets"], extra_vars={"secrets_admin_arns": [ADMIN]})
    assert run.rc == 0 and run.failed == 0, run.explain()
    # one task converges both secrets: it is the only change, and what it changed
    # in each of them is the resource policy
    assert run.changed_tasks() == [secrets_task(env_name)], run.changed_tasks()
    assert changed_fields(run) == {db_secret: ["resource_policy"], api_secret: ["resource_policy"]}
    for secret_id in (db_secret, api_secret):
        assert allowed_principals(aws, secret_id)[-1] == ADMIN
    assert (value_of(aws, api_secret), value_of(aws, db_secret)) == (api_before, db_before)
    # and the same admin list again is no change
    again = run_playbook(endpoint, "site.yml", env_name, roles=["secrets"], extra_vars={"secrets_admin_arns": [ADMIN]})
    assert_no_change(again)
    # and back: the policies again, nothing else
    back = run_playbook(endpoint, "site.yml", env_name, roles=["secrets"])
    assert back.rc == 0 and back.failed == 0, back.explain()
    assert back.changed_tasks() == [secrets_task(env_name)], back.changed_tasks()
    assert changed_fields(back) == {db_secret: ["resource_policy"], api_secret: ["resource_policy"]}
    for secret_id in (db_secret, api_secret):
        assert ADMIN not in allowed_principals(aws, secret_id)


def test_bad_admin_arn_is_refused(endpoint):
    run = run_playbook(
        endpoint,
        "site.yml",
        new_env("bad"),
        roles=["secrets"],
        extra_vars={"secrets_admin_arns": ["arn:aws:iam::123456789012:root"]},
    )
    assert run.rc != 0
    assert "secrets_admin_arns must be a list of IAM role or user ARNs" in run.stdout, run.explain()


def test_missing_prerequisites_are_named(endpoint):
    run = run_playbook(endpoint, "site.yml", new_env("nodb"), roles=["secrets"])
    assert run.rc != 0
    assert "run the database role first" in run.stdout, run.explain()
    assert "run the streaming role first" in run.stdout
