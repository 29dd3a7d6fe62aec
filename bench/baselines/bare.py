"""Baseline: FastAPI itself, answering a small JSON with no middleware and no I/O."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/health/live")
async def live() -> dict[str, str]:
    return {"status": "ok"}
