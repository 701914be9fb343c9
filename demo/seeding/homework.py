"""Assignments of every class, the students' submissions with their attempts and files, and grading history."""

from datetime import timedelta
from decimal import Decimal

from assignments.models import (
    Assignment,
    AssignmentAttachment,
    AssignmentStatus,
    GradeAction,
    GradeHistory,
    Submission,
    SubmissionAttempt,
    SubmissionFile,
    SubmissionStatus,
)
from demo.seeding.bulk import insert, insert_fast
from demo.seeding.files import FileBudget, demo_file
from demo.seeding.learning import classes_of
from demo.seeding.texts import ASSIGNMENT_TITLES
from demo.seeding.world import World

MAX_SCORES = [Decimal(10), Decimal(20), Decimal(50), Decimal(100)]


def assignments_create(world: World, files: FileBudget) -> None:
    rng, now = world.rng, world.now
    assignments, receivers = [], []
    for (teacher, subject_id), students in classes_of(world).items():
        subject = world.subject_name(subject_id)
        for number in range(1, world.scale.assignments_per_class + 1):
            status = rng.choices(list(AssignmentStatus), weights=[15, 75, 10])[0]
            if status == AssignmentStatus.CLOSED:
                due = now - timedelta(days=rng.randrange(20, 120))
            else:
                due = now + timedelta(days=rng.randrange(-60, 21), hours=rng.randrange(24))
            due = due.replace(minute=0, second=0, microsecond=0)
            created = min(due - timedelta(days=rng.randrange(5, 21)), now - timedelta(hours=2))
            assignment = Assignment(
                teacher_id=teacher,
                subject_id=subject_id,
                title=f"{subject}: {rng.choice(ASSIGNMENT_TITLES)} {number}",
                description="Solve the tasks and show your working. " * rng.randint(1, 6),
                due_at=due,
                max_score=rng.choice(MAX_SCORES),
                status=status,
                allow_late=rng.random() < 0.3,
                published_at=None if status == AssignmentStatus.DRAFT else created + timedelta(hours=1),
                created_at=created,
                updated_at=created + timedelta(hours=1),
            )
            assignments.append(assignment)
            named = status != AssignmentStatus.DRAFT and len(students) >= 2 and rng.random() < 0.15
            receivers.append((assignment, rng.sample(students, rng.randint(1, 2)) if named else None, students))
    insert(Assignment, assignments)
    through = Assignment.students.through
    insert(
        through,
        [through(assignment_id=a.pk, user_id=student) for a, named, _ in receivers if named for student in named],
    )
    _attachments_create(world, assignments, files)
    _submissions_create(world, [(a, named or students) for a, named, students in receivers], files)
    world.counts["assignments"] = len(assignments)


def _attachments_create(world: World, assignments: list[Assignment], files: FileBudget) -> None:
    rows = []
    for assignment in assignments:
        if files.take(0.2, world.rng):
            name = "tasks.txt"
            stored, size = demo_file("assignments", name, assignment.description)
            rows.append(
                AssignmentAttachment(
                    assignment_id=assignment.pk,
                    file=stored,
                    name=name,
                    content_type="text/plain",
                    size=size,
                    uploaded_by_id=assignment.teacher_id,
                    created_at=assignment.created_at,
                )
            )
    insert(AssignmentAttachment, rows)


