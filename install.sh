#!/usr/bin/env bash
# Sets up mask-kiosk in this checkout: .venv with pinned dependencies, then the models.
# Idempotent: a re-run with nothing changed only checks the stamp and the model manifest.
#   ./install.sh          run-time install
#   ./install.sh --dev    plus test dependencies
set -euo pipefail
cd "$(dirname "$0")"

mode=base
for arg in "$@"; do
    case "$arg" in
        --dev) mode=dev ;;
        -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown option $arg (see --help)" >&2; exit 2 ;;
    esac
done

python=${PYTHON:-python3}
if ! .venv/bin/python -c 'import sys' 2>/dev/null; then
    echo "creating .venv with $($python --version)"
    rm -rf .venv
    "$python" -m venv .venv
fi

requirements=(-r requirements.txt)
[ "$mode" = dev ] && requirements+=(-r requirements-dev.txt)
inputs_hash=$(cat requirements.txt requirements-dev.txt constraints.txt pyproject.toml | sha256sum | cut -c1-16)
stamp=.venv/.mask-kiosk-installed
if grep -qx "$inputs_hash $mode" "$stamp" 2>/dev/null || { [ "$mode" = base ] && grep -qx "$inputs_hash dev" "$stamp" 2>/dev/null; }; then
    echo "python dependencies: up to date"
else
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet "${requirements[@]}" -c constraints.txt
    .venv/bin/python -m pip install --quiet --no-deps -e .
    .venv/bin/python -m pip check
    echo "$inputs_hash $mode" > "$stamp"
fi

.venv/bin/mask-kiosk models build
echo "installed: .venv/bin/mask-kiosk"
