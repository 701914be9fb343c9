"""Writes on assignments, submissions and grades. Each service is one transaction; state changes run under the
row locks of `assignments.locks` (assignment first, then submission)."""

import logging
from datetime import datetime
from decimal import Decimal

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from assignments import history, locks
from assignments.errors import AssignmentConflict, AssignmentError, AssignmentErrorCode
from assignments.models import (
    MAX_SCORE_LIMIT,
    Assignment,
    AssignmentAttachment,
    AssignmentStatus,
    Submission,
    SubmissionAttempt,
    SubmissionFile,
    SubmissionStatus,
)
from assignments.notices import assignment_published_notify_job
from assignments.selectors import received_by, recipient_ids
from chat.notices import assignment_published_notice
from config.exceptions import NotFound
from core.updating import model_update
from enrollments.models import Enrollment, Subject
from files.checks import check_upload
from files.storage import delete_file_on_commit
from notifications.services import notifications_enabled

logger = logging.getLogger("thebot.assignments")

MAX_FILES_PER_ATTEMPT = 5
# What `assignment_update` changes as plain fields; `students` (the explicit recipients) and `status` have rules
# of their own.
ASSIGNMENT_FIELDS = ("title", "description", "due_at", "max_score", "allow_late")
EDITABLE_FIELDS = {*ASSIGNMENT_FIELDS, "students"}
# Allowed status changes; re-opening a closed assignment lets students hand in again.
TRANSITIONS = {
    (AssignmentStatus.DRAFT, AssignmentStatus.PUBLISHED),
    (AssignmentStatus.PUBLISHED, AssignmentStatus.CLOSED),
    (AssignmentStatus.CLOSED, AssignmentStatus.PUBLISHED),
}


# --- checks ---------------------------------------------------------------------------------------------


def check_can_manage_assignment(user: User, assignment: Assignment) -> None:
    """Only the assignment's teacher (or an admin) changes it, grades it or returns its submissions."""
    if not (user.is_admin or assignment.teacher_id == user.pk):
        raise AssignmentError("Only the assignment's teacher may do this.", AssignmentErrorCode.NOT_ALLOWED, status=403)


def _check_max_score(max_score: Decimal) -> None:
    if not (Decimal(0) < max_score <= MAX_SCORE_LIMIT):
        raise AssignmentError(
            "max_score is out of range.",
            AssignmentErrorCode.SCORE_OUT_OF_RANGE,
            fields={"max_score": [f"Must be greater than 0 and at most {MAX_SCORE_LIMIT}."]},
        )


def _check_recipients(*, teacher_id: int, subject_id: int, students: list[User]) -> None:
    """Explicit recipients must be actively enrolled with the teacher in the subject; the whole list is refused
    when one is not, so the teacher never sends homework to part of a list by accident."""
    wanted = {student.pk for student in students}
    enrolled = set(
        Enrollment.objects.filter(
            teacher_id=teacher_id, subject_id=subject_id, is_active=True, student_id__in=wanted
        ).values_list("student_id", flat=True)
    )
    strangers = sorted(wanted - enrolled)
    if strangers:
        raise AssignmentError(
            "Some students are not enrolled with this teacher in this subject.",
            AssignmentErrorCode.INVALID_RECIPIENTS,
            fields={"assigned_to": [f"Not actively enrolled: {strangers}."]},
        )


def _check_uploads(files: list[UploadedFile], field: str) -> list[str]:
    if len(files) > MAX_FILES_PER_ATTEMPT:
        raise AssignmentError(
            f"At most {MAX_FILES_PER_ATTEMPT} files at once.",
            AssignmentErrorCode.TOO_MANY_FILES,
            fields={field: [f"At most {MAX_FILES_PER_ATTEMPT} files."]},
        )
    return [check_upload(upload, field=field) for upload in files]


# --- assignments ----------------------------------------------------------------------------------------


def assignment_create(
    *,
    teacher: User,
    subject: Subject,
    title: str,
    due_at: datetime,
    max_score: Decimal,
    description: str = "",
    allow_late: bool = False,
    students: list[User] | None = None,
    publish: bool = False,
) -> Assignment:
    """An assignment of `teacher` in `subject`, for `students` or (none given) the teacher's whole class; a
    draft, or published at once with `publish`."""
    students = students or []
    _check_max_score(max_score)
    _check_recipients(teacher_id=teacher.pk, subject_id=subject.pk, students=students)
    with transaction.atomic():
        assignment = Assignment.objects.create(
            teacher=teacher,
            subject=subject,
            title=title,
            description=description,
            due_at=due_at,
            max_score=max_score,
            allow_late=allow_late,
        )
        assignment.students.set(students)
        if publish:
            _change_status(assignment, AssignmentStatus.PUBLISHED)
    return assignment


