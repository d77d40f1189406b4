# The mitogen_linear strategy, found through a path relative to ansible.cfg so
# it works in any venv: mitogen keeps one Python interpreter per host alive,
# so each AWS task skips the interpreter start and the boto3 import (about
# 1.8x less CPU per run, measured on the network role). Not shipped in the
# collection (galaxy.yml build_ignore).
import builtins
import importlib.util
import os

import ansible.collections.list
import ansible_mitogen.affinity
import ansible_mitogen.connection
import ansible_mitogen.module_finder
import ansible_mitogen.planner
from ansible_mitogen.plugins.strategy.mitogen_linear import StrategyModule as MitogenLinear

# The interpreters mitogen starts inherit this environment: ../preload holds a
# sitecustomize that lets them parse each botocore service model once per run
# instead of once per task (about 30% less CPU for a full no-op run).
_PRELOAD = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "preload")
if _PRELOAD not in os.environ.get("PYTHONPATH", "").split(os.pathsep):
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (_PRELOAD, os.environ.get("PYTHONPATH")) if p)

# mitogen lists every installed collection (importing each one and parsing its
# meta/runtime.yml: the `ansible` package ships about a hundred) before the
# first run of each collection module, and caches the answer in the process.
# But every task runs in a worker process forked from the controller, so the
# cache dies with the task and the listing (~0.2 s of CPU) is paid per task.
# Listing once here, in the controller, lets every forked worker inherit it:
# ~40% less CPU per AWS task. The list cannot change during a run.
_COLLECTION_DIRS = tuple(p.decode("utf-8") for p in ansible.collections.list.list_collection_dirs())


def _load_collections(invocation):
    invocation._extra_sys_paths.update(_COLLECTION_DIRS)


ansible_mitogen.planner._load_collections = _load_collections


# Before a module's first run, mitogen compiles its source and every
# module_utils file it imports to find their imports, once per module: the
# amazon.aws module_utils are compiled again for each of the ~30 modules a
# deploy uses (~3 s of CPU per run). The same source always compiles to the
# same code, so one compile per source per run is enough.
_COMPILED = {}


def _compile_once(source, filename, mode, *args, **kwargs):
    key = (source, filename, mode, args, tuple(sorted(kwargs.items())))
    if key not in _COMPILED:
        _COMPILED[key] = builtins.compile(source, filename, mode, *args, **kwargs)
    return _COMPILED[key]


ansible_mitogen.module_finder.compile = _compile_once

# mitogen gives the local interpreter it starts 30 s to boot and answer, then
# calls the host UNREACHABLE ("Connection timed out"). On a busy 2-core machine
# a niced run can take longer than that (make test runs molecule at nice 10
# beside the integration tests; one CI run lost the database scenario to it,
# and 8 busy processes reproduce it). Starting a local Python is not a network
# connection that can be lost, so the limit only has to catch a hang.
LOCAL_CONNECT_TIMEOUT = 600.0
_connect_local = ansible_mitogen.connection.CONNECTION_METHOD["local"]


def _connect_local_patient(spec):
    method = _connect_local(spec)
    method["kwargs"].setdefault("connect_timeout", LOCAL_CONNECT_TIMEOUT)
    return method


ansible_mitogen.connection.CONNECTION_METHOD["local"] = _connect_local_patient

# mitogen pins its processes to CPUs (ansible_mitogen/affinity.py, tuned on a
# 16-thread machine). With fewer than 4 CPUs it keeps CPU 0 for its connection
# multiplexer and pins the controller, every task's worker and the module
# interpreter, which do nearly all the work, to CPU 1, in every ansible run
# on the machine. On a 2-core machine two runs side by side (the parallel
# tests, molecule) then share one core while the other idles: measured, two
# concurrent no-op deploys took 32 s wall with 38% of the CPU idle, against
# 17 s for one alone. mitogen's own no-op policy leaves placement to the
# kernel, as on machines where pinning is not available.
ansible_mitogen.affinity.policy = ansible_mitogen.affinity.Policy()

_SPEEDUPS = os.path.join(os.path.dirname(_PRELOAD), "speedups")


def _load_speedup(name):
    spec = importlib.util.spec_from_file_location(f"video_pipeline_{name}", os.path.join(_SPEEDUPS, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Each task's templates are compiled in the worker forked for it and the
# compiled code died with the worker; ../speedups keeps it on disk (see there).
jinja_compile_cache = _load_speedup("jinja_compile_cache")
jinja_compile_cache.install(_COLLECTION_DIRS)

# Filter and test names are resolved again for every task, Jinja's own ones the
# slow way: remember each answer, and learn the common ones before any fork.
jinja_plugin_names = _load_speedup("jinja_plugin_names")
jinja_plugin_names.install()


class StrategyModule(MitogenLinear):
    def run(self, iterator, play_context):
        jinja_plugin_names.warm()
        return super().run(iterator, play_context)
