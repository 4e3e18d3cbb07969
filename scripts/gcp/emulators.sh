#!/usr/bin/env bash
# Local GCP for `make emulators` / `make demo`: the gcloud Pub/Sub emulator (127.0.0.1:8085) and
# Firestore emulator (127.0.0.1:8086), both Java, both in memory. Creates the audit-log,
# findings and dead-letter topics, a pull subscription on the findings and dead-letter topics,
# and writes .kubetrail/gcp.env with the settings the function and `kubetrail local invoke gcp`
# read. Reuses emulators that already answer on those ports; `stop` ends only the process groups
# this script started (by the pids it recorded: gcloud forks the JVM, so the group is killed).
set -euo pipefail
cd "$(dirname "$0")/../.."
STATE=${KUBETRAIL_STATE:-.kubetrail}
ENV_FILE=$STATE/gcp.env
PROJECT=${KUBETRAIL_GCP_PROJECT:-kubetrail-local}
PUBSUB=127.0.0.1:${KUBETRAIL_PUBSUB_PORT:-8085}
FIRESTORE=127.0.0.1:${KUBETRAIL_FIRESTORE_PORT:-8086}

answers() { curl -sf --max-time 2 "http://$1/" >/dev/null 2>&1; }

launch() {  # name, host, gcloud args...
  local name=$1 host=$2; shift 2
  if answers "$host"; then
    echo "gcp: $name emulator already answers on $host: reusing it"
    return
  fi
  command -v gcloud >/dev/null || { echo "gcp: gcloud is not installed" >&2; exit 1; }
  mkdir -p "$STATE/gcp-$name"
  setsid nohup gcloud "$@" --quiet --host-port="$host" >"$STATE/gcp-$name.log" 2>&1 </dev/null &
  echo $! >"$STATE/gcp-$name.pid"
}

wait_for() {  # name, host
  for _ in $(seq 1 450); do answers "$2" && { echo "gcp: $1 emulator ready on $2"; return; }; sleep 0.2; done
  echo "gcp: the $1 emulator did not start; see $STATE/gcp-$1.log" >&2; exit 1
}

put() {  # path, json body: create if absent (409 = already there)
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \
    --data "$2" "http://$PUBSUB/v1/$1")
  [[ $code == 200 || $code == 409 ]] || { echo "gcp: PUT $1 answered $code" >&2; exit 1; }
}

start() {
  mkdir -p "$STATE"
  # Both JVMs start together; Pub/Sub keeps its config in the state dir, not in ~/.config.
  launch pubsub "$PUBSUB" beta emulators pubsub start --data-dir="$STATE/gcp-pubsub"
  launch firestore "$FIRESTORE" emulators firestore start
  wait_for pubsub "$PUBSUB"
  wait_for firestore "$FIRESTORE"
  for topic in kubetrail-gke-audit kubetrail-findings kubetrail-deadletter; do
    put "projects/$PROJECT/topics/$topic" '{}'
  done
  for topic in kubetrail-findings kubetrail-deadletter; do
    put "projects/$PROJECT/subscriptions/$topic-sub" \
      "{\"topic\": \"projects/$PROJECT/topics/$topic\", \"ackDeadlineSeconds\": 60}"
  done
  (umask 077; cat >"$ENV_FILE" <<ENV
# written by scripts/gcp/emulators.sh (make emulators): local settings, not for GCP
GOOGLE_CLOUD_PROJECT='$PROJECT'
PUBSUB_EMULATOR_HOST='$PUBSUB'
FIRESTORE_EMULATOR_HOST='$FIRESTORE'
KUBETRAIL_DEDUP_COLLECTION='kubetrail-dedup'
KUBETRAIL_FINDINGS_TOPIC='kubetrail-findings'
KUBETRAIL_DEADLETTER_TOPIC='kubetrail-deadletter'
KUBETRAIL_AUDIT_TOPIC='kubetrail-gke-audit'
ENV
  )
  echo "gcp: topics kubetrail-{gke-audit,findings,deadletter}, subscriptions" \
    "kubetrail-{findings,deadletter}-sub in project $PROJECT; settings in $ENV_FILE"
}

stop() {
  for name in pubsub firestore; do
    pidfile=$STATE/gcp-$name.pid
    if [[ -f $pidfile ]]; then
      pid=$(cat "$pidfile")
      kill -TERM -- "-$pid" 2>/dev/null && echo "gcp: stopped the $name emulator (group $pid)" || true
      rm -f "$pidfile"
    fi
  done
  rm -f "$ENV_FILE"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
