"""The strategy shim gives mitogen's local interpreter time to start on a busy machine.

mitogen's own limit (30 s) made a niced molecule run UNREACHABLE under load.
The shim is loaded in a child interpreter: it installs process-wide patches.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SHIM = Path(__file__).resolve().parents[3] / "ansible_plugins" / "strategy" / "mitogen_linear.py"

PROBE = """
import importlib.util, json, sys
import mitogen.parent
from ansible.plugins.loader import init_plugin_loader
init_plugin_loader()  # the shim lists collections, as it does inside ansible-playbook
spec = importlib.util.spec_from_file_location("shim", sys.argv[1])
shim = importlib.util.module_from_spec(spec)
spec.loader.exec_module(shim)
import ansible_mitogen.connection as connection

class Spec:
    def python_path(self):
        return ["/opt/python"]

method = connection.CONNECTION_METHOD["local"](Spec())
print(json.dumps({
    "method": method,
    "shim_limit": shim.LOCAL_CONNECT_TIMEOUT,
    "mitogen_default": mitogen.parent.Options.connect_timeout,
}))
"""


def test_local_interpreter_gets_the_patient_limit_and_keeps_its_python():
    out = subprocess.run([sys.executable, "-c", PROBE, str(SHIM)], capture_output=True, text=True, check=True)
    answer = json.loads(out.stdout.strip().splitlines()[-1])
    assert answer["method"] == {
        "method": "local",
        "kwargs": {"python_path": ["/opt/python"], "connect_timeout": answer["shim_limit"]},
    }
    # The patch only matters while it is longer than mitogen's own limit.
    assert answer["shim_limit"] > 5 * answer["mitogen_default"]
