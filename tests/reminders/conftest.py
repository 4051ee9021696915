from tests.notices.conftest import incident, inventory, privacy  # noqa: F401 - the same fixtures
