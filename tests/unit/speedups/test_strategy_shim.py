"""What the strategy shim changes in mitogen (ansible_plugins/strategy/mitogen_linear.py).

- The local interpreter gets time to start on a busy machine: mitogen's own
  limit (30 s) made a niced molecule run UNREACHABLE under load.
- No CPU pinning: on a 2-core machine mitogen pins every ansible run's busy
  processes to the same CPU.

The shim is loaded in a child interpreter: it installs process-wide patches.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SHIM = Path(__file__).resolve().parents[3] / "ansible_plugins" / "strategy" / "mitogen_linear.py"

PROBE = """
import importlib.util, json, os, sys
import mitogen.parent
from ansible.plugins.loader import init_plugin_loader
init_plugin_loader()  # the shim lists collections, as it does inside ansible-playbook
spec = importlib.util.spec_from_file_location("shim", sys.argv[1])
shim = importlib.util.module_from_spec(spec)
spec.loader.exec_module(shim)
import ansible_mitogen.affinity as affinity
import ansible_mitogen.connection as connection

class Spec:
    def python_path(self):
        return ["/opt/python"]

method = connection.CONNECTION_METHOD["local"](Spec())
# What a 2-CPU machine's ansible run would get: mitogen pins the controller, its
# workers and the interpreters they start (assign_subprocess) to one CPU.
before = os.sched_getaffinity(0)
affinity.policy.assign_controller()
affinity.policy.assign_worker()
affinity.policy.assign_subprocess()
print(json.dumps({
    "method": method,
    "shim_limit": shim.LOCAL_CONNECT_TIMEOUT,
    "mitogen_default": mitogen.parent.Options.connect_timeout,
    "policy": type(affinity.policy).__name__,
    "cpus_kept": sorted(os.sched_getaffinity(0)) == sorted(before),
}))
"""


@pytest.fixture(scope="module")
def shim_answers() -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE, str(SHIM)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_local_interpreter_gets_the_patient_limit_and_keeps_its_python(shim_answers):
    assert shim_answers["method"] == {
        "method": "local",
        "kwargs": {"python_path": ["/opt/python"], "connect_timeout": shim_answers["shim_limit"]},
    }
    # The patch only matters while it is longer than mitogen's own limit.
    assert shim_answers["shim_limit"] > 5 * shim_answers["mitogen_default"]


def test_processes_stay_free_to_run_on_every_cpu(shim_answers):
    assert shim_answers["policy"] == "Policy"  # mitogen's no-op base policy
    assert shim_answers["cpus_kept"]
