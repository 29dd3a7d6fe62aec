from fastapi import APIRouter

from app.api.v1.endpoints import auth, users

# Every answer under it carries Cache-Control: no-store unless its route sets its own
# (SecurityHeadersMiddleware): they carry account data.
API_PREFIX = "/api/v1"

api_router = APIRouter(prefix=API_PREFIX)
api_router.include_router(auth.token_router)
api_router.include_router(auth.router)
api_router.include_router(users.router)
