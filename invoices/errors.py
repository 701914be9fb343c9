from enum import StrEnum

from config.exceptions import ApiError


class InvoiceErrorCode(StrEnum):
    ILLEGAL_TRANSITION = "illegal_transition"
    NOT_EDITABLE = "not_editable"
    NOT_YOUR_STUDENT = "not_your_student"
    STUDENT_HAS_NO_PARENT = "student_has_no_parent"
    ENROLLMENT_MISMATCH = "enrollment_mismatch"
    DUE_DATE_IN_PAST = "due_date_in_past"
    NOT_DUE = "not_due"
    NOT_ALLOWED = "not_allowed"
    PAYMENT_PROVIDER_UNAVAILABLE = "payment_provider_unavailable"
    PAYMENT_IN_PROGRESS = "payment_in_progress"
    PAYMENTS_NOT_CONFIGURED = "payments_not_configured"
    PAYMENT_CHECK_DEFERRED = "payment_check_deferred"
    # billing (lines, rates, runs)
    HAS_LINES = "has_lines"
    LINE_NOT_EDITABLE = "line_not_editable"
    TOTAL_NOT_POSITIVE = "total_not_positive"
    DISCOUNT_TOO_LARGE = "discount_too_large"
    NOT_A_TUTOR = "not_a_tutor"
    INVALID_PERIOD = "invalid_period"


class InvoiceError(ApiError):
    pass


class IllegalTransition(InvoiceError):
    status_code = 409

    def __init__(self, old: str, new: str):
        super().__init__(
            f"An invoice cannot go from '{old}' to '{new}'.",
            InvoiceErrorCode.ILLEGAL_TRANSITION,
            extra={"status": old},
        )
