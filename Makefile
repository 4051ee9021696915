# Two commands for a newcomer: `make run` (demo on SQLite) and `make test` (the whole suite).
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: install run test lint chromium bench mutation translations clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Migrate the SQLite database in instance/, load the demo inventory, print demo logins, serve on :5000.
run: install
	$(BIN)/breachdesk demo
	$(BIN)/breachdesk serve

## Headless Chromium for the browser tests, from Debian's packages when missing.
chromium:
	@command -v chromium >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

## The whole suite, on SQLite, or on PostgreSQL when BREACHDESK_DATABASE_URL names one.
test: install chromium
	$(BIN)/pytest

## Lint: ruff's rules (complexity at most 12 in the package) and its formatting (line length 120); the import
## contracts run in the suite (tests/core/test_architecture.py).
lint: install
	$(BIN)/ruff check breachdesk tests
	$(BIN)/ruff format --check breachdesk tests

## Benchmarks (not part of the test run), SQLite and PostgreSQL: the inventory import, impact and the incident page,
## obligations, notices, the dashboard, and end to end (filing to the last notice accepted). Each prints its figures
## against its goals or a baseline measured in the same run (tests/bench/README.md).
bench: install
	$(BIN)/python tests/bench/run_all.py

## Mutation testing of the rule modules (not part of `make test` or CI; minutes, not seconds): mutmut copies the
## project into mutants/, runs each mutant against the tests that reach it, and lists the survivors.
mutation: install
	$(BIN)/mutmut run --max-children 2
	$(BIN)/mutmut results

## Message catalogues (README "Translations"): extract the code's labels and the pages' messages, add the words that
## come from data (the Fides taxonomy, the rules table: breachdesk/notices/words.py), merge them into each language's
## .po (new words come untranslated), and the taxonomy's names into the English one (plain words for Fides's names),
## compile the .mo files that ship beside them.
TRANSLATED = fr
translations: install
	mkdir -p build
	$(BIN)/pybabel -q extract -F babel.cfg -k Label:1c,2 -k lazy_gettext --add-location=file --sort-output -w 120 \
	  --project=BreachDesk -o build/messages.pot .
	$(BIN)/python -m breachdesk.notices.words build/messages.pot build/plain-english.pot
	for language in $(TRANSLATED); do \
	  $(BIN)/pybabel -q update -i build/messages.pot -d breachdesk/translations -l $$language --ignore-obsolete -w 120; \
	done
	$(BIN)/pybabel -q update -i build/plain-english.pot -d breachdesk/translations -l en --ignore-obsolete -w 120
	$(BIN)/pybabel compile --statistics -d breachdesk/translations

clean:
	rm -rf $(VENV) .pytest_cache mutants
