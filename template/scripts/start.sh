#!/bin/sh
# The one start command of the service: prepare metrics, apply migrations, then serve.
set -eu

# With several workers, each writes its metric samples to this directory and /metrics adds
# them all up; the settings (read by the migrations too) require it then. Samples of an
# earlier run must not count again: left unset, the directory is a new one; a directory
# given is emptied of prometheus_client's files only, in case it also holds something else.
# One worker keeps its samples in memory, which costs a request far less than the files.
if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
    mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
    find "$PROMETHEUS_MULTIPROC_DIR" -maxdepth 1 -type f -name '*.db' -delete
    export PROMETHEUS_MULTIPROC_DIR
elif [ "${WEB_CONCURRENCY:-1}" -gt 1 ]; then
    PROMETHEUS_MULTIPROC_DIR="$(mktemp -d "${TMPDIR:-/tmp}/prometheus-multiproc.XXXXXX")"
    export PROMETHEUS_MULTIPROC_DIR
fi

# Every replica runs this; a PostgreSQL advisory lock lets exactly one of them migrate.
python -m app.db.migrate

# The app reads X-Forwarded-* itself, trusting only FORWARDED_ALLOW_IPS (app/api/middleware);
# app.server limits the number and size of request headers.
# An idle connection stays open KEEP_ALIVE_SECONDS (75). A proxy or client that reuses a
# connection the server is just closing gets an error (a 502 from a load balancer), so the
# server must wait longer than whatever is in front: load balancers and ingress controllers
# commonly keep idle upstream connections for 60 s; uvicorn's own default is 5 s.
uvicorn app.main:create_app --factory \
    --http app.server:HttpProtocol \
    --host "${HOST:-0.0.0.0}" \
    --port "${PORT:-8000}" \
    --workers "${WEB_CONCURRENCY:-1}" \
    --no-proxy-headers \
    --no-server-header \
    --timeout-keep-alive "${KEEP_ALIVE_SECONDS:-75}" \
    --timeout-graceful-shutdown 20 &
server=$!

# On SIGTERM (docker stop, a rolling deploy) uvicorn stops accepting connections, lets the
# requests in flight finish for up to 20 seconds, then re-raises the signal to die of it.
# This shell stays to pass the signal on, and reports a graceful stop as a clean exit (0);
# any other end of the server is its own exit status.
trap 'kill -TERM "$server" 2>/dev/null' TERM
# Ctrl+C in a terminal reaches both processes already; passing it on would make it a second
# SIGINT, which uvicorn takes as "quit now".
trap ':' INT
while :; do
    status=0
    # 2>/dev/null: the shell's own "Terminated" notice of a job killed by a signal is no
    # log line (every line the service writes is JSON).
    wait "$server" 2>/dev/null || status=$?
    kill -0 "$server" 2>/dev/null || break  # a trapped signal interrupts wait; loop on
done
case $status in
    130 | 143) exit 0 ;;  # 128 + SIGINT, 128 + SIGTERM: stopped as asked
    *) exit "$status" ;;
esac
