# Terraform against its providers: the offline schema check (part of `make test`) and the
# regeneration of its extract from the CDKTF provider bindings (needs npm and the registry).
.PHONY: infra-schema-check terraform-schema

infra-schema-check: venv
	$(PY) -m pytest -q tests/infra/test_schema.py

# Rewrites infra/schema/<provider>.json; commit the result with the modules it was checked for.
terraform-schema: venv
	@command -v npm >/dev/null || { echo "terraform-schema: npm is needed"; exit 1; }
	$(PY) scripts/terraform/extract_schema.py
	$(PY) -m pytest -q tests/infra/test_schema.py
