"""Row locks for assignment state changes, always taken in the same order (assignment, then submission) and in
primary-key order, so that two services never wait on each other. No-ops on SQLite, whose IMMEDIATE
transactions serialize writers anyway."""

from assignments.models import Assignment, Submission


def assignment_for_update(pk: int) -> Assignment:
    return Assignment.objects.select_for_update(of=("self",)).select_related("subject", "teacher").get(pk=pk)


def submission_for_update(pk: int) -> Submission:
    return Submission.objects.select_for_update(of=("self",)).get(pk=pk)


def student_submission_for_update(*, assignment_id: int, student_id: int) -> Submission | None:
    return (
        Submission.objects.select_for_update(of=("self",))
        .filter(assignment_id=assignment_id, student_id=student_id)
        .order_by("pk")
        .first()
    )
