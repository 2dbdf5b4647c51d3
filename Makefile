# Two commands: `make run` and `make test`. Both set up everything they need first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PYTEST_ARGS ?=

.PHONY: run test setup assets lint format bench clean

run: setup
	$(FLASK) db upgrade
	$(FLASK) maf demo
	MAF_SCHEDULER_IN_APP=true $(FLASK) run --host 127.0.0.1 --port 5000

test: setup
	$(BIN)/pytest $(PYTEST_ARGS)

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
