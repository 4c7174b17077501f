"""Fixtures of the API tests; the helpers are in web_api.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from web_api import TOKEN, Api, make_api


@pytest.fixture
def api() -> Iterator[Api]:
    client, handle = make_api()
    with client:
        yield handle


@pytest.fixture
def api_with_token() -> Iterator[Api]:
    client, handle = make_api(token=TOKEN)
    with client:
        yield handle
