#!/usr/bin/env bash
# Installs the pinned moto server into a git-ignored virtualenv (.cache/venv-moto); a no-op when it is already there.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.cache/venv-moto"
req="$root/scripts/moto-requirements.txt"
stamp="$venv/.installed-$(sha256sum "$req" | cut -c1-16)"
if [ -x "$venv/bin/moto_server" ] && [ -f "$stamp" ]; then
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
rm -f "$venv"/.installed-*
touch "$stamp"
echo "moto installed in $venv"
