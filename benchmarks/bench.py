#!/usr/bin/env python3
"""Benchmark the pipeline's lifecycle on a fresh local emulator.

    benchmarks/bench.py [--env bench] [--phases baseline,deploy,noop,check,teardown]
                        [--roles network,streaming] [--realistic]

Phases, in this order (each one you name):
  baseline  a one-task playbook (benchmarks/one_task.yml): the yardstick; every
            phase's time is also shown as a multiple of it ("x base")
  deploy    site.yml on an empty account
  noop      site.yml again (should change nothing)
  check     site.yml --check --diff
  teardown  teardown.yml

For each phase it prints the wall time, the number of tasks (from PLAY RECAP:
ok + failed + skipped + unreachable; ok already includes changed), how many
changed, and the number of AWS API calls. The calls are counted by the emulator
proxy (scripts/emulator_proxy.py) run with --latency-scale 0: it forwards every
call to moto at once and only counts. Without the proxy the API-call column is
empty ("n/a"). After the deploy the bench counts the env's resources
(benchmarks/count_resources.yml, not counted in any phase) and shows each phase's
calls per resource.

--realistic repeats the phases on a second fresh emulator whose proxy delays
resource states like AWS (its default latency scale) and adds columns for that
run: its wall time and calls, and from the proxy's phase history (GET
/_proxy/phases) the sum of all waits (what a fully serial run waits), the
critical path (the longest chain of waits AWS forces, see DEPENDS), the time the
latency added to the run and how much of the serial waits the run hid
(benchmarks/README.md defines each). The result also goes to
benchmarks/results/<UTC timestamp>.json.

A benchmark, not a test: it asserts nothing about time. It exits non-zero only
when a phase fails (and stops after the first failed phase of a run).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
EMULATOR = REPO / "scripts" / "emulator.py"
PROXY = REPO / "scripts" / "emulator_proxy.py"
# Per-call latency of the realistic run (the proxy's default, an in-region round trip).
CALL_LATENCY_MS = 30.0
ALL_ROLES = ["network", "streaming", "database", "secrets", "ecs", "monitoring"]
PHASES = {
    "baseline": ("benchmarks/one_task.yml", []),
    "deploy": ("site.yml", []),
    "noop": ("site.yml", []),
    "check": ("site.yml", ["--check", "--diff"]),
    "teardown": ("teardown.yml", []),
}
RECAP = re.compile(
    r"^localhost\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)\s+"
    r"failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)\s+rescued=(?P<rescued>\d+)\s+ignored=(?P<ignored>\d+)",
    re.M,
)


# ---------------------------------------------------------------------------
# Critical path: which waits AWS forces to follow one another
# ---------------------------------------------------------------------------

SAME = "same"  # the earlier phase must be of the same resource (kind and id)
ANY = "any"  # any earlier phase with that key counts (the resources are not linked by id)

# LATENCY key (scripts/emulator_proxy.py) -> {key of a phase that must have ended before
# it can start: scope}. Only orderings AWS itself enforces; the playbook's own order
# does not count. Keys without an entry can start at any time.
DEPENDS: dict[str, dict[str, str]] = {
    "rds.instance.create": {
        # CreateDBInstance into a cluster needs it available (InvalidDBClusterStateFault while
        # creating or modifying). ANY: an instance's id does not name its cluster; the
        # pipeline has one cluster per env, so the chain is exact here.
        "rds.cluster.create": ANY,
        "rds.cluster.modify": ANY,
    },
    "rds.cluster.modify": {
        # ModifyDBCluster (Serverless v2 scaling) needs an available cluster.
        "rds.cluster.create": SAME,
        "rds.cluster.modify": SAME,
    },
    "rds.instance.modify": {
        # ModifyDBInstance needs an available instance.
        "rds.instance.create": SAME,
        "rds.instance.modify": SAME,
    },
    "rds.cluster.delete": {
        # An Aurora cluster can only be deleted once its instances are gone (ANY: as above).
        "rds.instance.delete": ANY,
    },
    "rds.cluster.create": {
        # A cluster of the same name can only be created once the old one is gone.
        "rds.cluster.delete": SAME,
    },
    "kinesis.reshard": {
        # UpdateShardCount needs an ACTIVE stream: after its creation and any other update.
        "kinesis.create": SAME,
        "kinesis.reshard": SAME,
        "kinesis.update": SAME,
    },
    "kinesis.update": {
        # Retention and encryption changes need an ACTIVE stream, likewise.
        "kinesis.create": SAME,
        "kinesis.reshard": SAME,
        "kinesis.update": SAME,
    },
    # No edges, on purpose:
    # - ecs.deploy after ec2.nat.create: the tasks run in public subnets with a public IP
    #   (roles/ecs/tasks/present.yml), so their image pulls do not go through the NAT.
    # - ecs.deploy after ecs.deploy: UpdateService during a deployment starts a new one
    #   that replaces it (the proxy marks the old phase superseded); nothing waits.
    # - ecs.drain, ec2.nat.delete: AWS deletes a service or NAT gateway whenever asked; what
    #   waits for them (deleting security groups, subnets, the ECS cluster) is instant.
    # - rds.instance.delete: DeleteDBInstance is accepted whatever the cluster is doing.
}


def wait_seconds(phase: dict) -> float:
    """How long the phase kept its resource busy: its length, unless a newer phase replaced it."""
    cut = phase.get("superseded_after")
    return min(phase["seconds"], cut) if cut is not None else phase["seconds"]


def critical_path(phases: list[dict]) -> tuple[float, list[dict]]:
    """Longest chain of waits DEPENDS forces, and its phases, first to last.

    cp(p) = wait(p) + max(cp(q) for q earlier in the history that p depends on, or 0);
    the critical path is max cp(p). `phases` is the proxy's history, oldest first.
    """
    best: list[tuple[float, int | None]] = []  # per phase: cp, index of the phase before it
    for i, phase in enumerate(phases):
        needs = DEPENDS.get(phase["key"], {})
        base, before = 0.0, None
        for j, earlier in enumerate(phases[:i]):
            scope = needs.get(earlier["key"])
            if scope is None or (scope == SAME and (earlier["kind"], earlier["id"]) != (phase["kind"], phase["id"])):
                continue
            if best[j][0] > base:
                base, before = best[j][0], j
        best.append((base + wait_seconds(phase), before))
    if not best:
        return 0.0, []
    last: int | None = max(range(len(best)), key=lambda i: best[i][0])
    total = best[last][0]
    chain = []
    while last is not None:
        chain.append(phases[last])
        last = best[last][1]
    return round(total, 3), chain[::-1]


def busy_seconds(phases: list[dict]) -> float:
    """Seconds during which at least one wait was running (union of the phases' intervals)."""
    total, end = 0.0, float("-inf")
    for start, stop in sorted((p["start"], p["start"] + wait_seconds(p)) for p in phases):
        if stop > end:
            total += stop - max(start, end)
            end = stop
    return round(total, 3)


def busy_after(phases: list[dict], run_seconds: float) -> float:
    """How long the last wait still ran after the playbook had ended (0 if none did).

    A role may leave a resource busy on purpose (the database role does not wait for
    its instances); such a wait is neither paid by the run nor part of added_s.
    """
    ends = [p["start"] + wait_seconds(p) for p in phases]
    return round(max(0.0, max(ends, default=0.0) - run_seconds), 3)


def summarize_waits(history: dict | None) -> dict:
    """waits_s, critical_path_s and friends from GET /_proxy/phases (None values without it)."""
    if not history:
        return {"waits_s": None, "critical_path_s": None, "busy_s": None, "critical_path": None, "waits": None}
    phases = history.get("phases", [])
    cp, chain = critical_path(phases)
    return {
        "latency_scale": history.get("scale"),
        "waits_s": round(sum(wait_seconds(p) for p in phases), 3),
        "critical_path_s": cp,
        "busy_s": busy_seconds(phases),
        "critical_path": [f"{p['key']} {p['id']}" for p in chain],
        "waits": phases,
    }


def compare(rows: list[dict], realistic: list[dict], call_latency_s: float) -> None:
    """Adds added_s, hidden_s and the wait ratio to each realistic row that has a plain twin (see README)."""
    plain = {r["phase"]: r for r in rows}
    for row in realistic:
        twin = plain.get(row["phase"])
        if twin is None or row.get("waits_s") is None:
            row["added_s"] = row["hidden_s"] = row["wait_cost_s"] = row["wait_ratio"] = None
            continue
        added = row["seconds"] - twin["seconds"]
        row["added_s"] = round(added, 1)
        row["hidden_s"] = round(min(max(row["waits_s"] - added, 0.0), row["waits_s"]), 1)
        # What the waits cost until everything is usable: the time beyond the plain run,
        # plus what was still busy after the playbook ended, minus the per-call latency
        # (that is the price of the call count, shown on its own).
        latency = (row.get("api_calls") or 0) * call_latency_s
        cost = added + (row.get("busy_after_s") or 0.0) - latency
        row["call_latency_s"] = round(latency, 1)
        row["wait_cost_s"] = round(cost, 1)
        cp = row.get("critical_path_s") or 0.0
        row["wait_ratio"] = round(cost / cp, 2) if cp > 0 else None


def add_ratios(rows: list[dict], resources: int | None) -> None:
    """Each row's time as a multiple of the baseline phase's, and its calls per resource."""
    base = next((r["seconds"] for r in rows if r["phase"] == "baseline" and r["rc"] == 0), None)
    for row in rows:
        row["x_baseline"] = round(row["seconds"] / base, 1) if base else None
        calls = row.get("api_calls")
        row["calls_per_resource"] = round(calls / resources, 2) if resources and calls is not None else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Emulator:
    """A private emulator on a free port, state in a temp dir; stops only what it started."""

    def __init__(self, mode: str):
        self.mode = mode  # plain | counting | realistic
        self.port = free_port()
        self.state = Path(tempfile.mkdtemp(prefix="bench-emulator-"))
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def _run(self, *args: str) -> str:
        env = dict(os.environ, VIDEO_PIPELINE_EMULATOR_STATE=str(self.state))
        proc = subprocess.run(
            [sys.executable, str(EMULATOR), *args, "--port", str(self.port)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=180,
        )
        if proc.returncode != 0:
            raise SystemExit(f"bench: emulator {' '.join(args)} failed:\n{proc.stdout}{proc.stderr}")
        return proc.stdout.strip()

    def start(self) -> None:
        if self.mode == "plain":
            self._run("start")
        elif self.mode == "counting":
            # Zero latency: the proxy only counts (and forwards at once).
            self._run("start", "--profile", "realistic", "--latency-scale", "0", "--call-latency-ms", "0")
        else:
            self._run("start", "--profile", "realistic", "--call-latency-ms", f"{CALL_LATENCY_MS:g}")

    def stop(self) -> None:
        self._run("stop")
        shutil.rmtree(self.state, ignore_errors=True)

    def _proxy(self, method: str, path: str) -> dict | None:
        if self.mode == "plain":
            return None
        url = f"{self.endpoint}/_proxy/{path}"  # always http://127.0.0.1:<port>
        request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return json.loads(response.read())
        except (urllib.error.URLError, OSError, ValueError):
            return None

    def reset_counts(self) -> None:
        self._proxy("POST", "reset-counts")

    def counts(self) -> dict | None:
        return self._proxy("GET", "counts")

    def phases(self) -> dict | None:
        return self._proxy("GET", "phases") if self.mode == "realistic" else None


def ansible_environ(endpoint: str) -> dict:
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
            "ANSIBLE_DEPRECATION_WARNINGS": "0",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        }
    )
    env.pop("AWS_PROFILE", None)
    return env


