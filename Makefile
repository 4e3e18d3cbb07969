# kubetrail — every install step lives here: `make run` and `make test` work on a fresh clone.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
KUBETRAIL := $(VENV)/bin/kubetrail
STATE := .kubetrail
# pip's failure still fails the recipe (pipefail); only the mirror's "ignored" lines are dropped.
.SHELLFLAGS := -o pipefail -c
PIP_FILTER := { grep -v "is ignored: it is neither a file nor a directory" || true; }
# Extra rule files/directories and a panther-analysis root packaged with the functions:
#   make package-aws RULES="my-rules ../panther-analysis/rules/kubernetes_rules" PANTHER_ROOT=../panther-analysis
RULES ?=
PANTHER_ROOT ?=
EXTRAS_ARGS = $(foreach r,$(RULES),--rules $(r)) $(if $(PANTHER_ROOT),--panther-root $(PANTHER_ROOT))
# Re-install when the dependency list changes.
VENV_STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: help venv run test lint bench bench-panther fuzz clean emulators emulators-stop demo \
	pack-cache

help:
	@echo "make run        scan the bundled samples (embedded defaults, no cloud)"
	@echo "make test       install, start the emulators the tests need, run every test"
	@echo "make lint       ruff + mypy --strict on the core"
	@echo "make bench      throughput and import-time figures next to their baselines"
	@echo "make fuzz       the property-based fuzz suite, FUZZ_EXAMPLES=N FUZZ_MINUTES=M"
	@echo "make emulators / emulators-stop / demo   local clouds (moto, Azurite, gcloud)"
	@echo "make package-aws / package-azure / package-gcp   deployable artefacts in .build/"
	@echo "make infra-schema-check / terraform-schema   infra/ against its providers' schemas"

$(VENV_STAMP):
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip 2>&1 | $(PIP_FILTER)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev,aws,azure,gcp,panther]' \
		2>&1 | $(PIP_FILTER)
	$(PY) -c "from kubetrail.rules.speccache import build_bundled; build_bundled()"
	$(PY) -c "from kubetrail.rules.packcache import build_bundled; build_bundled()"
	$(PY) -m compileall -q shared/kubetrail functions >/dev/null
	@rm -f $(VENV)/.installed-* && touch $@

venv: $(VENV_STAMP)

# The bundled packs' rule cache (kubetrail/rules/packcache.py), rebuilt before packaging so each
# function package ships it current for the packs it carries.
pack-cache: venv
	$(PY) -c "from kubetrail.rules.packcache import build_bundled; build_bundled()"

# The bundled samples, one per delivery format; findings on stdout, the summary on stderr.
SAMPLES := $(sort $(wildcard samples/*.json samples/*.jsonl))
run: venv
	$(KUBETRAIL) scan $(SAMPLES)

test: venv pack-cache test-deps
	$(PY) -m pytest -q

lint: venv
	$(VENV)/bin/ruff check shared functions tests scripts
	$(VENV)/bin/mypy

# The caches a user's install has (pack caches, .pyc) are made current first: a checkout edited
# since `make venv` would otherwise time the compiler, not kubetrail.
bench: venv pack-cache
	$(PY) -m compileall -q shared/kubetrail functions scripts/bench >/dev/null
	$(PY) scripts/bench/run.py

# The same figures with panther-analysis's Kubernetes rules loaded (docs/panther.md).
bench-panther: venv
	$(PY) scripts/bench/panther.py $(PANTHER_ROOT)

# The property-based fuzz suite with a large budget: FUZZ_EXAMPLES per property and run, random
# seeds, repeated for FUZZ_MINUTES (0: one run). `make test` runs a small derandomized budget.
FUZZ_EXAMPLES ?= 2000
FUZZ_MINUTES ?= 0
fuzz: venv
	@end=$$(( $$(date +%s) + $(FUZZ_MINUTES) * 60 )); \
	while :; do \
		KUBETRAIL_FUZZ_PROFILE=fuzz KUBETRAIL_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) \
			$(PY) -m pytest -q -p no:cacheprovider tests/fuzz || exit 1; \
		[ $$(date +%s) -lt $$end ] || break; \
	done

clean:
	rm -rf $(VENV) $(TOOLS) $(STATE) .build node_modules .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

# Infrastructure checks run checkov from its own venv: its pins must not move the project's.
TOOLS := .venv-tools
CHECKOV := $(TOOLS)/bin/checkov
$(CHECKOV):
	@test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check 'checkov>=3.2' \
		2>&1 | $(PIP_FILTER)
tools: $(CHECKOV)

# A rules configuration (docs/rules.md) to package with the functions as kubetrail-config.yml:
#   make package-aws RULES_CONFIG=kubetrail.yml   (then Terraform: rules_config = "kubetrail-config.yml")
RULES_CONFIG ?=

# Per-cloud files add prerequisites to these (no recipes here).
.PHONY: test-deps tools
test-deps: tools
emulators:
emulators-stop:
demo:
include mk/aws.mk mk/azure.mk mk/gcp.mk mk/terraform.mk
