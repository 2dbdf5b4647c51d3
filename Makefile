# Two commands: `make run` and `make test`. Both set up everything they need first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PYTEST_ARGS ?=

.PHONY: run test setup assets lint format bench bench-matching bench-pages bench-documents \
	bench-tools load clean

run: setup
	$(FLASK) db upgrade
	$(FLASK) maf demo
	MAF_SCHEDULER_IN_APP=true $(FLASK) run --host 127.0.0.1 --port 5000

# e.g. make test PYTEST_ARGS="tests/cases -x", or PYTEST_ARGS="-n 2" for two processes at once
# (pytest-xdist; each has its own database).
test: setup
	$(BIN)/pytest $(PYTEST_ARGS)

# 25 people at once for 60 s on a fresh database; e.g. make load LOAD_ARGS="--duration 120".
load: setup
	$(BIN)/python -m bench.load $(LOAD_ARGS)

# Every benchmark; each can also run alone. Results go to bench/RESULTS.md.
bench: bench-matching bench-pages bench-documents

# Pages served by gunicorn on 127.0.0.1 under load from wrk, against a bare route, and their SQL
# statements per request; on SQLite, then on a throw-away PostgreSQL cluster. About 3 minutes.
# A quick try: make bench-pages PAGES_ARGS="--duration 3 --warmup 1".
PAGES_ARGS ?=
bench-pages: $(VENV)/.installed bench-tools
	$(BIN)/python -m bench.pages $(PAGES_ARGS)
	.ci/with-postgres sh -c '$(BIN)/python -m bench.pages --database-url "$$MAF_TEST_DATABASE_URL" $(PAGES_ARGS)'

# Building the agenda and minutes documents of a 40-item meeting and its 30 invitations.
DOCUMENTS_ARGS ?=
bench-documents: $(VENV)/.installed
	$(BIN)/python -m bench.documents $(DOCUMENTS_ARGS)

# wrk and PostgreSQL from Debian when missing, as .ci/run installs the test suite's tools.
bench-tools:
	@if ! command -v wrk >/dev/null || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -q && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			--no-install-recommends wrk postgresql >/dev/null; \
	fi

# The existing-CAF check against 1,000,000 children on SQLite and on a throw-away PostgreSQL
# cluster (Debian's postgresql package), beside exact matching and Splink. A quick try:
# make bench-matching MATCHING_ARGS="--children 20000" (without --write-results it only prints).
MATCHING_ARGS ?= --write-results --postgres-checks 1000
bench-matching: $(VENV)/.bench-installed bench-tools
	.ci/with-postgres $(BIN)/python -m bench.matching $(MATCHING_ARGS)

$(VENV)/.bench-installed: $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[dev,bench]"
	touch $@

setup: $(VENV)/.installed static/css/app.css

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# GOV.UK Frontend's fonts are not copied: a council service uses Arial (see static/scss/app.scss).
static/css/app.css: node_modules/.installed static/scss/app.scss
	rm -rf static/govuk
	mkdir -p static/govuk/assets static/css
	cp -r node_modules/govuk-frontend/dist/govuk/assets/images static/govuk/assets/images
	cp node_modules/govuk-frontend/dist/govuk/assets/manifest.json static/govuk/assets/
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js static/govuk/
	# GOV.UK's accessible autocomplete: the meeting record's agency pickers (20+ agencies).
	cp node_modules/accessible-autocomplete/dist/accessible-autocomplete.min.js \
		node_modules/accessible-autocomplete/dist/accessible-autocomplete.min.css static/govuk/
	node_modules/.bin/sass --load-path=node_modules --style=compressed --no-source-map \
		static/scss/app.scss $@

assets: static/css/app.css

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format:
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) node_modules static/govuk static/css
