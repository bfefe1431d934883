#!/usr/bin/env bash
# Run every test: unit tests of bot/, the trained model through Rasa and the action server, the desk page in Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false  # nothing leaves the machine
bash scripts/setup.sh

# Headless Chromium for the desk page test (Debian packages; never a downloaded browser).
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) >/dev/null 2>&1 \
    || echo "Chromium n'a pas pu être installé : les tests navigateur seront ignorés." >&2
fi

# The model is cached under models/, keyed on a hash of config.yml, domain/ and data/.
.venv/bin/aiguillage train >&2
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
