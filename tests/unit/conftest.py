"""Make `tests/unit` importable, so that test modules can `from builders import make_pod`."""

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
