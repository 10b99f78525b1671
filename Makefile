# Two commands: `make plan` (set up + offline plan of the example environments) and `make test`.
# Both install the exact versions in constraints.txt; pyproject.toml keeps compatible ranges for consumers.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip install --quiet -c constraints.txt
RUNTIME_STAMP := $(VENV)/.installed-runtime
TEST_STAMP := $(VENV)/.installed-test

.PHONY: setup plan test bench lock

# The runtime install only: what `plan` needs (no simulator, router or test tools).
$(RUNTIME_STAMP): pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(PIP) -e .
	touch $(RUNTIME_STAMP)

$(TEST_STAMP): $(RUNTIME_STAMP)
	$(PIP) -e '.[test]'
	touch $(TEST_STAMP)

setup: $(TEST_STAMP)

plan: $(RUNTIME_STAMP)
	$(BIN)/llama-infra plan --details

test: $(TEST_STAMP)
	cd tests/tools && npm ci --silent --no-audit --no-fund
	$(BIN)/python -m pytest -n 2 -q

bench: $(TEST_STAMP)
	$(BIN)/python -m benchmarks

# Re-resolve the newest versions pyproject.toml's ranges admit and write them to constraints.txt.
lock:
	rm -rf .lock-venv && $(PY) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --upgrade pip
	.lock-venv/bin/pip install --quiet -e '.[test]'
	{ sed -n '1,3p' constraints.txt; .lock-venv/bin/pip freeze --exclude-editable; } > constraints.txt.new
	mv constraints.txt.new constraints.txt && rm -rf .lock-venv
