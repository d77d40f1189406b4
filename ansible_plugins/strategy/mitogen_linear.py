# The mitogen_linear strategy, found through a path relative to ansible.cfg so
# it works in any venv: mitogen keeps one Python interpreter per host alive,
# so each AWS task skips the interpreter start and the boto3 import (about
# 1.8x less CPU per run, measured on the network role). Not shipped in the
# collection (galaxy.yml build_ignore).
import os

from ansible_mitogen.plugins.strategy.mitogen_linear import StrategyModule  # noqa: F401

# The interpreters mitogen starts inherit this environment: ../preload holds a
# sitecustomize that lets them parse each botocore service model once per run
# instead of once per task (about 30% less CPU for a full no-op run).
_PRELOAD = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "preload")
if _PRELOAD not in os.environ.get("PYTHONPATH", "").split(os.pathsep):
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (_PRELOAD, os.environ.get("PYTHONPATH")) if p)
