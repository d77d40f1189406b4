"""A run killed half-way is fixed by running again.

site.yml is started as a user would and killed (SIGKILL to its whole process
group, modules in flight included) at the second task of each role in turn;
every restart gets one role further. The final, uninterrupted run completes,
and the env then holds exactly one of everything. teardown.yml killed half-way
is likewise finished by running it again.
"""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

from tests.integration.helpers import (
    REPO,
    VENV_BIN,
    ansible_env,
    assert_no_change,
    deploy,
    new_env,
    run_playbook,
    teardown,
)
from tests.integration.stack import expected_counts, nothing_left, resource_counts

pytestmark = pytest.mark.slow  # ~13 min (full stack) / ~8 min (interrupted) on 2 cores: `make test-slow`


ROLES = ["network", "streaming", "database", "secrets", "ecs", "monitoring"]


def run_and_kill(endpoint: str, playbook: str, env_name: str, role: str, nth_task: int = 2) -> bool:
    """Run the playbook; SIGKILL it when it starts its nth task inside role. True if killed."""
    argv = [str(VENV_BIN / "ansible-playbook"), playbook, "-e", f"env={env_name}"]
    proc = subprocess.Popen(
        argv,
        cwd=REPO,
        env=ansible_env(endpoint),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    marker = f"TASK [streamflix.video_pipeline.{role} : "
    seen = 0
    killed = False
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(marker) and "Validating arguments" not in line:
            seen += 1
            if seen == nth_task:
                os.killpg(proc.pid, signal.SIGKILL)
                killed = True
                break
    proc.stdout.close()
    proc.wait(timeout=600)
    return killed


def test_deploy_killed_in_every_role_then_rerun(endpoint, aws):
    name = new_env("kill")
    for role in ROLES:
        assert run_and_kill(endpoint, "site.yml", name, role), f"the run never reached the {role} role"
    deploy(endpoint, name)
    assert resource_counts(aws, name) == expected_counts()
    assert_no_change(run_playbook(endpoint, "site.yml", name))

    for role in reversed(ROLES[1:]):
        assert run_and_kill(endpoint, "teardown.yml", name, role), f"teardown never reached the {role} role"
    teardown(endpoint, name)
    assert nothing_left(aws, name) == {}
