#!/usr/bin/env bash
# Installs the Debian packages the test suite drives (validators and tools), and starts
# the local PostgreSQL and Redis when they are installed but stopped. Idempotent and quick
# when everything is already present.
set -euo pipefail

# chromium drives web captures; clamav-daemon scans uploads (the tests run their own clamd);
# file (libmagic) cross-checks the upload samples the tests build by hand; nodejs runs the
# documents' JavaScript examples and webhook receivers.
PACKAGES=(openssl curl jq poppler-utils libnss3-tools chromium clamav clamav-daemon fonts-dejavu-core file nodejs)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${missing[*]} (run as root or install them)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Debian splits npm out of nodejs; other builds of nodejs ship it.
if ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "npm is missing (run as root or install it)" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm
fi
# The Express webhook receivers the tests run: exactly the locked versions, reinstalled
# only when the lock file changed.
receivers="$(dirname "$0")/../tests/webhook_receivers"
if [ ! -f "$receivers/node_modules/.package-lock.json" ] \
  || [ "$receivers/package-lock.json" -nt "$receivers/node_modules/.package-lock.json" ]; then
  npm ci --prefix "$receivers" --no-audit --no-fund --silent
fi

# PostgreSQL and Redis are optional: the suite runs its scaled-mode tests when they answer.
if command -v pg_ctlcluster >/dev/null 2>&1 && ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  version=$(ls /etc/postgresql 2>/dev/null | head -n 1 || true)
  [ -n "$version" ] && pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
fi
if command -v redis-server >/dev/null 2>&1 && ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /tmp --logfile /tmp/redis-notarium.log || true
fi
exit 0