def parse_recap(stdout: str) -> dict:
    matches = list(RECAP.finditer(stdout))
    return {k: int(v) for k, v in matches[-1].groupdict().items()} if matches else {}


def summarize_counts(counts: dict | None) -> dict:
    if not counts:
        return {"api_calls": None, "api_mutating": None, "api_by_service": None}
    by_service = {
        service: sum(entry["requests"] for entry in operations.values())
        for service, operations in sorted(counts.get("services", {}).items())
    }
    totals = counts.get("totals", {})
    return {
        "api_calls": totals.get("requests"),
        "api_mutating": totals.get("mutating"),
        "api_by_service": by_service,
    }


def count_resources(emulator: Emulator, env_name: str, log_dir: Path) -> int | None:
    """Resources of the env right after the deploy (tagged Environment=<env> or named for it)."""
    playbook = str(Path(sys.executable).parent / "ansible-playbook")
    argv = [playbook, "benchmarks/count_resources.yml", "-e", f"env={env_name}"]
    proc = subprocess.run(
        argv, cwd=REPO, env=ansible_environ(emulator.endpoint), capture_output=True, text=True, check=False
    )
    (log_dir / f"{emulator.mode}-count.log").write_text(proc.stdout + "\n--- stderr ---\n" + proc.stderr)
    found = re.search(r"managed resources: (\d+)", proc.stdout)
    return int(found.group(1)) if found else None


