"""Rules of assignments, through the services."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from assignments import services
from assignments.errors import AssignmentErrorCode
from assignments.models import AssignmentStatus, GradeAction, SubmissionStatus
from chat.models import Message
from config.exceptions import ApiError, NotFound
from enrollments.models import Enrollment
from tests.accounts.factories import AdminFactory, StudentFactory, TeacherFactory
from tests.assignments.factories import AssignmentFactory, class_of, grade, hand_in
from tests.files.samples import pdf
from tests.materials.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db


def _error(excinfo) -> tuple[int, str]:
    return excinfo.value.status_code, excinfo.value.code


# --- recipients and lifecycle ---------------------------------------------------------------------------


def test_explicit_recipients_must_be_actively_enrolled_with_the_teacher_in_the_subject():
    teacher, subject, (alice, bob) = class_of(2)
    other_teacher_student = StudentFactory()
    EnrollmentFactory(student=other_teacher_student, teacher=TeacherFactory(), subject=subject)
    former = StudentFactory()
    EnrollmentFactory(student=former, teacher=teacher, subject=subject, is_active=False)
    for stranger in (other_teacher_student, former):
        with pytest.raises(ApiError) as excinfo:
            services.assignment_create(
                teacher=teacher,
                subject=subject,
                title="t",
                due_at=timezone.now(),
                max_score=Decimal(10),
                students=[alice, stranger],
            )
        assert _error(excinfo) == (400, AssignmentErrorCode.INVALID_RECIPIENTS)
        assert excinfo.value.fields == {"assigned_to": [f"Not actively enrolled: {[stranger.pk]}."]}
    assignment = services.assignment_create(
        teacher=teacher, subject=subject, title="t", due_at=timezone.now(), max_score=Decimal(10), students=[bob]
    )
    assert assignment.status == AssignmentStatus.DRAFT
    assert list(assignment.students.all()) == [bob]


def test_status_transitions_and_illegal_ones():
    assignment = AssignmentFactory(status=AssignmentStatus.DRAFT, published_at=None)
    teacher = assignment.teacher
    with pytest.raises(ApiError) as excinfo:
        services.assignment_close(assignment=assignment, by=teacher)
    assert _error(excinfo) == (409, AssignmentErrorCode.INVALID_TRANSITION)
    assignment = services.assignment_publish(assignment=assignment, by=teacher)
    assert assignment.status == AssignmentStatus.PUBLISHED and assignment.published_at is not None
    assignment = services.assignment_close(assignment=assignment, by=teacher)
    assert assignment.status == AssignmentStatus.CLOSED
    with pytest.raises(ApiError) as excinfo:
        services.assignment_update(assignment=assignment, by=teacher, data={"status": AssignmentStatus.DRAFT})
    assert _error(excinfo) == (409, AssignmentErrorCode.INVALID_TRANSITION)
    assignment = services.assignment_publish(assignment=assignment, by=teacher)  # re-opened
    assert assignment.status == AssignmentStatus.PUBLISHED


def test_another_teacher_cannot_change_or_publish():
    assignment = AssignmentFactory(status=AssignmentStatus.DRAFT, published_at=None)
    intruder = TeacherFactory()
    for call in (
        lambda: services.assignment_publish(assignment=assignment, by=intruder),
        lambda: services.assignment_update(assignment=assignment, by=intruder, data={"title": "x"}),
        lambda: services.assignment_delete(assignment=assignment, by=intruder),
    ):
        with pytest.raises(ApiError) as excinfo:
            call()
        assert _error(excinfo) == (403, AssignmentErrorCode.NOT_ALLOWED)
    services.assignment_publish(assignment=assignment, by=AdminFactory())


@pytest.mark.django_db(transaction=True)
def notices() -> dict[int, list[str]]:
    """Per student: the texts of the system messages in their subject rooms."""
    found: dict[int, list[str]] = {}
    for student_id, text in Message.objects.filter(sender=None).values_list("room__student_id", "text"):
        found.setdefault(student_id, []).append(text)
    return found


def test_publishing_a_draft_posts_a_notice_to_the_recipients_once(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # the enrollments' rooms
        teacher, subject, students = class_of(3)
        former = StudentFactory()
        EnrollmentFactory(student=former, teacher=teacher, subject=subject)
        other = StudentFactory()
        EnrollmentFactory(student=other, teacher=TeacherFactory(), subject=subject)
    Enrollment.objects.filter(student=former).update(is_active=False)  # a former student is not notified
    with django_capture_on_commit_callbacks(execute=True):
        assignment = services.assignment_create(
            teacher=teacher, subject=subject, title="t", due_at=timezone.now(), max_score=Decimal(10)
        )
    assert notices() == {}
    with django_capture_on_commit_callbacks(execute=True):
        services.assignment_publish(assignment=assignment, by=teacher)
    assert sorted(notices()) == sorted(s.pk for s in students)
    with django_capture_on_commit_callbacks(execute=True):
        services.assignment_close(assignment=assignment, by=teacher)
        services.assignment_publish(assignment=assignment, by=teacher)  # re-opening notifies nobody again
    assert all(len(texts) == 1 for texts in notices().values())

    with django_capture_on_commit_callbacks(execute=True):
        services.assignment_create(
            teacher=teacher,
            subject=subject,
            title="t2",
            due_at=timezone.now(),
            max_score=Decimal(10),
            students=[students[2], students[0]],
            publish=True,
        )
    assert {pk: len(texts) for pk, texts in notices().items()} == {
        students[0].pk: 2,
        students[1].pk: 1,
        students[2].pk: 2,
    }


def test_the_publication_notice_waits_for_the_commit(django_capture_on_commit_callbacks):

    with django_capture_on_commit_callbacks(execute=True):
        teacher, subject, _ = class_of(1)
    rolled_back = AssignmentFactory(teacher=teacher, subject=subject, status=AssignmentStatus.DRAFT, published_at=None)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        services.assignment_publish(assignment=rolled_back, by=teacher)
        raise RuntimeError
    assert notices() == {}

    committed = AssignmentFactory(teacher=teacher, subject=subject, status=AssignmentStatus.DRAFT, published_at=None)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.assignment_publish(assignment=committed, by=teacher)
    assert notices() == {}  # not posted inside the transaction
    for callback in callbacks:
        callback()
    assert [text for texts in notices().values() for text in texts] == [
        f"New assignment: {committed.title}, due {committed.due_at:%Y-%m-%d %H:%M} UTC."
    ]


def test_max_score_is_fixed_once_something_is_graded():
    teacher, subject, (student,) = class_of(1)
    assignment = AssignmentFactory(teacher=teacher, subject=subject)
    services.assignment_update(assignment=assignment, by=teacher, data={"max_score": Decimal("20.00")})
    grade(hand_in(assignment, student), "15.00")
    with pytest.raises(ApiError) as excinfo:
        services.assignment_update(assignment=assignment, by=teacher, data={"max_score": Decimal("12.00")})
    assert _error(excinfo) == (409, AssignmentErrorCode.MAX_SCORE_LOCKED)


def test_an_assignment_with_submissions_cannot_be_deleted():
    teacher, subject, (student,) = class_of(1)
    assignment = AssignmentFactory(teacher=teacher, subject=subject)
    hand_in(assignment, student)
    with pytest.raises(ApiError) as excinfo:
        services.assignment_delete(assignment=assignment, by=teacher)
    assert _error(excinfo) == (409, AssignmentErrorCode.HAS_SUBMISSIONS)


# --- hand-ins -------------------------------------------------------------------------------------------


def test_resubmission_keeps_every_attempt_until_graded():
    teacher, subject, (student,) = class_of(1)
    assignment = AssignmentFactory(teacher=teacher, subject=subject)
    first = hand_in(assignment, student, "first")
    second = hand_in(assignment, student, "second", files=[pdf()])
    assert second.pk == first.pk
    assert second.attempt == 2 and second.status == SubmissionStatus.SUBMITTED
    attempts = list(second.attempts.order_by("number").values_list("number", "text"))
    assert attempts == [(1, "first"), (2, "second")]
    assert second.attempts.get(number=2).files.count() == 1

    grade(second, "7.50")
    with pytest.raises(ApiError) as excinfo:
        hand_in(assignment, student, "third")
    assert _error(excinfo) == (409, AssignmentErrorCode.ALREADY_GRADED)


def test_a_returned_submission_can_be_handed_in_again_and_graded():
    teacher, subject, (student,) = class_of(1)
    assignment = AssignmentFactory(teacher=teacher, subject=subject)
    submission = grade(hand_in(assignment, student, "v1"), "4.00")
    returned = services.submission_return(submission=submission, by=teacher, feedback="Show your working.")
    assert returned.status == SubmissionStatus.RETURNED and returned.score is None
    with pytest.raises(ApiError) as excinfo:
        grade(returned, "5.00")
    assert _error(excinfo) == (409, AssignmentErrorCode.NOT_GRADABLE)

    again = hand_in(assignment, student, "v2")
    assert again.attempt == 2 and again.status == SubmissionStatus.SUBMITTED
    graded = grade(again, "9.00")
    history = list(graded.grade_history.order_by("at", "id").values_list("action", "attempt", "score", "feedback"))
    assert history == [
        (GradeAction.GRADED, 1, Decimal("4.00"), ""),
        (GradeAction.RETURNED, 1, None, "Show your working."),
        (GradeAction.GRADED, 2, Decimal("9.00"), ""),
    ]


def test_empty_hand_in_is_refused():
    teacher, subject, (student,) = class_of(1)
    assignment = AssignmentFactory(teacher=teacher, subject=subject)
    with pytest.raises(ApiError) as excinfo:
        hand_in(assignment, student, "   ")
    assert _error(excinfo) == (400, AssignmentErrorCode.SUBMISSION_EMPTY)


def test_closed_and_draft_assignments_take_no_hand_ins():
    teacher, subject, (student,) = class_of(1)
    closed = AssignmentFactory(teacher=teacher, subject=subject, status=AssignmentStatus.CLOSED)
    with pytest.raises(ApiError) as excinfo:
        hand_in(closed, student)
    assert _error(excinfo) == (409, AssignmentErrorCode.ASSIGNMENT_CLOSED)
    draft = AssignmentFactory(teacher=teacher, subject=subject, status=AssignmentStatus.DRAFT, published_at=None)
    with pytest.raises(NotFound):
        hand_in(draft, student)


def test_a_student_who_does_not_receive_the_assignment_cannot_hand_in():
    teacher, subject, (alice, bob) = class_of(2)
    only_alice = AssignmentFactory(teacher=teacher, subject=subject, students=[alice])
    with pytest.raises(NotFound):
        hand_in(only_alice, bob)
    with pytest.raises(NotFound):
        hand_in(AssignmentFactory(subject=subject), alice)  # another teacher's class


@pytest.mark.parametrize(
    ("offset", "allow_late", "outcome"),
    [
        (timedelta(0), False, "on time"),
        (-timedelta(microseconds=1), False, "on time"),
        (timedelta(microseconds=1), False, "refused"),
        (timedelta(seconds=1), False, "refused"),
        (timedelta(0), True, "on time"),
        (timedelta(microseconds=1), True, "late"),
        (timedelta(seconds=1), True, "late"),
    ],
)
def test_late_boundary(offset, allow_late, outcome):
    teacher, subject, (student,) = class_of(1)
    due_at = timezone.now().replace(microsecond=500000)
    assignment = AssignmentFactory(teacher=teacher, subject=subject, due_at=due_at, allow_late=allow_late)
    assignment.refresh_from_db()  # due_at as stored
    if outcome == "refused":
        with pytest.raises(ApiError) as excinfo:
            hand_in(assignment, student, now=assignment.due_at + offset)
        assert _error(excinfo) == (400, AssignmentErrorCode.PAST_DUE)
        assert not assignment.submissions.exists()
        return
    submission = hand_in(assignment, student, now=assignment.due_at + offset)
    assert submission.is_late is (outcome == "late")
    assert submission.attempts.get().is_late is (outcome == "late")


def test_late_flag_follows_the_current_attempt():
    teacher, subject, (student,) = class_of(1)
    assignment = AssignmentFactory(teacher=teacher, subject=subject, allow_late=True)
    on_time = hand_in(assignment, student, now=assignment.due_at - timedelta(hours=1))
    assert on_time.is_late is False
    late = hand_in(assignment, student, now=assignment.due_at + timedelta(hours=1))
    assert late.is_late is True
    assert list(late.attempts.order_by("number").values_list("is_late", flat=True)) == [False, True]


# --- grading --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "accepted"),
    [("0.00", True), ("0.01", True), ("10.00", True), ("10.01", False), ("11", False), ("-0.01", False)],
)
def test_score_bounds(score, accepted):
    teacher, subject, (student,) = class_of(1)
    assignment = AssignmentFactory(teacher=teacher, subject=subject, max_score=Decimal("10.00"))
    submission = hand_in(assignment, student)
    if accepted:
        graded = grade(submission, score)
        graded.refresh_from_db()
        assert graded.score == Decimal(score)
    else:
        with pytest.raises(ApiError) as excinfo:
            grade(submission, score)
        assert _error(excinfo) == (400, AssignmentErrorCode.SCORE_OUT_OF_RANGE)
        submission.refresh_from_db()
        assert submission.status == SubmissionStatus.SUBMITTED and submission.score is None


def test_regrade_keeps_the_previous_grade_with_who_and_when():
    teacher, subject, (student,) = class_of(1)
    assignment = AssignmentFactory(teacher=teacher, subject=subject)
    submission = hand_in(assignment, student)
    admin = AdminFactory()
    first_at = timezone.now() - timedelta(minutes=5)
    services.submission_grade(submission=submission, by=teacher, score=Decimal("6.00"), feedback="ok", now=first_at)
    regraded = services.submission_grade(submission=submission, by=admin, score=Decimal("8.50"), feedback="better")
    regraded.refresh_from_db()
    assert (regraded.score, regraded.feedback, regraded.graded_by_id) == (Decimal("8.50"), "better", admin.pk)
    rows = list(regraded.grade_history.order_by("at").values_list("score", "feedback", "by_id", "at", "max_score"))
    assert rows == [
        (Decimal("6.00"), "ok", teacher.pk, first_at, Decimal("10.00")),
        (Decimal("8.50"), "better", admin.pk, regraded.graded_at, Decimal("10.00")),
    ]


def test_another_teacher_cannot_grade_or_return():
    teacher, subject, (student,) = class_of(1)
    assignment = AssignmentFactory(teacher=teacher, subject=subject)
    submission = hand_in(assignment, student)
    # Even a teacher of the same student in the same subject is not the assignment's teacher.
    colleague = TeacherFactory()
    for call in (
        lambda: grade(submission, "5", by=colleague),
        lambda: services.submission_return(submission=submission, by=colleague, feedback="x"),
        lambda: grade(submission, "5", by=student),
    ):
        with pytest.raises(ApiError) as excinfo:
            call()
        assert _error(excinfo) == (403, AssignmentErrorCode.NOT_ALLOWED)
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.SUBMITTED
    assert not submission.grade_history.exists()


def test_a_failing_notice_does_not_undo_or_break_the_publication(django_capture_on_commit_callbacks, caplog):
    with django_capture_on_commit_callbacks(execute=True):
        teacher, subject, _ = class_of(1)
    assignment = AssignmentFactory(teacher=teacher, subject=subject, status=AssignmentStatus.DRAFT, published_at=None)

    def chat_is_down(execute, sql, params, many, context):
        if '"chat_' in sql:
            raise DatabaseError("chat is down")
        return execute(sql, params, many, context)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.assignment_publish(assignment=assignment, by=teacher)
    assert len(callbacks) == 1
    with connection.execute_wrapper(chat_is_down), transaction.atomic():
        callbacks[0]()  # the notice fails on the database; the callback logs it and returns
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.PUBLISHED
    assert "assignment published notice failed" in caplog.text
