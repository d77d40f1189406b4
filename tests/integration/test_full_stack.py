"""The whole pipeline: build from empty, summary, check mode on a converged env, teardown twice.

The shared full-stack env (conftest.py: stack_env) is read back by every role's
test file first; its last test here tears it down. The shared env of the
"changes" group (changing_env) ends here too, with a run that changes nothing.
A second run right after a first deploy is test_realistic_stack.py (and the
idempotence step of extensions/molecule/full/); drift and a second env are
test_full_stack_drift.py.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.integration.helpers import REPO, assert_no_change, deploy, new_env, run_playbook, teardown
from tests.integration.stack import expected_counts, nothing_left, resource_counts


def test_empty_to_complete(stack_env, aws):
    assert stack_env.first.changed > 0
    assert resource_counts(aws, stack_env.name) == expected_counts()


def test_summary_printed_and_written(stack_env):
    name = stack_env.name
    assert f"video-ingestion-stream-{name}" in stack_env.first.stdout
    summary = json.loads((REPO / "outputs" / f"{name}.json").read_text())
    text = json.dumps(summary)
    for expected in (
        f"video-ingestion-stream-{name}",
        f"video-processing-db-credentials-{name}",
        f"video-processing-api-keys-{name}",
        f"video-processing-cluster-{name}",
        f"video-processing-service-{name}",
        f"video-processing-dlq-{name}",
        f"video-processing-{name}",
    ):
        assert expected in text, f"{expected} missing from outputs/{name}.json"


def test_check_diff_on_converged_env_changes_nothing(stack_env, endpoint):
    assert_no_change(
        run_playbook(endpoint, "site.yml", stack_env.name, check=True, diff=True, extra_vars=stack_env.extra_vars)
    )


@pytest.mark.last_in_group
def test_teardown_removes_everything_and_is_safe_twice(stack_env, endpoint, aws):
    name = stack_env.name
    key_id = aws("kms").describe_key(KeyId=f"alias/video-processing-{name}")["KeyMetadata"]["KeyId"]

    first = teardown(endpoint, name)
    stack_env.torn_down = True
    assert first.changed > 0
    assert nothing_left(aws, name) == {}
    second = teardown(endpoint, name)
    assert second.changed == 0, second.changed_tasks()

    # what the counts cannot show: how each thing went
    # a KMS key waits out its 7-day window (its alias is gone)
    assert aws("kms").describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    # the two secrets are deleted without a recovery window, the RDS-managed one with its cluster
    for secret_id in (f"video-processing-db-credentials-{name}", f"video-processing-api-keys-{name}"):
        with pytest.raises(ClientError) as gone:
            aws("secretsmanager").describe_secret(SecretId=secret_id)
        assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"
    secrets = aws("secretsmanager").list_secrets()["SecretList"]
    assert not [s for s in secrets if name in json.dumps(s.get("Tags", []))]
    # a dev-sized env takes no final snapshot (moto keeps its own automated one)
    manual = aws("rds").describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]
    assert not [s for s in manual if name in s["DBClusterSnapshotIdentifier"]]
    groups = [f"video-processing-ecs-sg-{name}", f"video-metadata-db-sg-{name}"]
    found = aws("ec2").describe_security_groups(Filters=[{"Name": "group-name", "Values": groups}])["SecurityGroups"]
    assert found == []


@pytest.mark.last_in_group
def test_after_every_change_and_back_a_run_changes_nothing(changing_env, endpoint, aws):
    """Each test of the "changes" group put back what it changed: the env is converged again."""
    assert_no_change(run_playbook(endpoint, "site.yml", changing_env.name, extra_vars=changing_env.extra_vars))
    assert resource_counts(aws, changing_env.name) == expected_counts()


def test_teardown_of_a_half_built_env(endpoint, aws):
    name = new_env("half")
    deploy(endpoint, name, roles=["network", "streaming", "database"])
    teardown(endpoint, name)
    assert nothing_left(aws, name) == {}
