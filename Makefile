# minikubelet — the two commands a person needs are `make demo` and `make test`.
# Every target is idempotent and quick when there is nothing to do.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install lock docker images lint test unit demo down clean bench

install: $(STAMP)

# Exactly what requirements.lock pins, with its hashes (runtime, dev tools and the build backend), then the
# package itself with no further resolution. Re-installs only when the lock or the project's metadata changes.
PIP := $(BIN)/python -m pip --disable-pip-version-check
$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --require-hashes --no-deps -r requirements.lock
	$(PIP) install --quiet --no-deps --no-build-isolation -e .
	@$(PIP) check
	@touch $(STAMP)

# Refresh requirements.lock on purpose: the newest releases within pyproject.toml's ranges, then the whole
# suite on them (docs/development.md). PIP_TOOLS pins the tool that writes the lock.
PIP_TOOLS ?= pip-tools==7.7.0
lock:
	@test -x $(VENV)-lock/bin/pip-compile || { $(PYTHON) -m venv $(VENV)-lock && $(VENV)-lock/bin/python -m pip install --quiet $(PIP_TOOLS); }
	$(VENV)-lock/bin/pip-compile --quiet --upgrade --extra dev --build-deps-for editable --generate-hashes --strip-extras \
		--allow-unsafe --no-emit-index-url --no-emit-find-links --output-file requirements.lock pyproject.toml
	$(MAKE) test

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
	rm -rf $(VENV) $(VENV)-lock .pytest_cache .mypy_cache .ruff_cache .hypothesis
