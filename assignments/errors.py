from enum import StrEnum

from config.exceptions import ApiError


class AssignmentErrorCode(StrEnum):
    INVALID_RECIPIENTS = "invalid_recipients"
    INVALID_TRANSITION = "invalid_transition"
    ASSIGNMENT_CLOSED = "assignment_closed"
    PAST_DUE = "past_due"
    SUBMISSION_EMPTY = "submission_empty"
    TOO_MANY_FILES = "too_many_files"
    ALREADY_GRADED = "already_graded"
    NOT_GRADABLE = "not_gradable"
    NOT_RETURNABLE = "not_returnable"
    SCORE_OUT_OF_RANGE = "score_out_of_range"
    MAX_SCORE_LOCKED = "max_score_locked"
    HAS_SUBMISSIONS = "has_submissions"
    NOT_ALLOWED = "not_allowed"


class AssignmentError(ApiError):
    """400 unless a status is given."""


class AssignmentConflict(ApiError):
    status_code = 409
