"""The profile files are the documented contract: aligned keys, sane values, README in sync."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
PROFILE_DIR = REPO / "playbooks" / "vars" / "profiles"


def load(name):
    return yaml.safe_load((PROFILE_DIR / f"{name}.yml").read_text())


def test_every_profile_has_the_same_keys():
    keys = set(load("dev"))
    for name in ("staging", "prod", "ephemeral"):
        assert set(load(name)) == keys, name


def test_ephemeral_envs_are_sized_like_dev():
    assert load("ephemeral") == load("dev")


def test_prod_protects_its_data():
    prod = load("prod")
    assert prod["aurora_deletion_protection"] is True
    assert prod["aurora_final_snapshot"] is True
    assert prod["aurora_instance_count"] == 2
    assert prod["aurora_min_capacity"] > 0, "prod never pauses"


def test_auto_pause_only_with_min_zero():
    for name in ("dev", "staging", "prod", "ephemeral"):
        profile = load(name)
        if profile["aurora_seconds_until_auto_pause"] is not None:
            assert profile["aurora_min_capacity"] == 0, name


def test_readme_table_matches_the_profile_files():
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "profiles_table.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
