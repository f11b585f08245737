#!/usr/bin/env bash
# Stops the local Kafka, Redis and PostgreSQL started by start.sh (data is kept under .local/).
# Arguments name a subset to stop (postgres, redis, kafka); none = all three.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

stop_kafka() {
  if [ -f "$LOCAL_DIR/kafka/kafka.pid" ]; then
    pid=$(cat "$LOCAL_DIR/kafka/kafka.pid")
    if kill "$pid" 2>/dev/null; then
      for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$LOCAL_DIR/kafka/kafka.pid"; echo "kafka: stopped"
  fi
}

stop_redis() {
  if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true; echo "redis: stopped"
  fi
}

stop_postgres() {
  if [ -f "$PG_DIR/postgres/postmaster.pid" ]; then
    runas=(); [ "$(id -u)" -eq 0 ] && runas=(runuser -u postgres --)
    "${runas[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/postgres" -m fast -w stop >/dev/null && echo "postgres: stopped"
  fi
}

for name in ${@:-kafka redis postgres}; do
  case "$name" in
    postgres | redis | kafka) "stop_$name" ;;
    *) echo "stop.sh: unknown component $name (postgres, redis, kafka)" >&2; exit 2 ;;
  esac
done
