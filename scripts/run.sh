#!/usr/bin/env bash
# Set up and run Aiguillage on the embedded default: SQLite, demo directory, desk page.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/aiguillage run "$@"
