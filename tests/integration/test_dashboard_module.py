"""streamflix.video_pipeline.cloudwatch_dashboard run by ansible against the emulator.

Each step runs the module the way a playbook would (ad-hoc `ansible localhost -m`),
then reads the dashboard back with boto3.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from tests.integration.helpers import REPO, VENV_BIN, ansible_env, new_env

RESULT = re.compile(r"^localhost \| (?P<status>[A-Z]+)!? => (?P<json>\{.*)", re.M | re.S)

BODY = {
    "widgets": [
        {
            "type": "metric",
            "x": 0,
            "y": 0,
            "width": 12,
            "height": 6,
            "properties": {
                "title": "Incoming records",
                "region": "us-east-1",
                "stat": "Sum",
                "period": 300,
                "metrics": [["AWS/Kinesis", "IncomingRecords", "StreamName", "s1"]],
            },
        }
    ]
}


def run_module(endpoint, check=False, diff=False, **args):
    """Run the module once; return (changed, result dict, full output)."""
    args = dict(args, endpoint_url=endpoint, region="us-east-1")  # credentials: from ansible_env
    argv = [str(VENV_BIN / "ansible"), "localhost", "-m", "streamflix.video_pipeline.cloudwatch_dashboard"]
    argv += ["-a", json.dumps(args)]
    if check:
        argv.append("--check")
    if diff:
        argv.append("--diff")
    env = ansible_env(endpoint, {"ANSIBLE_STDOUT_CALLBACK": "minimal", "ANSIBLE_CALLBACK_RESULT_FORMAT": "json"})
    proc = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)
    match = RESULT.search(proc.stdout)
    assert match, f"no module result in output:\n{proc.stdout}\n{proc.stderr}"
    status = match.group("status")
    # With --diff the minimal callback prints the diff after the JSON result.
    result, _end = json.JSONDecoder().raw_decode(match.group("json"))
    assert status in ("CHANGED", "SUCCESS"), f"{status}: {proc.stdout}\n{proc.stderr}"
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return status == "CHANGED", result, proc.stdout


@pytest.fixture
def name():
    return f"dash-{new_env('d')}"


def current_body(aws, name):
    return json.loads(aws("cloudwatch").get_dashboard(DashboardName=name)["DashboardBody"])


def exists(aws, name):
    entries = aws("cloudwatch").list_dashboards(DashboardNamePrefix=name)["DashboardEntries"]
    return any(entry["DashboardName"] == name for entry in entries)


def test_lifecycle(endpoint, aws, name):
    # check mode on a missing dashboard: reports the creation, writes nothing
    changed, result, output = run_module(endpoint, check=True, dashboard_name=name, dashboard_body=BODY)
    assert changed
    assert not exists(aws, name)

    # create (body given as a JSON string)
    changed, result, output = run_module(endpoint, dashboard_name=name, dashboard_body=json.dumps(BODY))
    assert changed
    assert result["dashboard_name"] == name
    assert result["dashboard_arn"].endswith(f":dashboard/{name}")
    assert result["dashboard_body"] == BODY
    assert current_body(aws, name) == BODY

    # same body again, as a dict and with another key order: no change
    reordered = {"widgets": [dict(reversed(list(BODY["widgets"][0].items())))]}
    changed, result, output = run_module(endpoint, dashboard_name=name, dashboard_body=reordered)
    assert not changed
    assert result["dashboard_arn"].endswith(f":dashboard/{name}")

    # a real change, first in check mode with a diff (not written), then for real
    wanted = json.loads(json.dumps(BODY))
    wanted["widgets"][0]["properties"]["stat"] = "Average"
    changed, result, output = run_module(endpoint, check=True, diff=True, dashboard_name=name, dashboard_body=wanted)
    assert changed
    assert re.search(r'^-\s+"stat": "Sum",?$', output, re.M), output
    assert re.search(r'^\+\s+"stat": "Average",?$', output, re.M), output
    assert current_body(aws, name) == BODY

    changed, result, output = run_module(endpoint, dashboard_name=name, dashboard_body=wanted)
    assert changed
    assert current_body(aws, name) == wanted
    changed, result, output = run_module(endpoint, check=True, diff=True, dashboard_name=name, dashboard_body=wanted)
    assert not changed

    # delete: check mode keeps it, then it goes, then a second delete changes nothing
    changed, result, output = run_module(endpoint, check=True, dashboard_name=name, state="absent")
    assert changed
    assert exists(aws, name)
    changed, result, output = run_module(endpoint, dashboard_name=name, state="absent")
    assert changed
    assert result["dashboard_arn"] == ""
    assert not exists(aws, name)
    changed, result, output = run_module(endpoint, dashboard_name=name, state="absent")
    assert not changed


def test_invalid_body_fails_without_writing(endpoint, aws, name):
    args = {"dashboard_name": name, "dashboard_body": "{not json", "endpoint_url": endpoint, "region": "us-east-1"}
    argv = [str(VENV_BIN / "ansible"), "localhost", "-m", "streamflix.video_pipeline.cloudwatch_dashboard"]
    argv += ["-a", json.dumps(args)]
    proc = subprocess.run(
        argv, cwd=REPO, env=ansible_env(endpoint), capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode != 0
    assert "not valid JSON" in proc.stdout
    assert not exists(aws, name)
