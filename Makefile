# Each target creates .venv when it is missing; only Python 3.11+ is needed beforehand.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PLUGINS := $(wildcard plugins/*/pyproject.toml)

.PHONY: demo test test-all lint docs bench clean i18n

$(STAMP): pyproject.toml $(PLUGINS)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "mma_core needs Python 3.11 or newer")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]" $(foreach p,$(dir $(PLUGINS)),-e ./$(p))
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/mma demo

# The default suite runs every behaviour at least once and stays within a few minutes; tests marked
# 'slow' (long state-machine runs, concurrency, SIGKILL, browser, load) run in 'make test-all'.
test: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadgroup -m "not slow"

test-all: $(STAMP)
	MMA_MACHINE_EXAMPLES=200 $(PY) -m pytest -n 2 --dist loadgroup -m "slow or machine"

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests plugins bench tools
	$(VENV)/bin/ruff format --check src tests plugins bench tools
	$(VENV)/bin/mypy --strict src
	$(VENV)/bin/lint-imports --no-logo

docs: $(STAMP)
	$(VENV)/bin/mkdocs build --strict --site-dir site

bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV) site .pytest_cache .mypy_cache .ruff_cache .hypothesis mma-demo.sqlite*

# The message catalogs: extract the marked messages, bring the Dutch catalog in step, fail on any
# message without a Dutch translation, compile the .mo that ships in the package. Then the same
# for the commands' help (mma_cli, from the command tree), click's own words (click) and each
# first-party plugin that speaks Dutch (its commands' help and its marked messages).
LOCALE := src/mma_core/language/locale
i18n: $(STAMP)
	$(VENV)/bin/pybabel extract --no-location --sort-output -k _ -k _t -k N_ -k ngettext:1,2 \
		--project mma-core --copyright-holder "mma_core developers" -o $(LOCALE)/mma_core.pot src/mma_core
	$(VENV)/bin/pybabel update -D mma_core -i $(LOCALE)/mma_core.pot -d $(LOCALE) -l nl --no-fuzzy-matching
	$(PY) tools/i18n_fill.py $(LOCALE)/nl/LC_MESSAGES/mma_core.po
	$(VENV)/bin/pybabel compile -D mma_core -d $(LOCALE) -l nl
	$(PY) tools/cli_messages.py $(LOCALE)/mma_cli.pot
	$(VENV)/bin/pybabel extract --no-location --sort-output -k _ -k ngettext:1,2 --project click \
		-o $(LOCALE)/click.pot "$$($(PY) -c 'import click, os; print(os.path.dirname(click.__file__))')"
	for domain in mma_cli click; do \
		$(VENV)/bin/pybabel update -D $$domain -i $(LOCALE)/$$domain.pot -d $(LOCALE) -l nl --no-fuzzy-matching \
		&& $(PY) tools/i18n_fill.py $(LOCALE)/nl/LC_MESSAGES/$$domain.po \
		&& $(VENV)/bin/pybabel compile -D $$domain -d $(LOCALE) -l nl || exit 1; \
	done
	for package in mma_web; do \
		dir=$$(ls -d plugins/*/src/$$package)/locale; \
		$(PY) tools/cli_messages.py --package $$package $$dir/$$package.pot \
		&& $(VENV)/bin/pybabel update -D $$package -i $$dir/$$package.pot -d $$dir -l nl --no-fuzzy-matching \
		&& $(PY) tools/i18n_fill.py $$dir/nl/LC_MESSAGES/$$package.po \
		&& $(VENV)/bin/pybabel compile -D $$package -d $$dir -l nl || exit 1; \
	done
