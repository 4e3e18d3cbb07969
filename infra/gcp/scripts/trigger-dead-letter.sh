#!/usr/bin/env bash
# Run by Terraform (terraform_data.trigger_dead_letter) after the function exists: give the
# Eventarc-managed push subscription of the trigger a dead-letter topic and retry backoff, and
# let Pub/Sub's service agent move messages off it. Needs gcloud, authenticated as the deployer.
# Environment: TRIGGER (projects/P/locations/L/triggers/T), DEAD_LETTER_TOPIC,
# MAX_DELIVERY_ATTEMPTS, PUBSUB_SERVICE_AGENT.
set -euo pipefail
IFS=/ read -r _ project _ location _ trigger <<<"$TRIGGER"
subscription=$(gcloud eventarc triggers describe "$trigger" --project="$project" \
  --location="$location" --format='value(transport.pubsub.subscription)')
[[ -n $subscription ]] || { echo "trigger $TRIGGER has no Pub/Sub subscription yet" >&2; exit 1; }
gcloud pubsub subscriptions update "$subscription" --project="$project" \
  --dead-letter-topic="$DEAD_LETTER_TOPIC" --max-delivery-attempts="$MAX_DELIVERY_ATTEMPTS" \
  --min-retry-delay=10s --max-retry-delay=600s
gcloud pubsub subscriptions add-iam-policy-binding "$subscription" --project="$project" \
  --member="$PUBSUB_SERVICE_AGENT" --role=roles/pubsub.subscriber >/dev/null
echo "kubetrail: $subscription dead-letters to $DEAD_LETTER_TOPIC after $MAX_DELIVERY_ATTEMPTS attempts"
