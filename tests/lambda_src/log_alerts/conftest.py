"""Fixtures of the alerts function's tests: a real local HTTP server standing in for Slack."""
from __future__ import annotations

import pytest

from tests.support.webhook import WebhookServer


@pytest.fixture
def hook():
    with WebhookServer() as server:
        yield server
