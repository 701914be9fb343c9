from enum import StrEnum

from config.exceptions import ApiError


class NotificationErrorCode(StrEnum):
    TELEGRAM_NOT_CONFIGURED = "telegram_not_configured"
    INVALID_UNSUBSCRIBE_TOKEN = "invalid_unsubscribe_token"  # nosec B105  # an error code, not a password


class NotificationError(ApiError):
    pass
