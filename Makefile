# minikubelet — the two commands a person needs are `make demo` and `make test`.
# Every target is idempotent and quick when there is nothing to do.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install docker images lint test unit demo down clean bench

install: $(STAMP)

# Re-install only when the project's metadata changes.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

# A Docker engine that answers `docker info` (installs and starts dockerd as root when none runs).
docker:
	@bash scripts/ensure-docker.sh

# The local images the tests and the demo use (no registry is reachable).
images: docker
	@bash scripts/build-images.sh

lint: install
	$(BIN)/ruff check minikubelet tests benchmarks docs
	$(BIN)/mypy --strict minikubelet docs/generate_tutorial.py
	$(BIN)/lint-imports

# Fast tests that need no Docker engine.
unit: install
	$(BIN)/pytest -q -m "not docker"

test: install docker images lint
	$(BIN)/pytest -q

# Validate every example, start the node (idempotent), run the tutorial's echo pod on Docker and show it.
demo: install images
	@MINIKUBELET=$(BIN)/minikubelet PYTHON=$(BIN)/python sh scripts/demo.sh

# Stop the node the demo started (pods stay, as after `minikubelet down`).
down: install
	$(BIN)/minikubelet down

# Benchmarks against raw Docker and podman (benchmarks/README.md): prints tables and rewrites the suite's section of
# docs/benchmarks.md. Takes 20 to 30 minutes; BENCH_ARGS passes options (e.g. BENCH_ARGS="--reps 3 --only pod-start").
BENCH_ARGS ?=
bench: install images
	@bash scripts/ensure-podman.sh
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check py-spy
	@# Byte-compile the package as a wheel install does: the editable install leaves that to the first run, which
	@# PYTHONDONTWRITEBYTECODE (set on some machines) forbids, and every CLI start would then compile its modules.
	@$(BIN)/python -m compileall -q minikubelet
	$(BIN)/python benchmarks/bench_suite.py --write-docs --profile-missed $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
