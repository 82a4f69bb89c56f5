# The two commands a newcomer needs: `make demo` and `make test`. Both create .venv when missing
# and install the pinned dependencies (torch first, as the CPU build), so nothing else is set up by hand.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check
STAMP  := $(VENV)/.facecraft-installed
OUT    ?= demo_out

.PHONY: env demo studio test test-ui test-slow test-all lint bench clean

env: $(STAMP)

$(STAMP): requirements.txt requirements-nodeps.txt requirements-dev.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -c "import torch" 2>/dev/null || $(PIP) install -q torch==2.13.0
	$(PIP) install -q -r requirements.txt -r requirements-dev.txt
	$(PIP) install -q --no-deps -r requirements-nodeps.txt
	$(PIP) install -q --no-deps --no-build-isolation -e .
	@touch $(STAMP)

demo: env
	$(PY) -m facecraft demo -o $(OUT) $(if $(A),--a $(A)) $(if $(B),--b $(B)) $(if $(MINUTES),--minutes $(MINUTES))

# The studio (a local web app) on the project folder PROJECT; PORT=N to change the port.
PROJECT ?= facecraft-studio
studio: env
	$(PY) -m facecraft studio $(PROJECT) $(if $(PORT),--port $(PORT))

lint: env
	$(PY) -m ruff check facecraft tests benchmarks
	$(PY) -m ruff format --check facecraft tests benchmarks
	$(PY) -m mypy

test: lint
	$(PY) -m pytest -m "not slow" -q

# The end-to-end browser test of the studio: Playwright drives Debian's chromium headless (Playwright's own
# browser download needs the internet, so it is not used). Screenshots of every page go to UI_SHOTS.
CHROMIUM ?= /usr/bin/chromium
UI_SHOTS ?= /tmp/facecraft-ui-shots
test-ui: env
	@test -x $(CHROMIUM) || { SUDO=$$(test "$$(id -u)" = 0 || echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }
	FACECRAFT_UI_TESTS=1 FACECRAFT_CHROMIUM=$(CHROMIUM) FACECRAFT_UI_SHOTS=$(UI_SHOTS) \
		$(PY) -m pytest tests/test_studio_browser.py -q

test-slow: env
	$(PY) -m pytest -m slow -q

test-all: lint
	$(PY) -m pytest -q

bench: env
	@for f in benchmarks/*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) $(OUT) .mypy_cache .ruff_cache .pytest_cache
