#!/usr/bin/env python
"""Run ansible-test (sanity, units) on this checkout, offline-safe.

    scripts/ansible_test.py sanity [units] [--test NAME ...] [--fresh] [-- extra ansible-test args]

ansible-test only works on a collection that physically sits at
.../ansible_collections/streamflix/video_pipeline (it reads the real cwd; a
symlink is not enough). This script therefore:

1. copies the files git knows about (tracked, plus untracked-but-not-ignored,
   so it works before a commit) into
   ~/.cache/streamflix-video_pipeline/ansible-test-<hash of this path>/
   ansible_collections/streamflix/video_pipeline (outside any git work tree;
   kept between runs and synced, so ansible-test's own venv in it is reused);
2. links amazon.aws and community.aws from the venv's site-packages into the
   same ansible_collections tree (ansible-test sets ANSIBLE_COLLECTIONS_PATH to
   that tree only, so they would not be found otherwise);
3. places a stand-in for the pip bootstrap script in
   ~/.ansible/test/cache/get_pip_<version>.py: ansible-test downloads the real
   one from a host that this machine (and CI) cannot reach, and looks in that
   cache first. The stand-in bootstraps pip with ensurepip, then installs the
   exact pip version (and whatever else ansible-test asks for) from the
   package index;
4. runs `ansible-test <command> --venv --python 3.11` there and exits non-zero
   when any command fails.

Run it with the project's venv python (`make sanity` does): ansible-test is
taken from that venv.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NAMESPACE, NAME = "streamflix", "video_pipeline"
PYTHON_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"

# Paths never copied into the test tree. .collections holds a self-link
# (../../..) that would make the copied tree contain itself.
EXCLUDE_PREFIXES = (".collections/",)
# Outside this git work tree: inside it (even in an ignored directory) ansible-test
# lists files with git, finds none and skips every test. Kept between runs.
WORKDIR = (
    Path.home() / ".cache" / "streamflix-video_pipeline" / f"ansible-test-{hashlib.sha256(bytes(REPO)).hexdigest()[:8]}"
)

# Sanity tests skipped on purpose. Each needs a reason; keep this list empty
# unless a test cannot work here at all.
SKIPPED_SANITY_TESTS: dict[str, str] = {}

GET_PIP_STAND_IN = '''\
"""Stand-in for the get-pip.py bootstrap script that ansible-test downloads.

