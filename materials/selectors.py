"""Reads of the materials app. Visibility derives from `enrollments.visibility.students_of` (who sees whom).

Who receives a published material: the students it names, or, when it names none, every student actively
enrolled in its subject with its author. Students, tutors and parents see what their students receive;
teachers see the materials they wrote (any status); admins see everything.
"""

from django.db.models import Avg, Count, Exists, F, FilteredRelation, OuterRef, Prefetch, Q, QuerySet, Value
from django.db.models.functions import Coalesce

from accounts.models import Role, User
from config.exceptions import NotFound
from enrollments.models import Enrollment, Subject
from enrollments.visibility import student_ids_of, students_of
from materials.errors import MaterialError
from materials.models import Material, MaterialProgress, MaterialRecipient, MaterialStatus


def _received_by(students: QuerySet) -> Q:
    """Condition on Material: published, and received by at least one of `students` (a subquery of ids).

    One `pk IN (named UNION by enrollment)`: the database reads the students' recipient rows and enrollments
    and stops there. As `named OR (no one named AND enrolled)` it tested every published material instead
    (3.3 ms on `large`, 0.2 ms now; EXPLAIN ANALYZE)."""
    named = MaterialRecipient.objects.filter(student__in=students).order_by().values("material_id")
    by_enrollment = (
        Material.objects.filter(
            Exists(
                Enrollment.objects.filter(
                    student__in=students, subject=OuterRef("subject"), teacher=OuterRef("author"), is_active=True
                )
            )
        )
        .exclude(Exists(MaterialRecipient.objects.filter(material=OuterRef("pk"))))
        .order_by()
        .values("pk")
    )
    return Q(status=MaterialStatus.PUBLISHED, pk__in=named.union(by_enrollment))


def materials_visible_to(user: User) -> QuerySet[Material]:
    """Every material `user` may read, with its subject and author loaded."""
    materials = Material.objects.select_related("subject", "author")
    if user.is_admin:
        return materials
    if user.role == Role.TEACHER:
        return materials.filter(author=user)
    if user.role in (Role.STUDENT, Role.TUTOR, Role.PARENT):
        return materials.filter(_received_by(student_ids_of(user)))
    return materials.none()


def access_material(user: User, material_id: int, *, for_update: bool = False) -> Material:
    """The material `material_id` if `user` may read it, with its subject and author; 404 (`not_found`) alike for a
    missing one and one `user` may not see. With `for_update`, its row is locked until the transaction ends."""
    materials = materials_visible_to(user)
    if for_update:
        materials = materials.select_for_update(of=("self",))
    material = materials.filter(pk=material_id).first()
    if material is None:
        raise NotFound("No such material.")
    return material


def materials_received_by(student: User | int) -> QuerySet[Material]:
    """The published materials one student receives."""
    student_id = student if isinstance(student, int) else student.pk
    return Material.objects.filter(_received_by(User.objects.filter(pk=student_id, role=Role.STUDENT).values("pk")))


def with_progress_of(materials: QuerySet[Material], student: User) -> QuerySet[Material]:
    """Annotate each material with `student`'s progress in the same query (a LEFT JOIN on their row)."""
    return materials.annotate(
        own_progress=FilteredRelation("progress", condition=Q(progress__student=student)),
        progress_percent=Coalesce(F("own_progress__percent"), Value(0)),
        progress_time_spent_seconds=Coalesce(F("own_progress__time_spent_seconds"), Value(0)),
        progress_last_opened_at=F("own_progress__last_opened_at"),
        progress_completed_at=F("own_progress__completed_at"),
    )


def material_list_for(user: User) -> QuerySet[Material]:
    """What the materials list and detail show `user`: visible materials, the recipients `user` may know of
    (`visible_recipients`: all of them for the author and admins, only their own students for the others),
    and, for a student, their own progress. A fixed number of queries whatever the page size."""
    materials = materials_visible_to(user)
    recipients = User.objects.only("id").order_by("pk")
    if not (user.is_admin or user.role == Role.TEACHER):
        recipients = recipients.filter(pk__in=student_ids_of(user))
    materials = materials.prefetch_related(Prefetch("assigned_to", queryset=recipients, to_attr="visible_recipients"))
    if user.role == Role.STUDENT:
        materials = with_progress_of(materials, user)
    return materials


def progress_on(material: Material) -> QuerySet[MaterialProgress]:
    """Every student's progress on one material, with the student loaded."""
    return MaterialProgress.objects.filter(material=material).select_related("student").order_by("student_id")


def assignable_student_ids(*, author: User | int, subject: Subject | int) -> QuerySet:
    """Students a material of `author` in `subject` may name: those actively enrolled with the author in it."""
    return Enrollment.objects.filter(teacher=author, subject=subject, is_active=True).values("student")


def progress_dashboard_for(student: User) -> list[dict]:
    """Per subject: materials the student receives, how many they completed, and their average percent
    (materials not started count as 0). One query."""
    rows = (
        materials_received_by(student)
        .annotate(own_progress=FilteredRelation("progress", condition=Q(progress__student=student)))
        .values("subject_id", "subject__name")
        .annotate(
            materials=Count("pk"),
            completed=Count("pk", filter=Q(own_progress__completed_at__isnull=False)),
            average_percent=Avg(Coalesce(F("own_progress__percent"), Value(0))),
        )
        .order_by("subject__name", "subject_id")
    )
    return [
        {
            "subject": {"id": row["subject_id"], "name": row["subject__name"]},
            "materials": row["materials"],
            "completed": row["completed"],
            "average_percent": round(float(row["average_percent"] or 0), 1),
        }
        for row in rows
    ]


def dashboard_student(user: User, student_id: int | None) -> User:
    """Whose dashboard `user` asks for: a student their own (`student_id` omitted or theirs); the others must name
    one of their students (400 without one, 404 for anyone else)."""
    if user.role == Role.STUDENT and student_id in (None, user.pk):
        return user
    if student_id is None:
        raise MaterialError("Name the student.", fields={"student": ["A student id is required."]})
    student = students_of(user).filter(pk=student_id).first()
    if student is None:
        raise NotFound()
    return student


def progress_dashboard(user: User, student_id: int | None) -> dict:
    """A student's progress per subject (`progress_dashboard_for`) and over all subjects (`totals`: materials,
    completed, and the average percent weighted by the materials of each subject), for `user` as
    `dashboard_student` allows."""
    student = dashboard_student(user, student_id)
    subjects = progress_dashboard_for(student)
    materials = sum(row["materials"] for row in subjects)
    weighted = sum(row["average_percent"] * row["materials"] for row in subjects)
    totals = {
        "materials": materials,
        "completed": sum(row["completed"] for row in subjects),
        "average_percent": round(weighted / materials, 1) if materials else 0.0,
    }
    return {"student": student, "subjects": subjects, "totals": totals}
