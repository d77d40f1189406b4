"""Make `ansible_collections.streamflix.video_pipeline` importable in unit tests; shared fixtures."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / ".collections"))


class FakeClock:
    """A clock the test moves by hand (`clock.now += 20`), for the emulator proxy's latency states."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
