"""Drive ansible-playbook against the emulator and read its results.

Every integration test runs the real playbooks as a subprocess, exactly as a
user would, and checks the result through boto3.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent

RECAP = re.compile(
    r"^localhost\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)\s+"
    r"failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)\s+rescued=(?P<rescued>\d+)\s+ignored=(?P<ignored>\d+)",
    re.M,
)
TASK_HEADER = re.compile(r"^TASK \[(?P<name>.*)\] \**$")
CHANGED_LINE = re.compile(r"^changed: \[localhost\]")


# What the shared envs of conftest.py are deployed with: an alarm e-mail, so
# the monitoring role's subscription is there to be read back.
ALARM_EMAIL = "video-oncall@example.com"
STACK_VARS = {"monitoring_alarm_email": ALARM_EMAIL}


def new_env(prefix: str = "t") -> str:
    """A fresh, valid env name (tests never share one)."""
    return f"{prefix}{uuid.uuid4().hex[:7]}"


@dataclass
class PlaybookRun:
    argv: list[str]
    rc: int
    stdout: str
    stderr: str
    recap: dict = field(default_factory=dict)

    @property
    def changed(self) -> int:
        return self.recap.get("changed", -1)

    @property
    def failed(self) -> int:
        return self.recap.get("failed", -1)

    def changed_tasks(self) -> list[str]:
        """Names of the tasks that reported a change (one entry per changed item)."""
        names, current = [], None
        for line in self.stdout.splitlines():
            header = TASK_HEADER.match(line)
            if header:
                current = header.group("name")
            elif CHANGED_LINE.match(line):
                names.append(current)
        return names

    def explain(self) -> str:
        tail = "\n".join(self.stdout.splitlines()[-60:])
        return (
            f"$ {' '.join(self.argv)}\nrc={self.rc} recap={self.recap}\n"
            f"--- stdout (tail) ---\n{tail}\n--- stderr ---\n{self.stderr[-3000:]}"
        )


def ansible_env(endpoint: str, extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_STDOUT_CALLBACK": "default",
            "ANSIBLE_CALLBACK_RESULT_FORMAT": "yaml",
            "ANSIBLE_DEPRECATION_WARNINGS": "0",
            "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        }
    )
    env.pop("AWS_PROFILE", None)
    if extra:
        env.update(extra)
    return env


def run_playbook(
    endpoint: str,
    playbook: str,
    env_name: str | None,
    *,
    roles: list[str] | None = None,
    extra_vars: dict | None = None,
    check: bool = False,
    diff: bool = False,
    verbosity: int = 0,
    inventory: str | None = None,
    timeout: int = 900,
    environ: dict | None = None,
) -> PlaybookRun:
    """Run site.yml / teardown.yml (or any playbook path relative to the repo)."""
    argv = [str(VENV_BIN / "ansible-playbook"), playbook]
    evars = dict(extra_vars or {})
    if env_name is not None:
        # JSON, not key=value: names with spaces or quotes reach preflight intact
        evars["env"] = env_name
    if roles is not None:
        evars["video_pipeline_roles"] = roles
    if evars:
        argv += ["-e", json.dumps(evars)]
    if inventory:
        argv += ["-i", inventory]
    if check:
        argv.append("--check")
    if diff:
        argv.append("--diff")
    if verbosity:
        argv.append("-" + "v" * verbosity)
    proc = subprocess.run(  # fixed argv
        argv, cwd=REPO, env=ansible_env(endpoint, environ), capture_output=True, text=True, timeout=timeout, check=False
    )
    # the last recap line is the run's result
    matches = list(RECAP.finditer(proc.stdout))
    match = matches[-1] if matches else None
    recap = {k: int(v) for k, v in match.groupdict().items()} if match else {}
    return PlaybookRun(argv, proc.returncode, proc.stdout, proc.stderr, recap)


def deploy(endpoint: str, env_name: str, **kwargs) -> PlaybookRun:
    run = run_playbook(endpoint, "site.yml", env_name, **kwargs)
    assert run.rc == 0 and run.failed == 0, run.explain()
    return run


def teardown(endpoint: str, env_name: str, **kwargs) -> PlaybookRun:
    run = run_playbook(endpoint, "teardown.yml", env_name, **kwargs)
    assert run.rc == 0 and run.failed == 0, run.explain()
    return run


def assert_no_change(run: PlaybookRun) -> None:
    assert run.rc == 0 and run.failed == 0, run.explain()
    assert run.changed == 0, f"expected changed=0, these tasks changed: {run.changed_tasks()}\n{run.explain()}"


def run_and_kill(endpoint: str, playbook: str, env_name: str, role: str, roles: list[str] | None = None) -> bool:
    """Run the playbook (for roles, default all) and SIGKILL it half-way through role. True if killed.

    Half-way: at the first task that starts after the role has reported a
    change (a resource made or removed): the role's next task, with more of it
    to come, or, for a role whose change is one task (a teardown's secrets), the
    first task after it, with the rest of the run to come. The preflight runs
    each role's input checks before any role starts: the role's tasks are only
    counted once roles are applied.
    """
    evars = {"env": env_name}
    if roles is not None:
        evars["video_pipeline_roles"] = roles
    argv = [str(VENV_BIN / "ansible-playbook"), playbook, "-e", json.dumps(evars)]
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
    applying = in_role = changed = killed = False
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("TASK ["):
            applying = applying or line.startswith("TASK [Apply each role]")
            if changed:
                os.killpg(proc.pid, signal.SIGKILL)
                killed = True
                break
            in_role = applying and line.startswith(marker)
        elif in_role and CHANGED_LINE.match(line):
            changed = True
    proc.stdout.close()
    proc.wait(timeout=600)
    return killed
