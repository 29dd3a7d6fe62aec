from fastapi import APIRouter, Depends, Response

from app.api.v1.endpoints import auth, users


async def never_stored(response: Response) -> None:
    """The API's answers carry account data (a profile, tokens, a list of users): no
    browser cache or shared proxy may keep a copy for the next person at the keyboard."""
    response.headers["Cache-Control"] = "no-store"


# The default for every route below, those a team adds included; a route that serves public,
# cacheable data sets its own Cache-Control.
api_router = APIRouter(prefix="/api/v1", dependencies=[Depends(never_stored)])
api_router.include_router(auth.token_router)
api_router.include_router(auth.router)
api_router.include_router(users.router)
