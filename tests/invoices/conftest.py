import pytest

from tests.invoices.fakes import BOT_TOKEN, WEBHOOK_SECRET, FakeProvider

__all__ = ["BOT_TOKEN", "WEBHOOK_SECRET"]


@pytest.fixture
def telegram_settings(settings):
    """Telegram configured for the webhook and links only (no outbound server)."""
    settings.TELEGRAM_BOT_TOKEN = BOT_TOKEN
    settings.TELEGRAM_BOT_USERNAME = "thebot_test_bot"
    settings.TELEGRAM_WEBHOOK_SECRET = WEBHOOK_SECRET
    return settings


@pytest.fixture
def fake_provider(settings):
    server = FakeProvider("shop-1", "shop-secret").start()
    settings.PAYMENT_API_BASE_URL = server.url
    settings.PAYMENT_SHOP_ID = "shop-1"
    settings.PAYMENT_SECRET_KEY = "shop-secret"
    settings.PAYMENT_TIMEOUT_SECONDS = 0.5
    settings.PAYMENT_WEBHOOK_TIMEOUT_SECONDS = 0.5
    yield server
    server.stop()
