"""Import scripts/emulator_proxy.py and benchmarks/bench.py, which are not packages."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[3]


def load(name: str, relative: str) -> ModuleType:
    """The module at REPO/relative as `name`, loaded once (tests/unit/test_emulator_proxy.py shares it)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / relative)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module
