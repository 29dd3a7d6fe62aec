"""The app's log lines in the tests: kept with the test that wrote them."""

import logging
from collections.abc import Generator

import pytest


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_teardown() -> Generator[None]:
    """The app's log handler writes in batches (app/core/logging.py): the lines a test,
    its fixtures and, after the last test, the session's fixtures logged last go out while
    pytest still captures that test's output. Left to the handler's next flush, they would
    land between two tests, or after the last one, where pytest prints them below its
    summary. (trylast: inside pytest's own capturing of the teardown.)"""
    try:
        yield
    finally:
        for handler in logging.getLogger().handlers:
            handler.flush()
