"""How fast manifests load: parse + decode + default + validate, per document.

Run: `.venv/bin/python benchmarks/bench_manifests.py` (prints a table; numbers are machine-dependent).
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from minikubelet.api.loading import load_text

MANIFESTS = Path(__file__).resolve().parents[1] / "manifests"
ROUNDS = 200


def measure(text: str, source: str) -> list[float]:
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        load_text(text, source)
        samples.append((time.perf_counter() - start) * 1000)
    return sorted(samples)


def main() -> None:
    print(f"{'manifest':<28} {'min ms':>8} {'median ms':>10} {'p99 ms':>8}")
    for path in sorted(MANIFESTS.glob("*.yml")) + sorted((MANIFESTS / "invalid").glob("*.yml")):
        samples = measure(path.read_text(), str(path))
        p99 = samples[int(len(samples) * 0.99) - 1]
        name = str(path.relative_to(MANIFESTS))
        print(f"{name:<28} {samples[0]:>8.3f} {statistics.median(samples):>10.3f} {p99:>8.3f}")


if __name__ == "__main__":
    main()
