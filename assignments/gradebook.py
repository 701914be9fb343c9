"""The grade book: per student and subject, how the student stands on the assignments of that subject.

Rows are the active enrollments the viewer may see (a teacher: those with them; a student: their own; a tutor
or parent: their students'; an admin: all). Figures of a row (student S, subject X, teacher T):
- `assignments_due`: assignments of X that S receives (explicitly, or as T's class when the assignment names
  nobody) and that are published or closed — everything S has been asked to do, whether its due date has passed
  or not;
- `submitted`: of those, how many S has handed in (any status: submitted, graded or returned);
- `graded`: how many carry a grade now;
- `average_percent`: mean of score / max_score * 100 over the graded ones (null when none is graded);
- `late`: how many were handed in late (the current attempt).
Each figure is a correlated subquery on the enrollment row: one query per page, whatever the numbers.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, Exists, F, FloatField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Cast

from accounts.models import Role, User
from assignments.models import Assignment, Submission, SubmissionStatus
from assignments.selectors import VISIBLE_TO_STUDENTS, ExplicitRecipient, count_of
from enrollments.models import Enrollment
from enrollments.visibility import student_ids_of


def gradebook_rows(user: User, *, subject_id: int | None = None, student_id: int | None = None) -> QuerySet:
    """Active enrollments visible to `user`, annotated with the grade-book figures (see the module docstring)."""
    rows = Enrollment.objects.filter(is_active=True)
    if user.role == Role.TEACHER:
        rows = rows.filter(teacher=user)
    elif not user.is_admin:
        rows = rows.filter(student_id__in=student_ids_of(user))
    if subject_id is not None:
        rows = rows.filter(subject_id=subject_id)
    if student_id is not None:
        rows = rows.filter(student_id=student_id)

    received = Assignment.objects.filter(subject_id=OuterRef("subject_id"), status__in=VISIBLE_TO_STUDENTS).filter(
        Q(
            Exists(
                ExplicitRecipient.objects.filter(assignment_id=OuterRef("pk"), user_id=OuterRef(OuterRef("student_id")))
            )
        )
        | (
            ~Q(Exists(ExplicitRecipient.objects.filter(assignment_id=OuterRef("pk"))))
            & Q(teacher_id=OuterRef("teacher_id"))
        )
    )
    handed_in = Submission.objects.filter(
        student_id=OuterRef("student_id"),
        assignment__subject_id=OuterRef("subject_id"),
        assignment__status__in=VISIBLE_TO_STUDENTS,
    )
    graded = handed_in.filter(status=SubmissionStatus.GRADED)
    # Floats on purpose: SQLite keeps whole decimals as integers and would divide them as integers.
    percent = Cast(F("score"), FloatField()) * Value(100.0) / Cast(F("assignment__max_score"), FloatField())
    average = graded.order_by().values("student_id").annotate(average=Avg(percent)).values("average")
    return (
        rows.select_related("student", "subject", "teacher")
        .annotate(
            assignments_due=count_of(received, "subject_id"),
            submitted=count_of(handed_in, "student_id"),
            graded=count_of(graded, "student_id"),
            late=count_of(handed_in.filter(is_late=True), "student_id"),
            average_percent=Subquery(average, output_field=FloatField()),
        )
        .order_by("student__last_name", "student__first_name", "student_id", "subject__name", "id")
    )


def rounded_percent(value: float | None) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
