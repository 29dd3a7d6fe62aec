from typing import Literal

from pydantic import BaseModel


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unreachable"]
    # Only with RATE_LIMIT_STORE=redis: the store of the rate-limit counters.
    redis: Literal["ok", "unreachable"] | None = None
