#!/usr/bin/env bash
# Run every test: unit tests of bot/, the trained model through Rasa and the action server, the desk page in Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false  # nothing leaves the machine
bash scripts/setup.sh

# Lint first, in seconds: style and import order (ruff), then the layers and the absence of import
# cycles, function-level imports included (import-linter). Both read pyproject.toml.
.venv/bin/ruff check .
.venv/bin/lint-imports --no-cache

# Headless Chromium for the desk page test (Debian packages; never a downloaded browser).
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) >/dev/null 2>&1 \
    || echo "Chromium n'a pas pu être installé : les tests navigateur échoueront." >&2
fi

# PostgreSQL, Redis and nginx for the production-profile tests (private instances started by the tests).
bash scripts/debian-services.sh || echo "Sans PostgreSQL/Redis/nginx, les tests du profil production échoueront." >&2
export AIGUILLAGE_REQUIRE_SERVICES=1  # in this run, a missing service fails its tests instead of skipping them

# The model is cached under models/, keyed on a hash of config.yml, domain/ and data/.
.venv/bin/aiguillage train >&2
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