def assignment_update(*, assignment: Assignment, by: User, data: dict) -> Assignment:
    """Change the editable fields in `data`; a `status` key moves the assignment through its lifecycle too.
    max_score is fixed once a submission is graded (existing scores were given against it)."""
    check_can_manage_assignment(by, assignment)
    data = dict(data)
    status = data.pop("status", None)
    unknown = set(data) - EDITABLE_FIELDS
    if unknown:
        raise AssignmentError(
            f"Fields {sorted(unknown)} cannot be changed.", fields={f: ["Read-only."] for f in unknown}
        )
    if "max_score" in data:
        _check_max_score(data["max_score"])
    if "students" in data:
        _check_recipients(teacher_id=assignment.teacher_id, subject_id=assignment.subject_id, students=data["students"])
    with transaction.atomic():
        locked = locks.assignment_for_update(assignment.pk)
        if (
            "max_score" in data
            and data["max_score"] != locked.max_score
            and locked.submissions.exclude(score__isnull=True).exists()
        ):
            raise AssignmentConflict(
                "max_score cannot change once a submission is graded.", AssignmentErrorCode.MAX_SCORE_LOCKED
            )
        students = data.pop("students", None)
        model_update(locked, data, fields=ASSIGNMENT_FIELDS)
        if students is not None:
            locked.students.set(students)
        if status is not None and status != locked.status:
            _change_status(locked, status)
    return locked


def assignment_publish(*, assignment: Assignment, by: User) -> Assignment:
    """draft → published (or closed → published: re-opened). Publishing a draft posts a notice to its students
    in their subject rooms (`chat.notices.assignment_published_notice`), after commit."""
    return _set_status(assignment=assignment, by=by, status=AssignmentStatus.PUBLISHED)


def assignment_close(*, assignment: Assignment, by: User) -> Assignment:
    """published → closed: no more hand-ins; grading goes on."""
    return _set_status(assignment=assignment, by=by, status=AssignmentStatus.CLOSED)


def _set_status(*, assignment: Assignment, by: User, status: str) -> Assignment:
    check_can_manage_assignment(by, assignment)
    with transaction.atomic():
        locked = locks.assignment_for_update(assignment.pk)
        _change_status(locked, status)
    return locked


def _change_status(assignment: Assignment, status: str) -> None:
    """Within the caller's transaction, on a locked assignment."""
    old = assignment.status
    if (old, status) not in TRANSITIONS:
        raise AssignmentConflict(
            f"An assignment cannot go from {old} to {status}.",
            AssignmentErrorCode.INVALID_TRANSITION,
            extra={"status": old},
        )
    assignment.status = status
    first_publication = old == AssignmentStatus.DRAFT
    if first_publication:
        assignment.published_at = timezone.now()
    assignment.save(update_fields=["status", "published_at", "updated_at"])
    if first_publication:
        student_ids = recipient_ids(assignment)
        transaction.on_commit(lambda: _notify_published(assignment, student_ids))


def _notify_published(assignment: Assignment, student_ids: list[int]) -> None:
    """After the commit of a first publication. A failure is logged; the publication stands."""
    try:
        assignment_published_notice(
            teacher_id=assignment.teacher_id,
            subject_id=assignment.subject_id,
            student_ids=student_ids,
            title=assignment.title,
            due_at=assignment.due_at,
        )
    except Exception:
        logger.exception("assignment published notice failed", extra={"fields": {"assignment": assignment.pk}})
    try:
        if student_ids and notifications_enabled():
            # One job for the whole class, whatever its size: the worker queues each student's notification.
            assignment_published_notify_job.enqueue(assignment.pk, student_ids)
    except Exception:
        logger.exception("assignment published notification failed", extra={"fields": {"assignment": assignment.pk}})


def assignment_delete(*, assignment: Assignment, by: User) -> None:
    """Delete an assignment nobody has handed anything in for (otherwise close it: students' work is kept)."""
    check_can_manage_assignment(by, assignment)
    with transaction.atomic():
        locked = locks.assignment_for_update(assignment.pk)
        if locked.submissions.exists():
            raise AssignmentConflict(
                "Students have handed in work for this assignment; close it instead.",
                AssignmentErrorCode.HAS_SUBMISSIONS,
            )
        for attachment in locked.attachments.all():
            delete_file_on_commit(attachment.file)
        locked.delete()


def attachment_add(*, assignment: Assignment, by: User, upload: UploadedFile) -> AssignmentAttachment:
    check_can_manage_assignment(by, assignment)
    content_type = check_upload(upload)
    with transaction.atomic():
        locked = locks.assignment_for_update(assignment.pk)
        return AssignmentAttachment.objects.create(
            assignment=locked,
            file=upload,
            name=(upload.name or "file")[:255],
            content_type=content_type,
            size=upload.size,
            uploaded_by=by,
        )


def attachment_delete(*, attachment: AssignmentAttachment, by: User) -> None:
    check_can_manage_assignment(by, attachment.assignment)
    with transaction.atomic():
        locks.assignment_for_update(attachment.assignment_id)
        delete_file_on_commit(attachment.file)
        attachment.delete()


# --- submissions ----------------------------------------------------------------------------------------


