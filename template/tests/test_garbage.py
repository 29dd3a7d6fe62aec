"""The server's app freezes what start-up made and collects young objects less often."""

import gc
from collections.abc import Iterator

import pytest

from app.core import garbage
from app.core.config import Settings
from app.db.session import Database
from app.main import create_app


@pytest.fixture
def collector() -> Iterator[None]:
    """The collector as the test found it, afterwards."""
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


async def test_the_servers_app_settles_the_collector_once_started(
    settings: Settings, collector: None
) -> None:
    gc.unfreeze()
    app = create_app(settings)  # no database given: the app is the server's own
    assert gc.get_freeze_count() == 0
    async with app.router.lifespan_context(app):
        assert gc.get_freeze_count() > 10_000  # modules, routes, models: all frozen
        assert gc.get_threshold() == garbage.THRESHOLDS


async def test_a_tests_app_leaves_the_collector_alone(
    settings: Settings, database: Database, collector: None
) -> None:
    gc.unfreeze()
    thresholds = gc.get_threshold()
    app = create_app(settings, database)
    async with app.router.lifespan_context(app):
        assert gc.get_freeze_count() == 0
        assert gc.get_threshold() == thresholds
