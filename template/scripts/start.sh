#!/bin/sh
# The one start command of the service: apply migrations, then serve.
set -eu

alembic upgrade head

# --proxy-headers trusts X-Forwarded-* only from FORWARDED_ALLOW_IPS.
exec uvicorn app.main:create_app --factory \
    --host "${HOST:-0.0.0.0}" \
    --port "${PORT:-8000}" \
    --workers "${WEB_CONCURRENCY:-1}" \
    --proxy-headers \
    --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}" \
    --no-server-header \
    --timeout-graceful-shutdown 20
