import pytest

from tests.inventories import load


@pytest.fixture
def small_inventory(app):
    load()