def run_phase(emulator: Emulator, phase: str, env_name: str, roles: list[str] | None, log_dir: Path) -> dict:
    playbook, flags = PHASES[phase]
    argv = [str(Path(sys.executable).parent / "ansible-playbook"), playbook, "-e", f"env={env_name}", *flags]
    # The run summary (outputs/<env>.json) goes beside the logs, not over a real env's.
    extra = {"video_pipeline_outputs_dir": str(log_dir / "outputs")}
    if roles is not None:
        extra["video_pipeline_roles"] = roles
    if emulator.mode == "realistic":
        # The realistic proxy runs ECS deployments like Fargate (plain moto never
        # starts a task): the deploy then ends when the service is steady, as on AWS.
        extra["ecs_wait_for_steady_state"] = True
    argv += ["-e", json.dumps(extra)]
    emulator.reset_counts()
    started = time.monotonic()
    proc = subprocess.run(
        argv, cwd=REPO, env=ansible_environ(emulator.endpoint), capture_output=True, text=True, check=False
    )
    seconds = time.monotonic() - started
    log = log_dir / f"{emulator.mode}-{phase}.log"
    log.write_text(f"$ {' '.join(argv)}\n{proc.stdout}\n--- stderr ---\n{proc.stderr}")
    recap = parse_recap(proc.stdout)
    waits = summarize_waits(emulator.phases()) if emulator.mode == "realistic" else {}
    if waits.get("waits") is not None:
        waits["busy_after_s"] = busy_after(waits["waits"], seconds)
    tasks = sum(recap.get(k, 0) for k in ("ok", "failed", "skipped", "unreachable")) if recap else None
    return {
        "phase": phase,
        "rc": proc.returncode,
        "seconds": round(seconds, 1),
        "tasks": tasks,
        "changed": recap.get("changed"),
        "failed": recap.get("failed"),
        **summarize_counts(emulator.counts()),
        **waits,
        "log": str(log),
    }


