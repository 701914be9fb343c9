from enum import StrEnum

from config.exceptions import ApiError


class MaterialErrorCode(StrEnum):
    SUBJECT_EXISTS = "subject_exists"
    WRONG_ROLE = "wrong_role"
    NOT_YOUR_STUDENT = "not_your_student"
    ENROLLMENT_EXISTS = "enrollment_exists"
    ENROLLMENT_INACTIVE = "enrollment_inactive"
    NOT_A_RECIPIENT = "not_a_recipient"
    AUTHOR_REQUIRED = "author_required"
    NO_FILE = "no_file"


class MaterialError(ApiError):
    pass
