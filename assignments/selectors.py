"""Reads and visibility of assignments and submissions, derived from `enrollments.visibility.students_of`.

- admin: everything;
- teacher: their own assignments (any status) and every submission to them;
- student: the published or closed assignments they receive, and their own submissions;
- tutor, parent: the published or closed assignments their students receive, and those students' submissions.
"""

from django.db.models import (
    Count,
    Exists,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from accounts.models import Role, User
from assignments.models import (
    Assignment,
    AssignmentAttachment,
    AssignmentStatus,
    GradeHistory,
    Submission,
    SubmissionAttempt,
    SubmissionFile,
    SubmissionStatus,
)
from config.exceptions import NotFound
from enrollments.models import Enrollment
from enrollments.visibility import student_ids_of

VISIBLE_TO_STUDENTS = [AssignmentStatus.PUBLISHED, AssignmentStatus.CLOSED]
ExplicitRecipient = Assignment.students.through


def count_of(queryset: QuerySet, group_by: str):
    """A correlated COUNT(*) subquery (0 when nothing matches), cheaper than joins that multiply rows."""
    counted = queryset.order_by().values(group_by).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def received_by(student_ids) -> Q:
    """Assignments received by any of `student_ids` (ids or a subquery of ids): explicitly, or, when the
    assignment names nobody, through an active enrollment with its teacher in its subject."""
    has_explicit = Exists(ExplicitRecipient.objects.filter(assignment_id=OuterRef("pk")))
    explicit = Exists(ExplicitRecipient.objects.filter(assignment_id=OuterRef("pk"), user_id__in=student_ids))
    enrolled = Exists(
        Enrollment.objects.filter(
            teacher_id=OuterRef("teacher_id"),
            subject_id=OuterRef("subject_id"),
            is_active=True,
            student_id__in=student_ids,
        )
    )
    return Q(explicit) | (~Q(has_explicit) & Q(enrolled))


def recipient_ids(assignment: Assignment) -> list[int]:
    """The ids of the students who receive `assignment`, sorted."""
    explicit = list(
        ExplicitRecipient.objects.filter(assignment_id=assignment.pk)
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )
    if explicit:
        return explicit
    return list(
        Enrollment.objects.filter(teacher_id=assignment.teacher_id, subject_id=assignment.subject_id, is_active=True)
        .order_by("student_id")
        .values_list("student_id", flat=True)
    )


def visible_student_ids(user: User) -> set[int] | None:
    """The explicit recipients `user` may see on an assignment they read: all of them (None) for teachers and
    admins, else only their own students (a student: themself)."""
    if user.is_admin or user.role == Role.TEACHER:
        return None
    if user.role == Role.STUDENT:
        return {user.pk}
    return set(student_ids_of(user).values_list("pk", flat=True))


def assignments_visible_to(user: User) -> QuerySet[Assignment]:
    assignments = Assignment.objects.all()
    if user.is_admin:
        return assignments
    if user.role == Role.TEACHER:
        return assignments.filter(teacher=user)
    if user.role in (Role.STUDENT, Role.TUTOR, Role.PARENT):
        return assignments.filter(received_by(student_ids_of(user)), status__in=VISIBLE_TO_STUDENTS)
    return assignments.none()


def assignments_for_screen(user: User) -> QuerySet[Assignment]:
    """`assignments_visible_to` with everything the list and detail show, in a fixed number of queries:
    a student's own submission summary (one LEFT JOIN), a teacher's or admin's counts (correlated subqueries)."""
    assignments = (
        assignments_visible_to(user)
        .select_related("teacher", "subject")
        .prefetch_related(
            Prefetch("students", queryset=User.objects.order_by("id").only("id")),
            "attachments",
        )
    )
    if user.role == Role.STUDENT:
        return assignments.annotate(
            mine=FilteredRelation("submissions", condition=Q(submissions__student=user)),
            my_submission_id=F("mine__id"),
            my_status=F("mine__status"),
            my_score=F("mine__score"),
            my_submitted_at=F("mine__submitted_at"),
            my_is_late=F("mine__is_late"),
            my_attempt=F("mine__attempt"),
        )
    if user.is_admin or user.role == Role.TEACHER:
        submissions = Submission.objects.filter(assignment_id=OuterRef("pk"))
        return assignments.annotate(
            explicit_count=count_of(ExplicitRecipient.objects.filter(assignment_id=OuterRef("pk")), "assignment_id"),
            enrolled_count=count_of(
                Enrollment.objects.filter(
                    teacher_id=OuterRef("teacher_id"), subject_id=OuterRef("subject_id"), is_active=True
                ),
                "teacher_id",
            ),
            submitted_count=count_of(submissions, "assignment_id"),
            graded_count=count_of(submissions.filter(status=SubmissionStatus.GRADED), "assignment_id"),
            returned_count=count_of(submissions.filter(status=SubmissionStatus.RETURNED), "assignment_id"),
            late_count=count_of(submissions.filter(is_late=True), "assignment_id"),
        )
    return assignments


def access_assignment(user: User, pk: int, *, for_screen: bool = False) -> Assignment:
    """The assignment `pk` if `user` may see it; 404 alike for missing and foreign ones."""
    queryset = assignments_for_screen(user) if for_screen else assignments_visible_to(user)
    assignment = queryset.filter(pk=pk).first()
    if assignment is None:
        raise NotFound("No such assignment.")
    return assignment


def access_attachment(user: User, assignment_id: int, attachment_id: int) -> AssignmentAttachment:
    """An attachment of an assignment `user` may see, with that assignment; 404 alike for a missing or foreign
    assignment and for an attachment that is not one of its own."""
    assignment = access_assignment(user, assignment_id)
    attachment = AssignmentAttachment.objects.filter(assignment=assignment, pk=attachment_id).first()
    if attachment is None:
        raise NotFound("No such attachment.")
    attachment.assignment = assignment
    return attachment


def submissions_visible_to(user: User) -> QuerySet[Submission]:
    submissions = Submission.objects.all()
    if user.is_admin:
        return submissions
    if user.role == Role.TEACHER:
        return submissions.filter(assignment__teacher=user)
    if user.role == Role.STUDENT:
        return submissions.filter(student=user)
    if user.role in (Role.TUTOR, Role.PARENT):
        return submissions.filter(student_id__in=student_ids_of(user))
    return submissions.none()


def _attempts_with_files() -> Prefetch:
    return Prefetch(
        "attempts",
        queryset=SubmissionAttempt.objects.order_by("number").prefetch_related(
            Prefetch("files", queryset=SubmissionFile.objects.order_by("id"))
        ),
    )


def submissions_for_list(user: User) -> QuerySet[Submission]:
    """Submissions with student, grader and every attempt's files: a fixed number of queries per page."""
    return (
        submissions_visible_to(user)
        .select_related("student", "graded_by", "assignment")
        .prefetch_related(_attempts_with_files())
    )


def submissions_for_detail(user: User) -> QuerySet[Submission]:
    return submissions_for_list(user).prefetch_related(
        Prefetch("grade_history", queryset=GradeHistory.objects.select_related("by").order_by("at", "id"))
    )


def access_submission(user: User, pk: int, *, for_detail: bool = False) -> Submission:
    """The submission `pk` if `user` may see it; 404 alike for missing and foreign ones."""
    queryset = submissions_for_detail(user) if for_detail else submissions_visible_to(user)
    submission = queryset.filter(pk=pk).first()
    if submission is None:
        raise NotFound("No such submission.")
    return submission


def access_submission_file(user: User, submission_id: int, file_id: int) -> SubmissionFile:
    """A file of any attempt of a submission `user` may see; 404 alike for a missing or foreign submission and for
    a file that is not one of its own."""
    submission = access_submission(user, submission_id)
    stored = SubmissionFile.objects.filter(attempt__submission=submission, pk=file_id).first()
    if stored is None:
        raise NotFound("No such file.")
    return stored
