from enum import StrEnum

from config.exceptions import ApiError


class FileErrorCode(StrEnum):
    FILE_TOO_LARGE = "file_too_large"
    FILE_TYPE_NOT_ALLOWED = "file_type_not_allowed"
    FILE_EXTENSION_MISMATCH = "file_extension_mismatch"
    FILE_EMPTY = "file_empty"


class UploadRejected(ApiError):
    pass
