"""Writes of the materials app: subjects, enrollments, materials and progress. Each service is one transaction."""

import datetime
import os

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Role, User
from chat.services import rooms_sync_for_student
from config.exceptions import Conflict, ErrorCode
from core import caching
from core.updating import model_update
from enrollments.models import Enrollment, Subject
from enrollments.visibility import students_of
from files.checks import check_upload
from files.storage import delete_file_on_commit
from materials import locks
from materials.errors import MaterialError, MaterialErrorCode
from materials.models import Material, MaterialProgress, MaterialStatus
from materials.selectors import assignable_student_ids, materials_received_by

# A bound on the time a student may report on one material (a year), so that a bad client cannot overflow it.
MAX_TIME_SPENT_SECONDS = 365 * 24 * 3600


SUBJECT_FIELDS = ("name", "description")
# What `material_update` changes as plain fields (the file and the named students have their own rules).
MATERIAL_FIELDS = ("title", "description", "content", "kind", "status", "subject", "url")


# --- Subjects -------------------------------------------------------------------------------------------
def _check_subject_name_free(name: str, *, exclude_pk: int | None = None) -> None:
    taken = Subject.objects.filter(name__iexact=name)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise Conflict(
            "A subject with this name exists.",
            MaterialErrorCode.SUBJECT_EXISTS,
            fields={"name": ["A subject with this name exists."]},
        )


@transaction.atomic
def subject_create(*, name: str, description: str = "") -> Subject:
    name = name.strip()
    _check_subject_name_free(name)
    try:
        with transaction.atomic():
            subject = Subject.objects.create(name=name, description=description)
    except IntegrityError as exc:
        raise Conflict("A subject with this name exists.", MaterialErrorCode.SUBJECT_EXISTS) from exc
    caching.invalidate(caching.SUBJECTS)
    return subject


@transaction.atomic
def subject_update(*, subject: Subject, data: dict) -> Subject:
    if "name" in data:
        data = {**data, "name": data["name"].strip()}
        _check_subject_name_free(data["name"], exclude_pk=subject.pk)
    model_update(subject, data, fields=SUBJECT_FIELDS)
    caching.invalidate(caching.SUBJECTS)
    return subject


# --- Enrollments ----------------------------------------------------------------------------------------
def _user_with_role(user_id: int, role: str, field: str) -> User:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or user.role != role:
        raise MaterialError(
            f"The {field} must be an active user with role {role}.",
            MaterialErrorCode.WRONG_ROLE,
            fields={field: [f"Not an active {role}."]},
        )
    return user


@transaction.atomic
def enrollment_create(
    *, by: User, student_id: int, subject_id: int, teacher_id: int, started_at: datetime.date | None = None
) -> Enrollment:
    """Enroll a student in a subject with a teacher. By an admin, or by the student's tutor.

    A tutor naming someone who is not their student gets the same answer as for an unknown id, so ids cannot be
    probed. One active enrollment per student and subject: a second one is a 409 naming the existing one.
    """
    if not by.is_admin and not students_of(by).filter(pk=student_id).exists():
        raise MaterialError(
            "Unknown student, or not one of your students.",
            MaterialErrorCode.NOT_YOUR_STUDENT,
            fields={"student": ["Unknown student, or not one of your students."]},
        )
    student = _user_with_role(student_id, Role.STUDENT, "student")
    teacher = _user_with_role(teacher_id, Role.TEACHER, "teacher")
    subject = Subject.objects.filter(pk=subject_id).first()
    if subject is None:
        raise MaterialError("Unknown subject.", fields={"subject": ["Unknown subject."]})
    existing = Enrollment.objects.filter(student=student, subject=subject, is_active=True).first()
    if existing is not None:
        raise _duplicate_enrollment(existing.pk)
    try:
        with transaction.atomic():
            enrollment = Enrollment.objects.create(
                student=student, subject=subject, teacher=teacher, started_at=started_at or timezone.localdate()
            )
    except IntegrityError as exc:
        # A concurrent request enrolled the same student in the same subject first.
        existing = Enrollment.objects.filter(student=student, subject=subject, is_active=True).first()
        raise _duplicate_enrollment(existing.pk if existing else None) from exc
    enrollment_written_on_commit(enrollment)
    return enrollment


