#!/usr/bin/env bash
# Installs what the local stack needs, reusing whatever is already present:
# Debian packages (JDK, Maven, PostgreSQL, Redis, Chromium), the Python virtualenv, and Kafka's jars from Maven Central.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

missing=()
command -v java >/dev/null || missing+=(default-jdk-headless)
command -v mvn >/dev/null || missing+=(maven)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v npm >/dev/null || missing+=(npm)  # Swagger UI's assets for the gateway's /docs
[ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] || missing+=(postgresql)
# Headless Chromium for the marketplace browser test (driven by Playwright, never a downloaded browser),
# and an emoji font for the packs' icons in its screenshots.
command -v chromium >/dev/null || missing+=(chromium)
[ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || missing+=(fonts-noto-color-emoji)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian's postgresql and redis-server packages start system services; ours run on their own ports.
fi

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
stamp="$VENV/.installed-$(cat "$REPO_ROOT/pyproject.toml" "$REPO_ROOT/sdk/pyproject.toml" | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q -e "$REPO_ROOT[dev]"
  # The client SDK (sdk/, distribution hometryon-billing-client): its own package, used by the tests.
  "$VENV/bin/pip" install -q -e "$REPO_ROOT/sdk"
  touch "$stamp"
fi

pom="$REPO_ROOT/deploy/local/kafka/pom.xml"
jar_stamp="$KAFKA_LIBS/.built-$(sha256sum "$pom" | cut -c1-16)"
if [ ! -f "$jar_stamp" ]; then
  echo "setup: fetching Kafka jars from Maven Central"
  rm -rf "$REPO_ROOT/deploy/local/kafka/target"
  mvn -B -q -f "$pom" package
  touch "$jar_stamp"
fi
# promtool checks deploy/prometheus (tests/unit/test_observability_files.py): taken out of Debian's
# prometheus package without installing it, so no Prometheus server is started on this machine.
PROMTOOL="$REPO_ROOT/.local/bin/promtool"
if [ ! -x "$PROMTOOL" ]; then
  echo "setup: extracting promtool from Debian's prometheus package"
  unpack="$(mktemp -d)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  # A fresh machine may have no package lists yet: fetch them once if the download needs them.
  (cd "$unpack" && apt-get download -qq prometheus 2>/dev/null) \
    || { $SUDO apt-get update -qq && (cd "$unpack" && apt-get download -qq prometheus 2>/dev/null); }
  dpkg -x "$unpack"/prometheus_*.deb "$unpack/root"
  mkdir -p "$(dirname "$PROMTOOL")" && cp "$unpack/root/usr/bin/promtool" "$PROMTOOL"
  rm -rf "$unpack"
fi
# The gateway's /docs page serves Swagger UI from here (services/gateway/api_docs.py), never from a CDN.
swagger_ui="$REPO_ROOT/.local/swagger-ui"
if [ ! -f "$swagger_ui/node_modules/swagger-ui-dist/swagger-ui-bundle.js" ]; then
  echo "setup: installing Swagger UI's assets (npm swagger-ui-dist)"
  npm install -s --no-audit --no-fund --prefix "$swagger_ui" swagger-ui-dist@5.35.0 >/dev/null
fi
echo "setup: done"
