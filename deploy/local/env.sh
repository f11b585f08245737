# Shared locations and ports of the local infrastructure; sourced by setup.sh, start.sh and stop.sh.
# Ports are unusual on purpose so they never clash with a system PostgreSQL, Redis or Kafka.
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOCAL_DIR="${BILLING_LOCAL_DIR:-$REPO_ROOT/.local}"
KAFKA_PORT="${BILLING_KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${BILLING_KAFKA_CONTROLLER_PORT:-19093}"
PG_PORT="${BILLING_PG_PORT:-55432}"
REDIS_PORT="${BILLING_REDIS_PORT:-56379}"
KAFKA_LIBS="$REPO_ROOT/deploy/local/kafka/target/libs"
VENV="$REPO_ROOT/.venv"
PG_BIN="${BILLING_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"
# PostgreSQL's files live in .local/ unless, running as root, the postgres user cannot reach that path
# (a checkout under /root, say): then in a folder of /var/tmp named after the checkout, or after
# BILLING_LOCAL_DIR when one is given (a second, private set of infrastructure such as the fault suite's).
mkdir -p "$LOCAL_DIR" && chmod 755 "$LOCAL_DIR"
PG_DIR="$LOCAL_DIR"
if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$LOCAL_DIR" 2>/dev/null; then
  PG_DIR="/var/tmp/billing-pg-$(printf '%s' "${BILLING_LOCAL_DIR:-$REPO_ROOT}" | sha256sum | cut -c1-12)"
fi
