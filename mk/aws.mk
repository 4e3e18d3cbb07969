# aws path: the moto server, the demo, the Lambda zip and the Terraform checks.
AWS_ZIP := .build/aws/kubetrail-aws.zip
AWS_PORT ?= 4566
# The bundled EKS samples (a CloudWatch Logs subscription event, raw audit events).
AWS_SAMPLES = $(sort $(wildcard samples/eks*) $(wildcard samples/aws*))
# Offline machines: hashicorp/aws from the local mirror (see infra/terraformrc).
ifneq ($(wildcard /opt/tf-plugins),)
export TF_CLI_CONFIG_FILE ?= $(CURDIR)/infra/terraformrc
endif

.PHONY: test-deps-aws emulators-aws emulators-aws-stop demo-aws package-aws infra-aws-check
test-deps: test-deps-aws
emulators: emulators-aws
emulators-stop: emulators-aws-stop
demo: demo-aws

# The tests start their own moto server (free port, from the venv) and run terraform offline.
test-deps-aws: venv
	@command -v terraform >/dev/null || echo "aws: terraform not found: the Terraform tests will be skipped"

# moto on 127.0.0.1:$(AWS_PORT) with the table, topic, dead-letter queue and a subscribed
# queue; settings in $(STATE)/aws.env. Idempotent.
emulators-aws: venv
	@$(PY) scripts/aws/emulators.py up --port $(AWS_PORT) --state-dir $(STATE)

emulators-aws-stop:
	@python3 scripts/aws/emulators.py down --state-dir $(STATE)

# A fresh dedup table per demo, so the first delivery always shows the findings (the emulator
# may still hold an earlier demo's windows) and the second shows none.
demo-aws: venv emulators-aws
	@test -n "$(AWS_SAMPLES)" || { echo "aws: no samples/eks* files to deliver"; exit 1; }
	@export KUBETRAIL_DEDUP_TABLE=$$($(PY) scripts/aws/emulators.py table --state-dir $(STATE)); \
	echo "== aws: kubetrail local invoke aws $(AWS_SAMPLES)  (dedup table $$KUBETRAIL_DEDUP_TABLE)"; \
	$(KUBETRAIL) local invoke aws $(AWS_SAMPLES) && \
	echo "== aws: the same files again (the windows are open: nothing new)" && \
	$(KUBETRAIL) local invoke aws $(AWS_SAMPLES)

# handler + kubetrail + arm64/python3.12 wheels, reproducible; consumed by infra/aws.
# RULES=... PANTHER_ROOT=... add rules and Panther's helpers/data models (docs/panther.md).
package-aws: venv pack-cache
	$(PY) scripts/aws/package.py --out $(AWS_ZIP) $(if $(RULES_CONFIG),--config $(RULES_CONFIG)) $(EXTRAS_ARGS)

# fmt, validate (offline provider) and checkov on the module and the example.
infra-aws-check: venv tools
	terraform fmt -check -recursive infra/aws infra/examples/aws
	$(PY) -m pytest -q tests/infra/test_aws.py
