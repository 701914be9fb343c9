import pytest

from tests.invoices.fakes import FakeProvider, FakeTelegram

BOT_TOKEN = "123456:TEST-token"
WEBHOOK_SECRET = "webhook-secret-for-tests"


@pytest.fixture
def fake_telegram(settings):
    server = FakeTelegram(BOT_TOKEN).start()
    settings.TELEGRAM_API_BASE_URL = server.url
    settings.TELEGRAM_BOT_TOKEN = BOT_TOKEN
    settings.TELEGRAM_BOT_USERNAME = "thebot_test_bot"
    settings.TELEGRAM_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.TELEGRAM_TIMEOUT_SECONDS = 0.5
    settings.TELEGRAM_CLIENT_ATTEMPTS = 3
    settings.TELEGRAM_CLIENT_BACKOFF_SECONDS = 0.01
    settings.TELEGRAM_MAX_INLINE_WAIT = 1.5
    yield server
    server.stop()


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
    yield server
    server.stop()
