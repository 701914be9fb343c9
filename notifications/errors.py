from enum import StrEnum

from config.exceptions import ApiError


class NotificationErrorCode(StrEnum):
    TELEGRAM_NOT_CONFIGURED = "telegram_not_configured"


class NotificationError(ApiError):
    pass