def submission_submit(
    *,
    assignment: Assignment,
    student: User,
    text: str = "",
    files: list[UploadedFile] | None = None,
    now: datetime | None = None,
) -> Submission:
    """Hand in (or hand in again) `student`'s work: a new attempt with `text` and `files`.

    Refused when the assignment is closed (409), when the student's submission is graded (409), and after
    `due_at` unless the assignment allows late work (400); a hand-in at `due_at` exactly is on time.
    `now` defaults to the current time (tests pass the boundary instants).
    """
    files = files or []
    now = now or timezone.now()
    if not text.strip() and not files:
        raise AssignmentError(
            "Hand in a text or at least one file.",
            AssignmentErrorCode.SUBMISSION_EMPTY,
            fields={"text": ["Text or files are required."]},
        )
    content_types = _check_uploads(files, "files")
    with transaction.atomic():
        locked = locks.assignment_for_update(assignment.pk)
        receives = Assignment.objects.filter(received_by([student.pk]), pk=locked.pk).exists()
        if locked.status == AssignmentStatus.DRAFT or not receives:
            raise NotFound("No such assignment.")
        if locked.status == AssignmentStatus.CLOSED:
            raise AssignmentConflict("The assignment is closed.", AssignmentErrorCode.ASSIGNMENT_CLOSED)
        is_late = now > locked.due_at
        if is_late and not locked.allow_late:
            raise AssignmentError("The due date has passed.", AssignmentErrorCode.PAST_DUE)
        submission = locks.student_submission_for_update(assignment_id=locked.pk, student_id=student.pk)
        if submission is None:
            submission = _first_submission(locked, student, now, is_late)
        elif submission.status == SubmissionStatus.GRADED:
            raise AssignmentConflict(
                "The submission is graded; it can no longer be changed.", AssignmentErrorCode.ALREADY_GRADED
            )
        else:
            submission.attempt += 1
            submission.status = SubmissionStatus.SUBMITTED
            submission.submitted_at = now
            submission.is_late = is_late
            submission.save(update_fields=["attempt", "status", "submitted_at", "is_late", "updated_at"])
        attempt = SubmissionAttempt.objects.create(
            submission=submission, number=submission.attempt, text=text, submitted_at=now, is_late=is_late
        )
        for upload, content_type in zip(files, content_types, strict=True):
            SubmissionFile.objects.create(
                attempt=attempt,
                file=upload,
                name=(upload.name or "file")[:255],
                content_type=content_type,
                size=upload.size,
            )
    return submission


def _first_submission(assignment: Assignment, student: User, now: datetime, is_late: bool) -> Submission:
    # The assignment row lock serializes hand-ins to one assignment, so the unique constraint only fires on a
    # bug; it still answers 409 rather than 500.
    try:
        with transaction.atomic():
            return Submission.objects.create(
                assignment=assignment, student=student, submitted_at=now, is_late=is_late, attempt=1
            )
    except IntegrityError as exc:
        raise AssignmentConflict("A submission is already being handed in; try again.") from exc


def submission_grade(
    *, submission: Submission, by: User, score: Decimal, feedback: str = "", now: datetime | None = None
) -> Submission:
    """Grade (or re-grade) the current attempt: 0 ≤ score ≤ max_score. Every grade is kept in GradeHistory."""
    now = now or timezone.now()
    with transaction.atomic():
        assignment = locks.assignment_for_update(submission.assignment_id)
        check_can_manage_assignment(by, assignment)
        locked = locks.submission_for_update(submission.pk)
        if not (Decimal(0) <= score <= assignment.max_score):
            raise AssignmentError(
                "The score is out of range.",
                AssignmentErrorCode.SCORE_OUT_OF_RANGE,
                fields={"score": [f"Must be between 0 and {assignment.max_score}."]},
            )
        if locked.status == SubmissionStatus.RETURNED:
            raise AssignmentConflict(
                "The submission was returned for rework; wait for the next attempt.", AssignmentErrorCode.NOT_GRADABLE
            )
        locked.status = SubmissionStatus.GRADED
        locked.score = score
        locked.feedback = feedback
        locked.graded_by = by
        locked.graded_at = now
        locked.save(update_fields=["status", "score", "feedback", "graded_by", "graded_at", "updated_at"])
        locked.assignment = assignment
        history.submission_graded(submission=locked, by=by)
    return locked


def submission_return(*, submission: Submission, by: User, feedback: str, now: datetime | None = None) -> Submission:
    """Send the submission back for rework: the student may hand in again. A grade it had moves to history."""
    now = now or timezone.now()
    with transaction.atomic():
        assignment = locks.assignment_for_update(submission.assignment_id)
        check_can_manage_assignment(by, assignment)
        locked = locks.submission_for_update(submission.pk)
        if locked.status == SubmissionStatus.RETURNED:
            raise AssignmentConflict("The submission is already returned.", AssignmentErrorCode.NOT_RETURNABLE)
        locked.status = SubmissionStatus.RETURNED
        locked.score = None
        locked.feedback = feedback
        locked.graded_by = None
        locked.graded_at = None
        locked.save(update_fields=["status", "score", "feedback", "graded_by", "graded_at", "updated_at"])
        locked.assignment = assignment
        history.submission_returned(submission=locked, by=by, at=now)
    return locked
