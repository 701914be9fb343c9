"""The platform's only Telegram Bot API client.

Used from background jobs only (notifications.tasks.telegram_send_message, which `notifications.services.notify`
enqueues). Every call has a timeout, never follows redirects, and retries a few times in-process with
exponential backoff: on network errors, timeouts and 5xx, and on 429 when Telegram's `retry_after` is short.
What is still failing after that raises `TelegramRetryLater` (the job re-enqueues itself for later) or
`TelegramRejected` (a 4xx that retrying cannot fix: blocked bot, unknown chat, bad request).
"""

import logging
import time
from dataclasses import dataclass

import httpx
from django.conf import settings

logger = logging.getLogger("thebot.telegram")


class TelegramError(Exception):
    pass


class TelegramNotConfigured(TelegramError):
    pass


class TelegramRejected(TelegramError):
    """Telegram refused the request for good (4xx other than 429)."""


class TelegramRetryLater(TelegramError):
    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Button:
    """An inline keyboard button: either a URL button or a callback button."""

    text: str
    url: str | None = None
    callback_data: str | None = None

    def as_dict(self) -> dict:
        data = {"text": self.text}
        if self.url is not None:
            data["url"] = self.url
        else:
            data["callback_data"] = self.callback_data or ""
        return data


def telegram_enabled() -> bool:
    return bool(settings.TELEGRAM_BOT_TOKEN)


class TelegramClient:
    def __init__(
        self,
        *,
        token: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        attempts: int | None = None,
        backoff: float | None = None,
        max_inline_wait: float | None = None,
    ):
        self.token = token if token is not None else settings.TELEGRAM_BOT_TOKEN
        if not self.token:
            raise TelegramNotConfigured("TELEGRAM_BOT_TOKEN is not set")
        self.base_url = (base_url or settings.TELEGRAM_API_BASE_URL).rstrip("/")
        self.timeout = timeout if timeout is not None else settings.TELEGRAM_TIMEOUT_SECONDS
        # At least one attempt: the call below raises the last attempt's error, so there must be one.
        self.attempts = max(1, attempts if attempts is not None else settings.TELEGRAM_CLIENT_ATTEMPTS)
        self.backoff = backoff if backoff is not None else settings.TELEGRAM_CLIENT_BACKOFF_SECONDS
        # A 429 asking to wait longer than this is handed back to the job queue instead of sleeping here.
        self.max_inline_wait = max_inline_wait if max_inline_wait is not None else settings.TELEGRAM_MAX_INLINE_WAIT

    def call(self, method: str, payload: dict) -> dict:
        """Call a Bot API method and return its `result`."""
        url = f"{self.base_url}/bot{self.token}/{method}"
        last_error: TelegramRetryLater | None = None
        with httpx.Client(timeout=self.timeout, follow_redirects=False) as http:
            for attempt in range(1, self.attempts + 1):
                try:
                    return self._call_once(http, url, method, payload)
                except TelegramRetryLater as error:
                    last_error = error
                    wait = error.retry_after if error.retry_after is not None else self.backoff * 2 ** (attempt - 1)
                    if attempt == self.attempts or wait > self.max_inline_wait:
                        break
                    time.sleep(wait)
        if last_error is None:  # unreachable: every attempt returns, raises or sets it
            raise TelegramRetryLater("no attempt was made")
        raise last_error

    def _call_once(self, http: httpx.Client, url: str, method: str, payload: dict) -> dict:
        try:
            response = http.post(url, json=payload)
        except httpx.HTTPError as error:
            # Never log the URL: it carries the bot token.
            logger.warning("telegram call failed", extra={"fields": {"method": method, "error": type(error).__name__}})
            raise TelegramRetryLater(f"{method}: {type(error).__name__}") from None
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code == 429:
            retry_after = (body.get("parameters") or {}).get("retry_after")
            if retry_after is None:
                retry_after = _header_seconds(response.headers.get("Retry-After"))
            logger.warning("telegram throttled", extra={"fields": {"method": method, "retry_after": retry_after}})
            raise TelegramRetryLater(f"{method}: throttled", retry_after=float(retry_after or 1))
        if response.status_code >= 500 or 300 <= response.status_code < 400:
            logger.warning("telegram error", extra={"fields": {"method": method, "status": response.status_code}})
            raise TelegramRetryLater(f"{method}: HTTP {response.status_code}")
        if response.status_code != 200 or not body.get("ok"):
            logger.warning("telegram rejected", extra={"fields": {"method": method, "status": response.status_code}})
            raise TelegramRejected(f"{method}: {body.get('description', response.status_code)}")
        return body.get("result") or {}

    def send_message(self, chat_id: int, text: str, buttons: list[list[Button | dict]] | None = None) -> int:
        """Send a text message; returns Telegram's message_id."""
        payload: dict = {"chat_id": chat_id, "text": text[:4096], "disable_web_page_preview": True}
        if buttons:
            payload["reply_markup"] = {"inline_keyboard": keyboard(buttons)}
        return int(self.call("sendMessage", payload)["message_id"])


def keyboard(buttons: list[list[Button | dict]]) -> list[list[dict]]:
    return [[b.as_dict() if isinstance(b, Button) else dict(b) for b in row] for row in buttons]


def _header_seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def callback_data(action: str, object_id: int) -> str:
    """The data of a button pressed in Telegram: `<action>:<id>`, dispatched by the webhook to the service that
    settings.TELEGRAM_CALLBACK_ACTIONS names for `action`."""
    return f"{action}:{object_id}"


def deep_link(code: str) -> str:
    return f"https://t.me/{settings.TELEGRAM_BOT_USERNAME}?start={code}"
