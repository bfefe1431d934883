#!/usr/bin/env bash
# Set up and run Aiguillage on the embedded default: SQLite, demo directory, desk page.
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false  # nothing leaves the machine
bash scripts/setup.sh
exec .venv/bin/aiguillage run "$@"
