#!/usr/bin/env bash
# Install from Debian packages what the production profile (and its tests) need, when missing:
# PostgreSQL, Redis, nginx. Does nothing when they are there; needs root and apt-get otherwise.
set -euo pipefail
missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "Paquets Debian manquants : ${missing[*]} (installez-les : apt-get install ${missing[*]})." >&2
  exit 1
fi
echo "Installation de : ${missing[*]}" >&2
(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}") >/dev/null
# Debian starts nothing without systemd, and we run our own private instances anyway.
