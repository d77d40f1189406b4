# The mitogen_linear strategy, found through a path relative to ansible.cfg so
# it works in any venv: mitogen keeps one Python interpreter per host alive,
# so each AWS task skips the interpreter start and the boto3 import (about
# 1.8x less CPU per run, measured on the network role). Not shipped in the
# collection (galaxy.yml build_ignore).
from ansible_mitogen.plugins.strategy.mitogen_linear import StrategyModule  # noqa: F401