def enrollment_written_on_commit(enrollment: Enrollment) -> None:
    """After the commit of any write of an enrollment (these services, the Django admin), chat makes the
    student's rooms follow (`chat.services.rooms_sync_for_student`: a subject room per active enrollment)."""
    student_id = enrollment.student_id
    caching.invalidate(caching.ENROLLMENTS)  # lists, a teacher's subjects, who sees whom
    transaction.on_commit(lambda: rooms_sync_for_student(student_id))


def _duplicate_enrollment(existing_pk: int | None) -> Conflict:
    return Conflict(
        "The student already has an active enrollment in this subject.",
        MaterialErrorCode.ENROLLMENT_EXISTS,
        extra={"enrollment": existing_pk},
    )


@transaction.atomic
def enrollment_deactivate(*, enrollment: Enrollment, ended_at: datetime.date | None = None) -> Enrollment:
    """End an enrollment (idempotent). The student stops receiving the teacher's materials of that subject."""
    enrollment = locks.enrollment_for_update(enrollment.pk)
    if not enrollment.is_active:
        return enrollment
    ended_at = ended_at or timezone.localdate()
    if ended_at < enrollment.started_at:
        raise MaterialError(
            "An enrollment cannot end before it starts.",
            fields={"ended_at": [f"Must be on or after {enrollment.started_at.isoformat()}."]},
        )
    enrollment.is_active = False
    enrollment.ended_at = ended_at
    enrollment.save(update_fields=["is_active", "ended_at"])
    enrollment_written_on_commit(enrollment)
    return enrollment


# --- Materials ------------------------------------------------------------------------------------------
def check_can_manage_material(user: User, material: Material) -> None:
    """Only the material's author or an admin changes it, deletes it, or reads and resets its students' progress
    (403; who may not even see it got 404 from `selectors.access_material`)."""
    if not (user.is_admin or material.author_id == user.pk):
        raise MaterialError(
            "Only the author or an administrator may change this material.", ErrorCode.PERMISSION_DENIED, status=403
        )


def _author(by: User, author_id: int | None) -> User:
    """Who authors a material `by` creates: themself, or for an admin the teacher they name (required)."""
    if not by.is_admin:
        return by
    if author_id is None:
        raise MaterialError(
            "Name the teacher who authors the material.",
            MaterialErrorCode.AUTHOR_REQUIRED,
            fields={"author": ["Required for administrators."]},
        )
    author = User.objects.filter(pk=author_id).first()
    if author is None:
        raise MaterialError("Unknown author.", MaterialErrorCode.WRONG_ROLE, fields={"author": ["Unknown."]})
    return author


def _check_recipients(*, author: User, subject: Subject, student_ids: list[int]) -> list[int]:
    """The named students, deduplicated; each must be actively enrolled with the author in the subject."""
    wanted = list(dict.fromkeys(student_ids))
    allowed = set(
        assignable_student_ids(author=author, subject=subject)
        .filter(student__in=wanted)
        .values_list("student", flat=True)
    )
    refused = [pk for pk in wanted if pk not in allowed]
    if refused:
        raise MaterialError(
            "A material may only name students enrolled with its author in its subject.",
            MaterialErrorCode.NOT_YOUR_STUDENT,
            fields={"assigned_to": [f"Not enrolled with the author in this subject: {refused}."]},
        )
    return wanted


def _attach_file(material: Material, upload: UploadedFile) -> None:
    material.file = upload
    material.file_name = os.path.basename(upload.name or "file")[-255:]