def _submissions_create(world: World, receivers: list[tuple[Assignment, list[int]]], files: FileBudget) -> None:
    """Per receiving student: maybe a submission with one or two attempts, graded, returned or waiting."""
    rng, now = world.rng, world.now
    plans = []  # (submission, [attempt], [grade history])
    for assignment, students in receivers:
        if assignment.status == AssignmentStatus.DRAFT:
            continue
        due_passed = assignment.due_at < now
        for student in students:
            if rng.random() >= (0.75 if due_passed else 0.3):
                continue
            plans.append(_submission_plan(world, assignment, student, due_passed))
    submissions = insert_fast(Submission, [submission for submission, _, _ in plans])
    attempts, history = [], []
    for submission, its_attempts, its_history in plans:
        for attempt in its_attempts:
            attempt.submission_id = submission.pk
        for row in its_history:
            row.submission_id = submission.pk
        attempts += its_attempts
        history += its_history
    insert_fast(SubmissionAttempt, attempts)
    insert_fast(GradeHistory, history)
    submission_files = []
    for attempt in attempts:
        if files.take(0.15, rng):
            stored, size = demo_file("assignments", "answer.txt", attempt.text)
            submission_files.append(
                SubmissionFile(
                    attempt_id=attempt.pk,
                    file=stored,
                    name="answer.txt",
                    content_type="text/plain",
                    size=size,
                    created_at=attempt.submitted_at,
                )
            )
    insert(SubmissionFile, submission_files)
    world.counts["submissions"] = len(submissions)


def _submission_plan(world: World, assignment: Assignment, student: int, due_passed: bool):
    rng, now = world.rng, world.now
    opened = assignment.published_at
    late = due_passed and assignment.allow_late and rng.random() < 0.15
    latest = min(now, assignment.due_at) if not late else min(now, assignment.due_at + timedelta(days=2))
    first_at = (
        opened + (latest - opened) * rng.uniform(0.3, 0.95)
        if not late
        else assignment.due_at + (latest - assignment.due_at) * rng.uniform(0.1, 0.9)
    )
    attempts = [_attempt(1, first_at, first_at > assignment.due_at)]
    history = []
    status = rng.choices(
        [SubmissionStatus.GRADED, SubmissionStatus.RETURNED, SubmissionStatus.SUBMITTED],
        weights=[60, 10, 30] if due_passed else [20, 5, 75],
    )[0]
    submission = Submission(
        assignment_id=assignment.pk,
        student_id=student,
        status=SubmissionStatus.SUBMITTED,
        submitted_at=first_at,
        is_late=attempts[0].is_late,
        created_at=first_at,
        updated_at=first_at,
    )
    if status == SubmissionStatus.SUBMITTED:
        return submission, attempts, history
    checked_at = min(now, first_at + timedelta(hours=rng.randrange(2, 72)))
    if status == SubmissionStatus.RETURNED:
        feedback = "Please redo the last two tasks."
        history.append(_history(assignment, 1, GradeAction.RETURNED, None, feedback, checked_at))
        submission.status, submission.feedback, submission.updated_at = SubmissionStatus.RETURNED, feedback, checked_at
        second_at = min(now, checked_at + timedelta(hours=rng.randrange(1, 48)))
        if rng.random() < 0.5 and (assignment.allow_late or second_at <= assignment.due_at):
            attempts.append(_attempt(2, second_at, second_at > assignment.due_at))
            submission.status, submission.attempt = SubmissionStatus.SUBMITTED, 2
            submission.submitted_at, submission.is_late, submission.updated_at = (
                second_at,
                attempts[1].is_late,
                second_at,
            )
        return submission, attempts, history
    score = (assignment.max_score * Decimal(rng.randint(40, 100)) / 100).quantize(Decimal("0.01"))
    feedback = rng.choice(["Well done.", "Good, check task 3.", "Solid work.", "Some mistakes, see comments."])
    history.append(_history(assignment, 1, GradeAction.GRADED, score, feedback, checked_at))
    submission.status, submission.score, submission.feedback = SubmissionStatus.GRADED, score, feedback
    submission.graded_by_id, submission.graded_at, submission.updated_at = assignment.teacher_id, checked_at, checked_at
    return submission, attempts, history


def _attempt(number: int, at, is_late: bool) -> SubmissionAttempt:
    return SubmissionAttempt(number=number, text=f"My answers, attempt {number}.", submitted_at=at, is_late=is_late)


def _history(assignment: Assignment, attempt: int, action: str, score, feedback: str, at) -> GradeHistory:
    return GradeHistory(
        attempt=attempt,
        action=action,
        score=score,
        max_score=assignment.max_score,
        feedback=feedback,
        by_id=assignment.teacher_id,
        at=at,
    )