Written by scripts/ansible_test.py: the download host is unreachable offline.
ansible-test runs this with the arguments it would pass to get-pip.py
(pip options and pinned packages such as pip==X.Y).
"""
import os
import subprocess
import sys

# get-pip.py-only switches that `pip install` does not know.
GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}

env = dict(os.environ)
subprocess.run([sys.executable, "-m", "ensurepip", "--default-pip"], check=True, env=env)
# ansible-test points PIP_CONFIG_FILE at /dev/null, which hides the machine's
# pip.conf (index URL, certificates): drop it for the real install.
env.pop("PIP_CONFIG_FILE", None)
args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
sys.exit(subprocess.run([sys.executable, "-m", "pip", "install", *args], check=False, env=env).returncode)
'''


def site_packages() -> Path:
    import ansible_collections.amazon.aws

    return Path(ansible_collections.amazon.aws.__path__[0]).parents[2]


def ansible_test_bin() -> Path:
    path = Path(sys.executable).parent / "ansible-test"
    if not path.exists():
        raise SystemExit(f"ansible-test not found next to {sys.executable}: run with the project's venv python")
    return path


def bootstrap_pip_versions() -> set[str]:
    """The pip versions ansible-test will ask get-pip.py for (read from its source)."""
    # Not `import ansible_test`: that name is this script when run from scripts/.
    source = site_packages() / "ansible_test" / "_internal" / "python_requirements.py"
    text = source.read_text()
    block = text[text.index("def get_venv_packages") :]
    versions = set(re.findall(r"pip='([0-9.]+)'", block))
    if not versions:
        raise SystemExit(f"cannot find the bootstrap pip version in {source}; ansible-test changed, update this script")
    return versions


def install_get_pip_stand_in() -> None:
    cache = Path.home() / ".ansible" / "test" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    for version in bootstrap_pip_versions():
        path = cache / f"get_pip_{version.replace('.', '_')}.py"
        if not path.exists() or path.read_text() != GET_PIP_STAND_IN:
            path.write_text(GET_PIP_STAND_IN)


def collection_files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        check=True,
        capture_output=True,
    ).stdout.decode()
    files = []
    for rel in sorted(set(filter(None, out.split("\0")))):
        if rel.startswith(EXCLUDE_PREFIXES):
            continue
        # Deleted but not yet committed files are still in the index.
        if not (REPO / rel).is_file() or (REPO / rel).is_symlink():
            continue
        files.append(rel)
    return files


def _signature(stat: os.stat_result) -> tuple[int, int, int]:
    return stat.st_size, stat.st_mtime_ns, stat.st_mode


def sync_tree(root: Path) -> Path:
    """Make root/ansible_collections/streamflix/video_pipeline an exact copy of the collection's files.

    The tree is kept between runs (only changed files are copied, vanished ones
    removed) because ansible-test keeps its delegation venv in the tree's
    tests/output: a fresh tree costs a pip bootstrap on every run.
    """
    collections = root / "ansible_collections"
    dest = collections / NAMESPACE / NAME
    wanted = set(collection_files())
    if dest.exists():
        for path in sorted(dest.rglob("*"), reverse=True):
            rel = path.relative_to(dest).as_posix()
            if rel == "tests/output" or rel.startswith("tests/output/"):
                continue  # ansible-test's own state
            if path.is_dir() and not path.is_symlink():
                if not any(path.iterdir()):
                    path.rmdir()
            elif rel not in wanted:
                path.unlink()
    for rel in sorted(wanted):
        source, target = REPO / rel, dest / rel
        stat = source.stat()
        if target.exists() and _signature(target.stat()) == _signature(stat):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    for namespace, name in (("amazon", "aws"), ("community", "aws")):
        link = collections / namespace / name
        source = site_packages() / "ansible_collections" / namespace / name
        if link.is_symlink() and link.resolve() == source.resolve():
            continue
        if link.is_symlink():
            link.unlink()
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(source, target_is_directory=True)
    return dest


def run(command: list[str], cwd: Path) -> int:
    env = dict(os.environ)
    # The venv's bin first, so ansible-test finds the same ansible-core.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("ANSIBLE_CONFIG", None)
    print(f"$ {' '.join(command)}", flush=True)
    started = time.monotonic()
    rc = subprocess.run(command, cwd=cwd, env=env, check=False).returncode
    print(f"[{' '.join(command[1:3])}] rc={rc} in {time.monotonic() - started:.1f}s", flush=True)
    return rc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("commands", nargs="+", choices=["sanity", "units"])
    parser.add_argument("--test", action="append", default=[], help="sanity: run only this test (repeatable)")
    parser.add_argument("--workdir", default=str(WORKDIR), help="collection copy (default: %(default)s)")
    parser.add_argument("--fresh", action="store_true", help="delete the copy (and ansible-test's state in it) first")
    parser.add_argument("--local", action="store_true", help="--local instead of --venv (needs the tools installed)")
    argv = sys.argv[1:]
    # Everything after `--` goes to ansible-test unchanged.
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = parser.parse_args(argv[: argv.index("--")] if "--" in argv else argv)

    install_get_pip_stand_in()
    root = Path(args.workdir).resolve()
    if args.fresh and root.exists():
        shutil.rmtree(root)
    dest = sync_tree(root)
    inside_git = subprocess.run(
        ["git", "rev-parse", "--is-inside-work-tree"], cwd=dest, capture_output=True, text=True, check=False
    )
    if inside_git.stdout.strip() == "true":
        raise SystemExit(f"{dest} is inside a git work tree: ansible-test would find no files there; use --workdir")
    env_args = ["--local"] if args.local else ["--venv"]
    common = [*env_args, "--python", PYTHON_VERSION, "--color", "no"]
    failures = []
    for command in args.commands:
        argv = [str(ansible_test_bin()), command, *common]
        if command == "sanity":
            argv += [f"--test={name}" for name in args.test]
            argv += [f"--skip-test={name}" for name in SKIPPED_SANITY_TESTS]
            # The gate is about the collection's plugins (what Galaxy users run);
            # scripts and tests have ruff and pytest. Pass targets after `--` to widen it.
            argv += extra or ["plugins/"]
        else:
            argv += extra
        if run(argv, dest) != 0:
            failures.append(command)
    if failures:
        print(f"ansible-test failed: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
