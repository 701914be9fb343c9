from enum import StrEnum

from config.exceptions import ApiError


class AccountErrorCode(StrEnum):
    INVALID_CREDENTIALS = "invalid_credentials"
    EMAIL_TAKEN = "email_taken"
    WRONG_ROLE = "wrong_role"
    WRONG_PASSWORD = "wrong_password"  # nosec B105  # an error code, not a password
    WEAK_PASSWORD = "weak_password"  # nosec B105  # an error code, not a password
    READ_ONLY_FIELD = "read_only_field"
    CANNOT_DEACTIVATE_SELF = "cannot_deactivate_self"
    INVALID_RESET_TOKEN = "invalid_reset_token"  # nosec B105  # an error code, not a password


class AccountError(ApiError):
    pass
