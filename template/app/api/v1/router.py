from fastapi import APIRouter

from app.api.responses import problem_responses
from app.api.v1.routers import auth, users

# Any route may fail unexpectedly; the 500 problem is declared once, for all of them.
api_router = APIRouter(prefix="/api/v1", responses=problem_responses(500))
api_router.include_router(auth.router)
api_router.include_router(users.router)
