# tipwatch: `make demo` and `make test` set up everything they need on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

# WeasyPrint draws the PDF through these; pdftoppm (poppler-utils) lets tests look at PDF pages;
# postgresql gives the tests a real throw-away server.
REPORT_DEBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
TEST_DEBS   := $(REPORT_DEBS) postgresql poppler-utils

.PHONY: demo test lint bench clean debs-report debs-test

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[postgres,dev]'
	touch $@

debs-report:
	@scripts/ensure-debian.sh $(REPORT_DEBS)

debs-test:
	@scripts/ensure-debian.sh $(TEST_DEBS)

demo: $(STAMP) debs-report
	$(BIN)/tipwatch demo --out tipwatch-report

test: $(STAMP) debs-test
	$(BIN)/pytest -q -n 2

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/casefile.py

clean:
	rm -rf $(VENV) tipwatch.duckdb tipwatch-report
