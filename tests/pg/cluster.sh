# shellcheck shell=bash
# A throw-away PostgreSQL cluster for test scripts. Source it, do not run it:
#
#   source tests/pg/cluster.sh
#   pg_start || case $? in 3) skip "$PG_SKIP_REASON" ;; *) fail "no PostgreSQL" ;; esac
#   psql -X -v ON_ERROR_STOP=1 -d postgres -c 'select 1'   # PGHOST/PGPORT/PGUSER are set
#   pg_stop                                                 # also done on exit
#
# pg_start installs Debian's `postgresql` with apt-get when it is missing and we are root
# (otherwise it returns 3 with PG_SKIP_REASON set: the caller decides between a loud SKIP and,
# with CI=true, a failure). Whatever cluster Debian starts is left alone: initdb/pg_ctl (off
# PATH, under /usr/lib/postgresql/*/bin) run as the postgres user (as root) or as ourselves in a
# temp dir, listening on 127.0.0.1 at a free port with its socket in that dir, fsync off.
#
# Sets and exports: PGHOST=127.0.0.1, PGPORT, PGUSER=postgres, PGDATABASE=postgres,
# PG_SOCKET_DIR, PG_LOG (the server log), PGBIN (the server's bin dir); PG_WORK is the temp dir.
#
# Authentication: the superuser `postgres` is trusted (socket and 127.0.0.1); every other role
# over TCP uses PG_AUTH_HOST (default `trust`; `scram-sha-256` makes passwords count).
# PG_SERVER_OPTS adds server settings (`-c ssl=on -c ssl_cert_file=…`); files it names must be
# readable by the server's user.
#
# Trap-safe: pg_start chains an EXIT trap that calls pg_stop after any EXIT trap already set,
# and makes INT/TERM exit (so the EXIT trap runs). A script that sets its own EXIT trap after
# pg_start must call pg_stop in it. pg_stop is idempotent.

PG_STARTED=false
PG_WORK=""

# The newest server bin dir that has initdb and pg_ctl, or nothing.
pg_bin() {
  local d best=""
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && best="$d"
  done
  if [ -z "$best" ] && command -v dpkg >/dev/null 2>&1; then
    best=$(dpkg -L postgresql-15 2>/dev/null | grep '/bin/initdb$' | head -n1 | xargs -r dirname)
  fi
  printf '%s' "$best"
}

# Runs a server command as the postgres user (as root), or as ourselves.
_pg_as() {
  if [ "$(id -u)" = "0" ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# A TCP port nothing listens on, on 127.0.0.1.
pg_free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
    return
  fi
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      printf '%s\n' "$port"
      return
    fi
  done
  return 1
}

_pg_on_exit() {
  pg_stop
  if [ -n "${_PG_PREVIOUS_EXIT_TRAP:-}" ]; then
    eval "$_PG_PREVIOUS_EXIT_TRAP"
  fi
}

pg_start() {
  PG_SKIP_REASON=""
  PGBIN=$(pg_bin)
  if [ -z "$PGBIN" ] || ! command -v psql >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
      printf 'pg: installing PostgreSQL (apt-get)\n' >&2
      apt-get update -qq >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null || {
        PG_SKIP_REASON="apt-get could not install postgresql"
        return 3
      }
      PGBIN=$(pg_bin)
    else
      PG_SKIP_REASON="PostgreSQL is not installed and cannot be installed here (needs root and apt-get)"
      return 3
    fi
  fi
  if [ -z "$PGBIN" ]; then
    PG_SKIP_REASON="PostgreSQL was installed but initdb was not found under /usr/lib/postgresql"
    return 3
  fi

  # Chain our EXIT trap after the caller's.
  local previous
  previous=$(trap -p EXIT)
  previous=${previous#"trap -- '"}
  previous=${previous%"' EXIT"}
  _PG_PREVIOUS_EXIT_TRAP=${previous//"'\\''"/"'"}
  trap _pg_on_exit EXIT
  [ -n "$(trap -p INT)" ] || trap 'exit 130' INT
  [ -n "$(trap -p TERM)" ] || trap 'exit 143' TERM

  PG_WORK=$(mktemp -d "${TMPDIR:-/tmp}/driftguard-pg.XXXXXX")
  [ "$(id -u)" = "0" ] && chown postgres: "$PG_WORK"
  PG_SOCKET_DIR=$PG_WORK
  PG_LOG=$PG_WORK/server.log
  local data=$PG_WORK/data port
  port=$(pg_free_port) || { printf 'pg: no free port\n' >&2; return 1; }
  if ! _pg_as "$PGBIN/initdb" -D "$data" -U postgres -A trust -E UTF8 --no-locale --no-sync \
    >"$PG_WORK/initdb.log" 2>&1; then
    cat "$PG_WORK/initdb.log" >&2
    return 1
  fi
  local auth=${PG_AUTH_HOST:-trust}
  _pg_as tee "$data/pg_hba.conf" >/dev/null <<EOF
local all all trust
host all postgres 127.0.0.1/32 trust
host all all 127.0.0.1/32 $auth
host all all ::1/128 $auth
EOF
  if ! _pg_as "$PGBIN/pg_ctl" -D "$data" -l "$PG_LOG" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_WORK -c fsync=off -c full_page_writes=off -c synchronous_commit=off ${PG_SERVER_OPTS:-}" \
    start >/dev/null; then
    cat "$PG_LOG" >&2
    return 1
  fi
  PG_STARTED=true
  export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGDATABASE=postgres
  export PG_SOCKET_DIR PG_LOG PGBIN PG_WORK
  printf 'pg: PostgreSQL %s on 127.0.0.1:%s\n' "$("$PGBIN/postgres" --version | awk '{print $3}')" "$port" >&2
}

pg_stop() {
  if $PG_STARTED; then
    _pg_as "$PGBIN/pg_ctl" -D "$PG_WORK/data" -m immediate stop >/dev/null 2>&1 || true
    PG_STARTED=false
  fi
  if [ -n "$PG_WORK" ]; then
    rm -rf "$PG_WORK"
    PG_WORK=""
  fi
}
