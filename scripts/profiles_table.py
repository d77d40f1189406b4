#!/usr/bin/env python3
"""Print the environment-profile table for the README from playbooks/vars/profiles/.

    scripts/profiles_table.py            # print the Markdown table
    scripts/profiles_table.py --check    # exit 1 if README.md's table differs

The profile files are the source of truth; a unit test runs --check so the
README can never drift from them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
PROFILES = ["dev", "staging", "prod", "ephemeral"]
BEGIN = "<!-- profiles-table:begin -->"
END = "<!-- profiles-table:end -->"


def load_profiles() -> dict[str, dict]:
    return {name: yaml.safe_load((REPO / "playbooks/vars/profiles" / f"{name}.yml").read_text()) for name in PROFILES}


def cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def table() -> str:
    profiles = load_profiles()
    keys = list(profiles["dev"])
    for name, profile in profiles.items():
        if list(profile) != keys:
            raise SystemExit(f"profile {name} has keys {sorted(profile)}; dev has {sorted(keys)}: keep them aligned")
    lines = [
        "| setting | "
        + " | ".join(f"`{p}`" if p != "ephemeral" else "other names (`pr-123`)" for p in PROFILES)
        + " |",
        "|---|" + "---|" * len(PROFILES),
    ]
    lines += [f"| `{key}` | " + " | ".join(cell(profiles[p][key]) for p in PROFILES) + " |" for key in keys]
    return "\n".join(lines)


def readme_table() -> str:
    text = (REPO / "README.md").read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"README.md lacks the {BEGIN} / {END} markers")
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    if args.check:
        if readme_table() != table():
            print("README.md's profile table differs from playbooks/vars/profiles/: run scripts/profiles_table.py")
            return 1
        return 0
    print(table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
