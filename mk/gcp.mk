# gcp path: the gcloud Pub/Sub and Firestore emulators, the demo, and the function's source zip.
GCP_ZIP := .build/kubetrail-gcp.zip
# The bundled GKE samples (LogEntries as the Log Router sink writes them).
GCP_SAMPLES = $(sort $(wildcard samples/gke*) $(wildcard samples/gcp*))

.PHONY: test-deps-gcp emulators-gcp emulators-gcp-stop demo-gcp package-gcp
test-deps: test-deps-gcp
emulators: emulators-gcp
emulators-stop: emulators-gcp-stop
demo: demo-gcp

# The tests start their own emulators (free ports); they only need gcloud's, which need Java.
test-deps-gcp:
	@command -v gcloud >/dev/null && command -v java >/dev/null || { \
	  echo "gcp: the tests need the gcloud CLI with its pubsub-emulator and" \
	       "cloud-firestore-emulator components, and Java"; exit 1; }

emulators-gcp:
	@bash scripts/gcp/emulators.sh start

emulators-gcp-stop:
	@bash scripts/gcp/emulators.sh stop

# A fresh dedup collection per demo, so the first delivery always shows the findings (the
# emulator may still hold an earlier demo's windows) and the second shows none.
demo-gcp: venv emulators-gcp
	@test -n "$(GCP_SAMPLES)" || { echo "gcp: no samples/gke* files to deliver"; exit 1; }
	@export KUBETRAIL_DEDUP_COLLECTION=kubetrail-demo-$$(date +%s%N); \
	echo "== gcp: kubetrail local invoke gcp $(GCP_SAMPLES)"; \
	$(KUBETRAIL) local invoke gcp $(GCP_SAMPLES) && \
	echo "== gcp: the same files again (already published: nothing new)" && \
	$(KUBETRAIL) local invoke gcp $(GCP_SAMPLES)

# RULES=... PANTHER_ROOT=... add rules and Panther's helpers/data models (docs/panther.md).
package-gcp: venv pack-cache
	$(PY) scripts/gcp/package.py $(GCP_ZIP) $(RULES_CONFIG) $(EXTRAS_ARGS)
