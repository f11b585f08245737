#!/usr/bin/env bash
# Starts PostgreSQL, Redis and a single-node KRaft Kafka as local processes under .local/,
# reusing any that already run, and waits until each one answers.
# Arguments name a subset to start (postgres, redis, kafka); none = all three.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
mkdir -p "$LOCAL_DIR"
chmod 755 "$LOCAL_DIR"

now_ms() { date +%s%3N; }

start_postgres() {
  local data="$PG_DIR/postgres" sock="$PG_DIR/pg-socket" runas=()
  # initdb and pg_ctl refuse to run as root: run them as the postgres user then.
  [ "$(id -u)" -eq 0 ] && runas=(runuser -u postgres --)
  mkdir -p "$PG_DIR" "$sock"
  chmod 755 "$PG_DIR"
  [ "$(id -u)" -eq 0 ] && chown postgres "$sock"
  if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; then
    echo "postgres: already up on 127.0.0.1:$PG_PORT"; return
  fi
  local t0; t0=$(now_ms)
  if [ ! -f "$data/PG_VERSION" ]; then
    mkdir -p "$data"
    [ "$(id -u)" -eq 0 ] && chown postgres "$data"
    "${runas[@]}" "$PG_BIN/initdb" -D "$data" -A trust -U postgres -E UTF8 >"$LOCAL_DIR/postgres-init.log" 2>&1
  fi
  "${runas[@]}" "$PG_BIN/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
    -o "-p $PG_PORT -k $sock -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200" start >/dev/null
  "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='billing'" \
    | grep -q 1 || "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres billing
  echo "postgres: up on 127.0.0.1:$PG_PORT in $(( $(now_ms) - t0 )) ms"
}

start_redis() {
  if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    echo "redis: already up on 127.0.0.1:$REDIS_PORT"; return
  fi
  local t0; t0=$(now_ms)
  mkdir -p "$LOCAL_DIR/redis"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$LOCAL_DIR/redis" --daemonize yes \
    --pidfile "$LOCAL_DIR/redis/redis.pid" --logfile "$LOCAL_DIR/redis/redis.log" --save "" --appendonly no
  for _ in $(seq 1 100); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis-cli -p "$REDIS_PORT" ping >/dev/null
  echo "redis: up on 127.0.0.1:$REDIS_PORT in $(( $(now_ms) - t0 )) ms"
}

start_kafka() {
  local dir="$LOCAL_DIR/kafka" props
  props="$dir/server.properties"
  if "$VENV/bin/python" "$REPO_ROOT/deploy/local/wait_for_kafka.py" "127.0.0.1:$KAFKA_PORT" 1 2>/dev/null; then
    echo "kafka: already up on 127.0.0.1:$KAFKA_PORT"; return
  fi
  local t0; t0=$(now_ms)
  mkdir -p "$dir"
  sed -e "s#@KAFKA_PORT@#$KAFKA_PORT#g" -e "s#@CONTROLLER_PORT@#$KAFKA_CONTROLLER_PORT#g" \
      -e "s#@DATA_DIR@#$dir/data#g" "$REPO_ROOT/deploy/local/kafka/server.properties.template" >"$props"
  local java_opts=(-Xms256m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true
    "-Dlog4j2.configurationFile=file:$REPO_ROOT/deploy/local/kafka/log4j2.properties")
  if [ ! -f "$dir/data/meta.properties" ]; then
    local cluster_id
    cluster_id=$(python3 -c 'import base64,uuid;print(base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode())')
    java "${java_opts[@]}" -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool format -t "$cluster_id" -c "$props" \
      --ignore-formatted >"$dir/format.log" 2>&1
  fi
  nohup java "${java_opts[@]}" -cp "$KAFKA_LIBS/*" kafka.Kafka "$props" >"$dir/kafka.log" 2>&1 &
  echo $! >"$dir/kafka.pid"
  if ! "$VENV/bin/python" "$REPO_ROOT/deploy/local/wait_for_kafka.py" "127.0.0.1:$KAFKA_PORT" 90; then
    echo "kafka: did not become ready; last log lines:" >&2; tail -n 30 "$dir/kafka.log" >&2; exit 1
  fi
  echo "kafka: up on 127.0.0.1:$KAFKA_PORT in $(( $(now_ms) - t0 )) ms"
}

for name in ${@:-postgres redis kafka}; do
  case "$name" in
    postgres | redis | kafka) "start_$name" ;;
    *) echo "start.sh: unknown component $name (postgres, redis, kafka)" >&2; exit 2 ;;
  esac
done
