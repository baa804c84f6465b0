# Two commands on a fresh machine (Python 3.11 and git): `make demo`, `make test`; `make test-fast` to iterate.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
# calibration-client (the pipeline's CALCAT client) pins requests<2.30, EXtra needs a newer one:
# the client gets its own environment; tests run its calls there against `calcat-git serve`.
CLIENT_VENV := .venv-client
CLIENT_STAMP := $(CLIENT_VENV)/.installed
CLIENT_PACKAGE := calibration-client==11.4.0

.PHONY: demo test test-fast lint docs clean chromium nginx site

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# setuptools' "Editable installation" note is information only (a flat layout); everything else it says is shown.
EDITABLE := PYTHONWARNINGS="ignore:Editable installation"

$(STAMP): $(BIN)/python pyproject.toml
	$(EDITABLE) $(BIN)/python -m pip install --quiet -e .
	touch $@

$(TEST_STAMP): $(STAMP) $(CLIENT_STAMP)
	$(EDITABLE) $(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

$(CLIENT_STAMP):
	$(PYTHON) -m venv $(CLIENT_VENV)
	$(CLIENT_VENV)/bin/python -m pip install --quiet '$(CLIENT_PACKAGE)'
	touch $@

demo: $(STAMP)
	@echo "== validate the embedded European XFEL catalog"
	$(BIN)/calcat-git validate .
	@echo "== mapping of SPB_DET_AGIPD1M-1 as it was on 2020-01-07"
	$(BIN)/calcat-git mapping SPB_DET_AGIPD1M-1 --event-at 2020-01-07T12:00:00Z
	@echo "== constants: write the demo store (.store, see calcat-git.yaml), check it, look up"
	$(BIN)/python -m calcat_git.demo.constants --store .store --show
	$(BIN)/calcat-git verify-store
	$(BIN)/calcat-git lookup MID_DET_AGIPD1M-1 --event-at 2024-03-01T00:00:00Z --calibration Offset \
		--condition "Sensor Bias Voltage=300" --condition "Memory cells=202" --condition "Acquisition rate=1.1" \
		--condition "Gain setting=0" --condition "Gain mode=0"
	@echo "== replay the catalog's history with historical commit times into .demo/catalog: snapshot vs validity"
	$(BIN)/python -m calcat_git.demo --out .demo/catalog

lint: $(TEST_STAMP)
	$(BIN)/ruff check calcat_git tests
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint chromium nginx
	$(BIN)/python -m pytest

# The edit-test loop: every test not marked slow (mark a test taking more than ~1 s with @pytest.mark.slow), with
# hypothesis's dev profile (a fifth of the examples; tests/conftest.py). `make test` runs all with the ci profile.
test-fast: $(TEST_STAMP)
	$(BIN)/python -m pytest -m "not slow" -q --hypothesis-profile=dev

# Browser tests drive Debian's chromium (never a downloaded browser): installed here as root, else explained.
CHROMIUM_HINT := the browser tests need Debian's chromium at /usr/bin/chromium: install it once with \
	'sudo apt-get install chromium', or run 'CALCAT_GIT_SKIP_BROWSER=1 make test' to skip them
chromium:
	@echo "== make test needs Python >= 3.11, git and Debian's chromium (browser tests)"
	@if [ "$$CALCAT_GIT_SKIP_BROWSER" = 1 ] || [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "make test: $(CHROMIUM_HINT)" >&2; exit 1; fi

# The scale-out test puts Debian's nginx in front of the servers: installed here as root, else explained.
nginx:
	@if [ "$$CALCAT_GIT_SKIP_NGINX" = 1 ] || command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null; \
	else echo "make test: the scale-out test needs Debian's nginx: 'sudo apt-get install nginx-light' (it is skipped without)" >&2; fi

site: $(STAMP)
	$(BIN)/calcat-git site build

docs: $(STAMP)
	$(BIN)/python -m calcat_git.cli.doc

clean:
	rm -rf $(VENV) $(CLIENT_VENV) .pytest_cache .mypy_cache .ruff_cache
