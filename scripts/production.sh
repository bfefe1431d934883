#!/usr/bin/env bash
# Production profile in one command: PostgreSQL + Redis + several Rasa instances behind nginx,
# the action server and the worker. With AIGUILLAGE_DATABASE_URL (postgresql://...) and
# AIGUILLAGE_REDIS_URL set, it uses those servers; otherwise it starts private ones in
# var/production (single machine). Settings: README, "Production profile".
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false
bash scripts/setup.sh
if [[ "${AIGUILLAGE_DATABASE_URL:-}" == postgresql* ]] && [ -n "${AIGUILLAGE_REDIS_URL:-}" ]; then
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || bash scripts/debian-services.sh
  exec .venv/bin/aiguillage production "$@"
fi
bash scripts/debian-services.sh
exec .venv/bin/aiguillage production --services-locales "$@"
