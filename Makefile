# tipwatch: `make demo` and `make test` set up everything they need on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

# WeasyPrint draws the PDF through these; pdftoppm (poppler-utils) lets tests look at PDF pages;
# postgresql gives the tests a real throw-away server; chromium opens the report's web page
# headless (tests/test_report_browser.py); Spark's tests (the spark extra) need Java 17.
REPORT_DEBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
TEST_DEBS   := $(REPORT_DEBS) postgresql poppler-utils chromium openjdk-17-jre-headless

.PHONY: demo test lint bench clean debs-report debs-test

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[postgres,dev,spark,dp]'
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

bench: $(STAMP) debs-report
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/casefile.py
	$(BIN)/python benchmarks/report.py

clean:
	rm -rf $(VENV) tipwatch.duckdb tipwatch-report
