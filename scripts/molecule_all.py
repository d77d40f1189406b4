#!/usr/bin/env python
"""Run every molecule scenario of the collection against one private emulator.

    scripts/molecule_all.py [-s SCENARIO ...] [-x SCENARIO ...] [-j JOBS] [--command test|converge|verify|destroy|...]

Starts ONE moto server on a free loopback port (scripts/emulator.py, state in a
temp dir), exports AWS_ENDPOINT_URL so the inventory (inventories/local) points
every playbook at it, runs `molecule <command> -s <scenario>` for each scenario
under extensions/molecule/ (two at a time by default; each uses its own env
name, so they cannot clash),
stops the emulator, prints how long each scenario and each step took, and
exits non-zero when any scenario failed.

Run it with the project's venv python (`make molecule` does): molecule and
ansible-playbook are taken from that venv.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = REPO / "extensions" / "molecule"
VENV_BIN = Path(sys.executable).parent
# molecule announces each step as "INFO     [<scenario> > <step>] Executing" (molecule 26).
PRINT_LOCK = threading.Lock()
STEP_LINE = re.compile(r"\[(?P<scenario>[\w./-]+) > (?P<step>\w+)\] Executing")
# Where ansible says why a playbook failed: a task's "fatal:" (failed or
# UNREACHABLE) and ansible's own "[ERROR]:" lines (2.19; "ERROR!" before it).
FAILURE_LINE = re.compile(r"^(fatal: |\[ERROR\]|ERROR!)")
FAILURE_CONTEXT = 12
FAILURE_EXCERPT_MAX = 80


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def emulator(action: str, port: int, state: Path) -> None:
    env = dict(os.environ, VIDEO_PIPELINE_EMULATOR_STATE=str(state))
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "emulator.py"), action, "--port", str(port)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if proc.returncode != 0:
        raise SystemExit(f"emulator {action} failed:\n{proc.stdout}{proc.stderr}")


# The slowest scenarios start first, so the side-by-side jobs end together.
SLOWEST_FIRST = ["full", "ecs", "secrets", "database", "monitoring"]


def scenario_names() -> list[str]:
    names = sorted(p.parent.name for p in SCENARIOS.glob("*/molecule.yml"))
    return sorted(names, key=lambda n: SLOWEST_FIRST.index(n) if n in SLOWEST_FIRST else len(SLOWEST_FIRST))


def molecule_env(endpoint: str) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            # molecule calls `ansible-playbook` from PATH: the venv's, always.
            "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
            "MOLECULE_PROJECT_DIRECTORY": str(REPO),
            "ANSIBLE_FORCE_COLOR": "0",
            "NO_COLOR": "1",
        }
    )
    env.pop("AWS_PROFILE", None)
    env.pop("ANSIBLE_CONFIG", None)  # the scenarios name the repository's ansible.cfg themselves
    return env


def failure_excerpt(lines: list[str]) -> list[str]:
    """The lines of a failed scenario's output that say why it failed.

    Each failure line with the lines after it (the message), in order, at most
    FAILURE_EXCERPT_MAX lines; the output's last lines when none is found.
    The summary repeats them at the very end, where a CI log's tail shows them:
    the destroy step that follows a failure prints hundreds of lines.
    """
    keep: set[int] = set()
    for index, line in enumerate(lines):
        if FAILURE_LINE.match(line):
            keep.update(range(index, min(index + FAILURE_CONTEXT, len(lines))))
    if not keep:
        return lines[-FAILURE_CONTEXT:]
    return [lines[index] for index in sorted(keep)][:FAILURE_EXCERPT_MAX]


def run_scenario(
    name: str, command: str, env: dict, stream: bool, nice: int = 0
) -> tuple[int, float, list[tuple[str, float]], list[str]]:
    """Run one scenario; return rc, total seconds, per-step seconds and its output.

    With stream, its output goes to stdout line by line; otherwise (scenarios
    running side by side) it is printed as one block when the scenario ends.
    """
    argv = (["nice", "-n", str(nice)] if nice else []) + [str(VENV_BIN / "molecule"), command, "-s", name]
    started = time.monotonic()
    steps: list[tuple[str, float]] = []
    lines: list[str] = []
    if stream:
        print(f"\n=== molecule {command} -s {name}", flush=True)
    with subprocess.Popen(
        argv, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            if stream:
                sys.stdout.write(line)
            lines.append(line)
            match = STEP_LINE.search(line)
            if match:
                steps.append((match.group("step"), time.monotonic()))
        rc = proc.wait()
    ended = time.monotonic()
    if not stream:
        with PRINT_LOCK:
            print(f"\n=== molecule {command} -s {name} (rc={rc})", flush=True)
            sys.stdout.write("".join(lines))
            sys.stdout.flush()
    durations = [(step, (steps[i + 1][1] if i + 1 < len(steps) else ended) - at) for i, (step, at) in enumerate(steps)]
    return rc, ended - started, durations, lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("-s", "--scenario", action="append", help="run only this scenario (repeatable)")
    parser.add_argument("-x", "--exclude", action="append", default=[], help="skip this scenario (repeatable)")
    parser.add_argument("--command", default="test", help="molecule command to run (default: test)")
    parser.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=2,
        help="scenarios run side by side (default 2: one scenario is a serial chain of playbook runs that keeps"
        " about one core busy; each uses its own env name, so they cannot clash)",
    )
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="run the scenarios at this lower CPU priority (the emulator they share is not niced);"
        " `make test` uses 10 so the integration tests, its longest part, go first",
    )
    args = parser.parse_args()

    names = [name for name in args.scenario or scenario_names() if name not in args.exclude]
    unknown = sorted((set(names) | set(args.exclude)) - set(scenario_names()))
    if unknown:
        raise SystemExit(f"no such scenario: {', '.join(unknown)} (have: {', '.join(scenario_names())})")
    if not names:
        raise SystemExit(f"no scenarios under {SCENARIOS}")

    port = free_port()
    with tempfile.TemporaryDirectory(prefix="molecule-emulator-") as state:
        emulator("start", port, Path(state))
        try:
            env = molecule_env(f"http://127.0.0.1:{port}")
            jobs = max(1, min(args.jobs, len(names)))
            with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
                futures = [pool.submit(run_scenario, name, args.command, env, jobs == 1, args.nice) for name in names]
                results = [(name, *future.result()) for name, future in zip(names, futures, strict=True)]
        finally:
            emulator("stop", port, Path(state))

    print("\n=== molecule summary")
    for name, rc, total, steps, _ in results:
        detail = ", ".join(f"{step} {secs:.1f}s" for step, secs in steps)
        print(f"{name}: {'ok' if rc == 0 else f'FAILED (rc={rc})'} in {total:.1f}s ({detail})")
    failed = [(name, lines) for name, rc, _, _, lines in results if rc != 0]
    for name, lines in failed:
        print(f"\n=== why {name} failed (from its output above)")
        sys.stdout.write("".join(failure_excerpt(lines)))
    sys.stdout.flush()
    if failed:
        print(f"failed scenarios: {', '.join(name for name, _ in failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
