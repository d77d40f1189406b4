"""Make `ansible_collections.streamflix.video_pipeline` importable in unit tests."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / ".collections"))