def run_all(
    mode: str, phases: list[str], env_name: str, roles: list[str] | None, log_dir: Path
) -> tuple[list[dict], int | None]:
    """Every phase on a fresh emulator of this mode; also the env's resource count after the deploy."""
    emulator = Emulator(mode)
    emulator.start()
    results, resources = [], None
    try:
        for phase in phases:
            print(f"bench: {mode} emulator, {phase} ...", file=sys.stderr, flush=True)
            result = run_phase(emulator, phase, env_name, roles, log_dir)
            results.append(result)
            if result["rc"] != 0:
                print(f"bench: {phase} failed (rc={result['rc']}), see {result['log']}", file=sys.stderr)
                break
            if phase == "deploy" and mode != "realistic":
                resources = count_resources(emulator, env_name, log_dir)
    finally:
        emulator.stop()
    return results, resources


def default_roles() -> tuple[list[str] | None, str]:
    """All six roles when they all exist; else the ones that do (with a note)."""
    present = [r for r in ALL_ROLES if (REPO / "roles" / r / "tasks" / "main.yml").is_file()]
    if present == ALL_ROLES:
        return None, "all roles"
    return present, f"only the roles that exist yet: {', '.join(present)}"


def fmt(value, suffix: str = "") -> str:
    return "n/a" if value is None else f"{value}{suffix}"


def seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def table(rows: list[dict], realistic: list[dict] | None) -> str:
    header = ["phase", "rc", "wall s", "x base", "tasks", "changed", "API calls", "calls/res", "mutating"]
    if realistic is not None:
        header += ["realistic s", "realistic calls", "waits s", "critical path s", "added s", "hidden s"]
        header += ["wait cost s", "x critical path"]
    by_phase = {r["phase"]: r for r in realistic or []}
    lines = []
    for row in rows:
        cells = [row["phase"], str(row["rc"]), f"{row['seconds']:.1f}", fmt(row.get("x_baseline"))]
        cells += [fmt(row["tasks"]), fmt(row["changed"])]
        cells += [fmt(row["api_calls"]), fmt(row.get("calls_per_resource")), fmt(row["api_mutating"])]
        if realistic is not None:
            other = by_phase.get(row["phase"])
            if other:
                cells += [f"{other['seconds']:.1f}", fmt(other["api_calls"])]
                cells += [seconds(other.get(k)) for k in ("waits_s", "critical_path_s", "added_s", "hidden_s")]
                cells += [seconds(other.get("wait_cost_s")), fmt(other.get("wait_ratio"))]
            else:
                cells += ["-"] * 8
        lines.append(cells)
    widths = [max(len(h), *(len(c[i]) for c in lines)) for i, h in enumerate(header)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) for cells in lines]
    return "\n".join(out)


def git_commit() -> str | None:
    proc = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=False)
    return proc.stdout.strip() or None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="bench", help="environment name (default: bench)")
    parser.add_argument(
        "--phases", default="baseline,deploy,noop,check,teardown", help="comma list of " + ",".join(PHASES)
    )
    parser.add_argument("--roles", help="comma list of roles (default: all six, or those that exist yet)")
    parser.add_argument("--realistic", action="store_true", help="repeat on an emulator with AWS-like latency")
    args = parser.parse_args(argv)

    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = [p for p in phases if p not in PHASES]
    if unknown or not phases:
        parser.error(f"--phases: unknown {unknown}; choose from {', '.join(PHASES)}")
    if args.roles:
        roles = [r.strip() for r in args.roles.split(",") if r.strip()]
        if [r for r in roles if r not in ALL_ROLES]:
            parser.error(f"--roles: choose from {', '.join(ALL_ROLES)}")
        roles_note = ", ".join(roles)
    else:
        roles, roles_note = default_roles()

    proxy = PROXY.is_file()
    if args.realistic and not proxy:
        parser.error("--realistic needs scripts/emulator_proxy.py")
    mode = "counting" if proxy else "plain"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    log_dir = RESULTS / f"{stamp}-logs"
    log_dir.mkdir(parents=True, exist_ok=True)

    print(f"bench: env {args.env}, {roles_note}; phases {', '.join(phases)}", file=sys.stderr)
    if not proxy:
        print("bench: scripts/emulator_proxy.py not found: API calls are not counted", file=sys.stderr)
    rows, resources = run_all(mode, phases, args.env, roles, log_dir)
    add_ratios(rows, resources)
    realistic = run_all("realistic", phases, args.env, roles, log_dir)[0] if args.realistic else None
    if realistic is not None:
        add_ratios(realistic, resources)
        compare(rows, realistic, CALL_LATENCY_MS / 1000)

    print(table(rows, realistic))
    if resources:
        print(f"\n{resources} resources in the deployed env (calls/res divides each phase's calls by it)")
    result = {
        "timestamp": stamp,
        "commit": git_commit(),
        "env": args.env,
        "roles": roles or ALL_ROLES,
        "emulator": "proxy, latency scale 0 (counting only)" if proxy else "moto server (calls not counted)",
        "resources": resources,
        "realistic_call_latency_ms": CALL_LATENCY_MS if args.realistic else None,
        "phases": rows,
        "realistic": realistic,
    }
    out = RESULTS / f"{stamp}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nresults: {out.relative_to(REPO)} (playbook logs in {log_dir.relative_to(REPO)}/)")
    failed = [r for r in rows + (realistic or []) if r["rc"] != 0]
    expected = len(phases) * (2 if args.realistic else 1)
    return 1 if failed or len(rows) + len(realistic or []) != expected else 0


if __name__ == "__main__":
    sys.exit(main())
