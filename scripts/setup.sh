#!/usr/bin/env bash
# Create .venv with Python 3.10 and install Aiguillage; does nothing when already up to date.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  for candidate in "${PYTHON:-}" python3.10 "$HOME/.pyenv/versions/3.10.13/bin/python3.10" /usr/bin/python3.10; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  for candidate in "$HOME"/.pyenv/versions/3.10.*/bin/python3.10; do
    [ -x "$candidate" ] && { echo "$candidate"; return 0; }
  done
  return 1
}

if [ ! -x .venv/bin/python ]; then
  PY=$(find_python) || { echo "Python 3.10 introuvable (Rasa 3.6 exige Python 3.10). Installez-le (pyenv install 3.10) ou donnez PYTHON=/chemin/python3.10." >&2; exit 1; }
  echo "Création de l'environnement avec $PY" >&2
  "$PY" -m venv .venv
fi

stamp=.venv/.aiguillage-installed
want=$(cat pyproject.toml constraints.txt 2>/dev/null | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --upgrade "pip<25" >&2
  .venv/bin/python -m pip install --quiet -c constraints.txt -e ".[test]" >&2
  echo "$want" > "$stamp"
fi
