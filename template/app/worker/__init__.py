"""The worker process: `python -m app.worker` runs the jobs of app/jobs."""