@transaction.atomic
def material_create(
    *,
    by: User,
    title: str,
    subject: Subject,
    kind: str,
    status: str = MaterialStatus.DRAFT,
    description: str = "",
    content: str = "",
    url: str = "",
    file: UploadedFile | None = None,
    assigned_to: list[int] | None = None,
    author: int | None = None,
) -> Material:
    """Create a material, optionally with a file and named students. A teacher writes their own; an admin names
    the teacher who authors it (`author`, an id). The author must be an active teacher."""
    author = _author(by, author)
    if author.role != Role.TEACHER or not author.is_active:
        raise MaterialError(
            "The author of a material must be an active teacher.",
            MaterialErrorCode.WRONG_ROLE,
            fields={"author": ["Not an active teacher."]},
        )
    recipients = _check_recipients(author=author, subject=subject, student_ids=assigned_to or [])
    if file is not None:
        check_upload(file)
    material = Material(
        author=author,
        title=title,
        subject=subject,
        kind=kind,
        status=status,
        description=description,
        content=content,
        url=url,
    )
    if file is not None:
        _attach_file(material, file)
    material.save()
    material.assigned_to.set(recipients)
    return material


_UNSET = object()


@transaction.atomic
def material_update(*, material: Material, by: User, data: dict) -> Material:
    """Change a material (its author or an admin). `file`: an upload replaces the file, None removes it (the old
    one is deleted after commit). `assigned_to` replaces the named students; they are checked again when the
    subject changes."""
    check_can_manage_material(by, material)
    data = dict(data)
    upload = data.pop("file", _UNSET)
    recipients = data.pop("assigned_to", None)
    subject = data.get("subject", material.subject)
    if recipients is None and subject.pk != material.subject_id:
        recipients = list(material.recipients.values_list("student_id", flat=True))
    if recipients is not None:
        recipients = _check_recipients(author=material.author, subject=subject, student_ids=recipients)
    if upload is not _UNSET and upload is not None:
        check_upload(upload)
    model_update(material, data, fields=MATERIAL_FIELDS, save=False)
    if upload is not _UNSET:
        delete_file_on_commit(material.file)
        if upload is None:
            material.file = ""
            material.file_name = ""
        else:
            _attach_file(material, upload)
    material.save()
    if recipients is not None:
        material.assigned_to.set(recipients)
    return material


@transaction.atomic
def material_delete(*, material: Material, by: User) -> None:
    """Delete a material (its author or an admin) with its progress rows; its file goes once the deletion has
    committed."""
    check_can_manage_material(by, material)
    delete_file_on_commit(material.file)
    material.delete()


# --- Progress -------------------------------------------------------------------------------------------
@transaction.atomic
def progress_update(
    *, student: User, material: Material, percent: int, time_spent_seconds: int | None = None
) -> MaterialProgress:
    """Record how far a student got. Neither the percent nor the time spent ever go backwards (a lower value,
    e.g. from a stale client, is ignored); `completed_at` is set the first time the percent reaches 100."""
    progress = locks.progress_for_update(student_id=student.pk, material_id=material.pk)
    now = timezone.now()
    progress.percent = max(progress.percent, percent)
    if time_spent_seconds is not None:
        progress.time_spent_seconds = min(max(progress.time_spent_seconds, time_spent_seconds), MAX_TIME_SPENT_SECONDS)
    progress.last_opened_at = now
    if progress.percent == 100 and progress.completed_at is None:
        progress.completed_at = now
    progress.save()
    return progress


@transaction.atomic
def progress_reset(*, material: Material, by: User, student_id: int) -> MaterialProgress:
    """The author's (or an admin's) reset of one student's progress on the material: back to 0 %, not completed.
    The time spent is kept (it is history, not a position)."""
    check_can_manage_material(by, material)
    has_progress = MaterialProgress.objects.filter(material=material, student_id=student_id).exists()
    if not has_progress and not materials_received_by(student_id).filter(pk=material.pk).exists():
        raise MaterialError(
            "This student does not receive this material.",
            MaterialErrorCode.NOT_A_RECIPIENT,
            fields={"student": ["Does not receive this material."]},
        )
    progress = locks.progress_for_update(student_id=student_id, material_id=material.pk)
    progress.percent = 0
    progress.completed_at = None
    progress.save()
    return progress
