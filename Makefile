# Two commands on a fresh machine with Python 3.11+: `make synth` and `make test`.
# Everything else (virtualenvs, Python deps, Node 24 from PyPI, the pinned CDK CLI, checkov) is set up here.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(CURDIR)/node_modules/.bin:$(PATH)
export CDK_DISABLE_VERSION_CHECK := 1
export CDK_CLI_NOTICES := false
# Material for MkDocs prints an end-of-life notice on every build; the pins are deliberate.
export NO_MKDOCS_2_WARNING := 1
# Both cores: test files are spread over the workers (a file stays on one: its session fixtures run once).
PYTEST_ARGS ?= -n auto --dist loadfile
# checkov has a virtualenv of its own: its pinned dependencies would clash with the test dependencies.
CHECKOV_VENV := .venv-checkov
CHECKOV := $(CURDIR)/$(CHECKOV_VENV)/bin/checkov

.PHONY: setup synth test lint checkov bench clean compliance diagram rehearsal-setup rehearse docs

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json $(VENV)/.installed
	$(BIN)/npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $@

setup: $(VENV)/.installed node_modules/.installed

# The deploy rehearsal (scripts/rehearsal): LocalStack in host mode and the functions' runtime, each a
# Python 3.13 virtualenv (find_python313.sh says what to install when there is none).
REHEARSAL := scripts/rehearsal
LOCALSTACK_VENV := .venv-localstack
FUNCTIONS_VENV := .venv-functions

$(LOCALSTACK_VENV)/.installed: $(REHEARSAL)/requirements-localstack.txt $(REHEARSAL)/ls_offline/pyproject.toml $(REHEARSAL)/ls_offline/src/ls_offline/*.py
	py313=$$($(REHEARSAL)/find_python313.sh) && { test -x $(LOCALSTACK_VENV)/bin/python || $$py313 -m venv $(LOCALSTACK_VENV); }
	$(LOCALSTACK_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r $(REHEARSAL)/requirements-localstack.txt
	$(LOCALSTACK_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps ./$(REHEARSAL)/ls_offline
	touch $@

$(FUNCTIONS_VENV)/.installed: $(REHEARSAL)/requirements-functions.txt
	py313=$$($(REHEARSAL)/find_python313.sh) && { test -x $(FUNCTIONS_VENV)/bin/python || $$py313 -m venv $(FUNCTIONS_VENV); }
	$(FUNCTIONS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r $(REHEARSAL)/requirements-functions.txt
	touch $@

rehearsal-setup: $(LOCALSTACK_VENV)/.installed $(FUNCTIONS_VENV)/.installed

# Deploys the example app, its serverless variant and the README's quick start into the emulator and
# runs their functions (also part of make test, as tests/rehearsal).
rehearse: synth rehearsal-setup
	$(BIN)/python -m pytest tests/rehearsal

# Synthesizes every stack of app.py into cdk.out/ with the cdk-nag packs as validation plugins;
# any unacknowledged finding fails the synthesis.
synth: setup
	rm -rf cdk.out
	npx cdk synth --quiet --no-notices --no-version-reporting
	$(BIN)/python scripts/synth_summary.py cdk.out
	# The same app with the serverless sink (an OpenSearch Serverless collection), under the same gates.
	rm -rf cdk.out.serverless
	npx cdk synth --quiet --no-notices --no-version-reporting -c pipeline-sink=serverless -o cdk.out.serverless

lint: synth
	$(BIN)/cfn-lint cdk.out/*.template.json

# checkov over the synthesized templates: any failed check fails. A skip is written into the template
# (Metadata.checkov.skip, with the reason) by the same acknowledgement that answers cdk-nag.
# --skip-download: no call to Prisma Cloud for guidelines; the checks are all local.
CHECKOV_ARGS := --framework cloudformation --quiet --compact --skip-download

checkov: synth $(CHECKOV_VENV)/.installed
	$(CHECKOV) $(CHECKOV_ARGS) $$(printf -- '-f %s ' cdk.out/*.template.json cdk.out.serverless/*.template.json)

test: synth docs $(CHECKOV_VENV)/.installed rehearsal-setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	$(BIN)/cfn-lint cdk.out/*.template.json cdk.out.serverless/*.template.json
	@echo "cfn-lint: no errors in $$(ls cdk.out/*.template.json cdk.out.serverless/*.template.json | wc -l) template(s)"
	$(CHECKOV) $(CHECKOV_ARGS) $$(printf -- '-f %s ' cdk.out/*.template.json cdk.out.serverless/*.template.json)

bench: setup
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	$(BIN)/python -m bench

clean:
	rm -rf cdk.out cdk.out.serverless .pytest_cache site

# The documentation site into site/ (mkdocs.yml). --strict: a broken link or anchor, a missing snippet or a
# docstring that names a parameter the signature lacks fails the build. Offline: no fonts or inventories fetched.
docs: $(VENV)/.installed
	$(BIN)/mkdocs build --strict --site-dir site

# docs/compliance.md from cdk.out/validation-report.json: every rule of the five cdk-nag packs, the
# resources it covered, pass or acknowledged, and the reason.
compliance: synth
	$(BIN)/python scripts/compliance_report.py cdk.out docs/compliance.md

# docs/architecture.png from the synthesized app (needs Graphviz's `dot`; not part of `make test`).
diagram: synth
	$(BIN)/python scripts/architecture_diagram.py cdk.out docs/architecture.png
