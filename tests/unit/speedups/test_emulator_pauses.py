"""amazon.aws's consistency pauses are skipped against the local emulator only
(ansible_plugins/preload/emulator_pauses.py)."""

from __future__ import annotations

import ast
import time
from pathlib import Path
from types import SimpleNamespace

import ansible_collections.amazon.aws.plugins.modules as amazon_modules
import pytest

from tests.unit.scripts._load import load

pauses = load("video_pipeline_emulator_pauses", "ansible_plugins/preload/emulator_pauses.py")


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:4566", True),
        ("http://127.0.0.2:4566", True),
        ("http://localhost:5000", True),
        ("http://[::1]:4566", True),
        ("https://ec2.us-east-1.amazonaws.com", False),
        ("http://10.0.0.5:4566", False),
        ("http://127.0.0.1.example.com:4566", False),
        ("", False),
        (None, False),
    ],
)
def test_loopback_endpoints(url, loopback):
    assert pauses.is_loopback_endpoint(url) is loopback


def client(endpoint_url):
    return SimpleNamespace(meta=SimpleNamespace(endpoint_url=endpoint_url))


def call_site(filename: str, function: str, client_name: str):
    """A function with amazon.aws's name and file that sleeps like the module does."""
    source = f"import time\ndef {function}({client_name}):\n    time.sleep(5)\n"
    namespace: dict = {}
    exec(compile(source, f"/somewhere/{filename}", "exec"), namespace)  # noqa: S102
    return namespace[function]


@pytest.fixture
def slept(monkeypatch):
    """The seconds each real sleep was asked for, with the skipping sleep installed on top."""
    calls: list[float] = []
    monkeypatch.setattr(time, "sleep", calls.append)
    pauses.install()
    assert time.sleep is not calls.append
    return calls


@pytest.mark.parametrize(("site", "client_name"), list(pauses.CONSISTENCY_PAUSES.items()))
def test_pause_is_skipped_against_the_emulator_and_kept_against_aws(slept, site, client_name):
    pause = call_site(*site, client_name)
    pause(client("http://127.0.0.1:4566"))
    assert slept == []
    pause(client("https://ec2.us-east-1.amazonaws.com"))
    assert slept == [5]


def test_other_sleeps_are_untouched_even_against_the_emulator(slept):
    call_site("ec2_vpc_route_table.py", "ensure_routes", "connection")(client("http://127.0.0.1:4566"))
    call_site("rds_instance.py", "ensure_route_table_present", "connection")(client("http://127.0.0.1:4566"))
    time.sleep(0.5)
    assert slept == [5, 5, 0.5]


def test_a_call_site_without_its_client_sleeps(slept):
    call_site("ec2_security_group.py", "create_ec2_security_group", "other")(client("http://127.0.0.1:4566"))
    assert slept == [5]


def test_install_twice_wraps_once(slept):
    wrapped = time.sleep
    pauses.install()
    assert time.sleep is wrapped


@pytest.mark.parametrize(("site", "client_name"), list(pauses.CONSISTENCY_PAUSES.items()))
def test_amazon_aws_still_pauses_there_with_that_client(site, client_name):
    """An amazon.aws upgrade that renames a call site would silently bring the pause back."""
    filename, function = site
    tree = ast.parse((Path(amazon_modules.__path__[0]) / filename).read_text())
    (node,) = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == function]
    calls = [n.func.id for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
    assert "sleep" in calls
    assert client_name in [arg.arg for arg in node.args.args]
