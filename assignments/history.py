"""Grading history (audit rows, `GradeHistory`): one function per kind of change, called by the services (never by
views or signals)."""

from assignments.models import GradeAction, GradeHistory, Submission


def submission_graded(*, submission: Submission, by) -> GradeHistory:
    """Record the grade `submission` now carries (its score, feedback, grader and time)."""
    return GradeHistory.objects.create(
        submission=submission,
        attempt=submission.attempt,
        action=GradeAction.GRADED,
        score=submission.score,
        max_score=submission.assignment.max_score,
        feedback=submission.feedback,
        by=by,
        at=submission.graded_at,
    )


def submission_returned(*, submission: Submission, by, at) -> GradeHistory:
    """Record that the teacher sent `submission` back for rework with its feedback."""
    return GradeHistory.objects.create(
        submission=submission,
        attempt=submission.attempt,
        action=GradeAction.RETURNED,
        score=None,
        max_score=submission.assignment.max_score,
        feedback=submission.feedback,
        by=by,
        at=at,
    )
