"""Work done outside requests, through pgqueuer's job queue in PostgreSQL.

A request puts a job on the queue in its own transaction (outbox.py); the worker
(`python -m app.worker`) takes it, runs its handler (handlers.py) and retries it when it
fails. queue.py says what a job is.
"""
