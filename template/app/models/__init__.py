"""Every model. Each module of this folder is imported here, so that Alembic and the
mappers see every table: a new model is a module of its own, with nothing to add here.
Import a model from its module (`from app.models.note import Note`); the template's own
are also named below, as they always were."""

import importlib
import pkgutil

from app.models.account_token import AccountToken
from app.models.refresh_token import RefreshToken
from app.models.user import User

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["AccountToken", "RefreshToken", "User"]
