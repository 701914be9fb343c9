"""The chat's socket fixtures, for tests/security/test_websocket_access.py."""

from tests.chat.conftest import anyio_backend, fresh_channel_layer  # noqa: F401 - fixtures
