# azure path: Azurite (npm) + the Event Grid stand-in, the demo, and the Function App's zip.
AZURITE := node_modules/.bin/azurite
AZURE_BUILD := .build/azure
AZURE_ZIP := .build/kubetrail-azure.zip
# The bundled AKS samples (Event Hub bodies as diagnostic settings send them).
AZURE_SAMPLES = $(sort $(wildcard samples/aks*) $(wildcard samples/azure*))

.PHONY: test-deps-azure emulators-azure emulators-azure-stop demo-azure package-azure
test-deps: test-deps-azure
emulators: emulators-azure
emulators-stop: emulators-azure-stop
demo: demo-azure

# Azurite from npm, pinned by package-lock.json (3.35.0: the last release that runs on Node 20).
$(AZURITE): package.json package-lock.json
	@command -v npm >/dev/null || { echo "azure: the tests need Node.js and npm (Azurite)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The tests start their own Azurite and Event Grid stand-in on free ports.
test-deps-azure: $(AZURITE)

# Azurite on 10000-10002 and the Event Grid stand-in on 10100; settings in .kubetrail/azure.env.
emulators-azure: venv $(AZURITE)
	@PY=$(PY) bash scripts/azure/emulators.sh start

emulators-azure-stop:
	@bash scripts/azure/emulators.sh stop

# Each demo uses a fresh dedup table, so the first delivery shows the findings every time.
demo-azure: venv emulators-azure
	@test -n "$(AZURE_SAMPLES)" || { echo "azure: no samples/aks* files to deliver"; exit 1; }
	@export KUBETRAIL_DEDUP_TABLE=demo$$(date +%s); \
	echo "== azure: kubetrail local invoke azure $(AZURE_SAMPLES)  (dedup table $$KUBETRAIL_DEDUP_TABLE)"; \
	$(KUBETRAIL) local invoke azure $(AZURE_SAMPLES) && \
	echo "== azure: the same files again (already published: nothing new)" && \
	$(KUBETRAIL) local invoke azure $(AZURE_SAMPLES)

# function_app.py + host.json + every dependency (Linux x86-64 wheels for Python 3.11) in
# .python_packages, as the Functions host loads them: deploy with zip_deploy_file, no remote build.
# RULES=... PANTHER_ROOT=... add rules and Panther's helpers/data models (docs/panther.md).
package-azure: venv pack-cache
	rm -rf $(AZURE_BUILD) $(AZURE_ZIP) && mkdir -p $(AZURE_BUILD)/.python_packages/lib/site-packages
	cp functions/azure/function_app.py functions/azure/azure_settings.py \
	   functions/azure/host.json functions/azure/requirements.txt $(AZURE_BUILD)/
	$(if $(RULES_CONFIG),$(KUBETRAIL) rules list --config $(RULES_CONFIG) >/dev/null && \
	  cp $(RULES_CONFIG) $(AZURE_BUILD)/kubetrail-config.yml)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-compile \
	  --target $(AZURE_BUILD)/.python_packages/lib/site-packages \
	  --platform manylinux2014_x86_64 --implementation cp --python-version 3.11 \
	  --only-binary=:all: -r functions/azure/requirements.txt
	cp -r shared/kubetrail $(AZURE_BUILD)/.python_packages/lib/site-packages/
	$(PY) scripts/panther/stage.py $(AZURE_BUILD) $(EXTRAS_ARGS)
	find $(AZURE_BUILD) -name __pycache__ -type d -prune -exec rm -rf {} +
	$(PY) -c "import shutil; shutil.make_archive('$(basename $(AZURE_ZIP))', 'zip', '$(AZURE_BUILD)')"
	@echo "azure: $(AZURE_ZIP) ($$(du -h $(AZURE_ZIP) | cut -f1)); deploy with terraform -chdir=infra/examples/azure apply"

# `make bench` times the function on Azurite too when npm can install it (skipped otherwise).
.PHONY: bench-deps-azure
bench: bench-deps-azure
bench-deps-azure:
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory $(AZURITE); \
	else echo "azure: npm not found: the bench skips the Azurite measurements"; fi
