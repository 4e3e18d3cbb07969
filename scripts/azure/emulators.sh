#!/usr/bin/env bash
# Local Azure for `make emulators` / `make demo`: Azurite (Table + Queue storage, default ports
# 10000-10002, data kept in .kubetrail/azurite) and the Event Grid stand-in (port 10100, accepted
# events kept in .kubetrail/eventgrid-events.jsonl). Writes .kubetrail/azure.env with the
# settings the function reads locally. Reuses whatever already answers on those ports; `stop`
# ends only the processes this script started (by the pids it recorded).
set -euo pipefail
cd "$(dirname "$0")/../.."
STATE=.kubetrail
PY=${PY:-.venv/bin/python}
ENV_FILE=$STATE/azure.env
STANDIN_PORT=${KUBETRAIL_EVENTGRID_PORT:-10100}
ACCOUNT_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='  # Azurite's public well-known key

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {  # port, name, log
  for _ in $(seq 1 300); do answers "$1" && return 0; sleep 0.2; done
  echo "$2 did not start; see $3" >&2; exit 1
}

start() {
  mkdir -p "$STATE/azurite"
  if answers 10002 && answers 10001; then
    echo "azure: Azurite already answers on 10001/10002: reusing it"
  else
    nohup node_modules/.bin/azurite --silent --skipApiVersionCheck --loose --disableTelemetry \
      --location "$STATE/azurite" >"$STATE/azurite.log" 2>&1 &
    echo $! >"$STATE/azurite.pid"
    wait_for 10002 Azurite "$STATE/azurite.log"
    wait_for 10001 Azurite "$STATE/azurite.log"
    echo "azure: Azurite started (pid $(cat "$STATE/azurite.pid"))"
  fi
  key=""
  [[ -f $ENV_FILE ]] && key=$(sed -n "s/^KUBETRAIL_EVENTGRID_KEY='\(.*\)'$/\1/p" "$ENV_FILE")
  [[ -n $key ]] || key=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(32))')
  if answers "$STANDIN_PORT"; then
    echo "azure: the Event Grid stand-in already answers on $STANDIN_PORT: reusing it"
  else
    KUBETRAIL_EVENTGRID_KEY=$key nohup "$PY" scripts/azure/eventgrid_standin.py \
      --port "$STANDIN_PORT" --record "$STATE/eventgrid-events.jsonl" \
      >"$STATE/eventgrid.log" 2>&1 &
    echo $! >"$STATE/eventgrid.pid"
    wait_for "$STANDIN_PORT" "the Event Grid stand-in" "$STATE/eventgrid.log"
    echo "azure: Event Grid stand-in started (pid $(cat "$STATE/eventgrid.pid"))"
  fi
  conn="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$ACCOUNT_KEY;"
  conn+="QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;"
  conn+="TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;"
  (umask 077; cat >"$ENV_FILE" <<ENV
# written by scripts/azure/emulators.sh (make emulators): local settings, not for Azure
KUBETRAIL_STORAGE_CONNECTION_STRING='$conn'
KUBETRAIL_AZURITE_CONNECTION_STRING='$conn'
KUBETRAIL_DEDUP_TABLE='kubetraildedup'
KUBETRAIL_DEADLETTER_QUEUE='kubetrail-deadletter'
KUBETRAIL_EVENTGRID_ENDPOINT='http://127.0.0.1:$STANDIN_PORT/api/events'
KUBETRAIL_EVENTGRID_KEY='$key'
ENV
  )
  echo "azure: settings in $ENV_FILE"
}

stop() {
  for name in eventgrid azurite; do
    pidfile=$STATE/$name.pid
    if [[ -f $pidfile ]]; then
      pid=$(cat "$pidfile")
      kill "$pid" 2>/dev/null && echo "azure: stopped $name (pid $pid)" || true
      rm -f "$pidfile"
    fi
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
