from enum import StrEnum

from config.exceptions import ApiError


class SchedulingErrorCode(StrEnum):
    LESSON_CONFLICT = "lesson_conflict"
    NOT_ENROLLED = "not_enrolled"
    UNKNOWN_STUDENT = "unknown_student"
    UNKNOWN_TEACHER = "unknown_teacher"
    UNKNOWN_SUBJECT = "unknown_subject"
    INVALID_DURATION = "invalid_duration"
    START_IN_PAST = "start_in_past"
    INVALID_TRANSITION = "invalid_transition"
    CANCEL_TOO_LATE = "cancel_too_late"
    LESSON_NOT_STARTED = "lesson_not_started"
    NOT_ALLOWED = "permission_denied"


class SchedulingError(ApiError):
    """400 unless a status is given."""


class SchedulingConflict(SchedulingError):
    status_code = 409


class SchedulingForbidden(SchedulingError):
    status_code = 403

    def __init__(self, detail: str, code: str = SchedulingErrorCode.NOT_ALLOWED, **kwargs):
        super().__init__(detail, code, **kwargs)
