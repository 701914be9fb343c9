from enum import StrEnum

from config.exceptions import ApiError, ErrorCode


class ChatErrorCode(StrEnum):
    NOT_FOUND = ErrorCode.NOT_FOUND.value  # a room that is missing or not yours, as everywhere
    MESSAGE_NOT_FOUND = "message_not_found"
    USER_NOT_FOUND = "user_not_found"
    NOT_AUTHOR = "not_author"
    ROOM_READ_ONLY = "room_read_only"
    MESSAGE_DELETED = "message_deleted"
    CLIENT_ID_REUSED = "client_id_reused"
    GROUP_NOT_ALLOWED = "group_not_allowed"
    DIRECT_WITH_SELF = "direct_with_self"
    TEXT_REQUIRED = "text_required"
    TEXT_TOO_LONG = "text_too_long"
    THROTTLED = "throttled"
    BAD_FRAME = "bad_frame"
    UNKNOWN_TYPE = "unknown_type"


class ChatError(ApiError):
    pass
