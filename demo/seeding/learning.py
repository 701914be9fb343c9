"""Subjects, who teaches what, enrollments, materials with their named recipients, and students' progress."""

from collections import defaultdict
from datetime import UTC, datetime, time, timedelta

from accounts.models import Role
from demo.seeding.bulk import insert, insert_fast
from demo.seeding.files import FileBudget, demo_file
from demo.seeding.texts import MATERIAL_TITLES, SUBJECTS
from demo.seeding.world import World
from enrollments.models import Enrollment, Subject
from materials.models import Material, MaterialKind, MaterialProgress, MaterialRecipient, MaterialStatus

KIND_WEIGHTS = {
    MaterialKind.LESSON: 30,
    MaterialKind.DOCUMENT: 20,
    MaterialKind.PRESENTATION: 15,
    MaterialKind.VIDEO: 15,
    MaterialKind.TEST: 10,
    MaterialKind.HOMEWORK: 10,
}


def subjects_and_enrollments_create(world: World) -> None:
    rng, today = world.rng, world.now.date()
    names = SUBJECTS[: world.scale.subjects]
    existing = {subject.name: subject for subject in Subject.objects.filter(name__in=names)}
    insert(
        Subject,
        [Subject(name=name, description=f"{name} for school and exams.") for name in names if name not in existing],
    )
    by_name = {subject.name: subject for subject in Subject.objects.filter(name__in=names)}
    world.subjects = [by_name[name] for name in names]
    subject_ids = [subject.pk for subject in world.subjects]

    for index, teacher in enumerate(world.teachers):
        first = subject_ids[index % len(subject_ids)]  # every subject has a teacher
        taught = [first] if index else subject_ids[:2]  # the demo teacher teaches the first two
        if index and rng.random() < 0.4:
            taught.append(rng.choice([pk for pk in subject_ids if pk != first]))
        world.teaches[teacher] = taught
    teachers_of = defaultdict(list)
    for teacher, taught in world.teaches.items():
        for subject_id in taught:
            teachers_of[subject_id].append(teacher)

    already_active = set(
        Enrollment.objects.filter(student_id__in=world.students, is_active=True).values_list("student_id", "subject_id")
    )
    enrollments = []
    for index, student in enumerate(world.students):
        count = rng.choices([1, 2, 3], weights=[3, 5, 2])[0]
        chosen = rng.sample(subject_ids, min(count, len(subject_ids)))
        if index == 0:  # the demo student learns the first subject with the demo teacher
            chosen = [subject_ids[0], *[pk for pk in chosen if pk != subject_ids[0]]]
        for subject_id in chosen:
            if (student, subject_id) in already_active:
                continue
            teacher = world.demo[Role.TEACHER] if index == 0 and subject_id == subject_ids[0] else None
            started = today - timedelta(days=rng.randrange(14, 400))
            enrollments.append(
                Enrollment(
                    student_id=student,
                    subject_id=subject_id,
                    teacher_id=teacher or rng.choice(teachers_of[subject_id]),
                    is_active=True,
                    started_at=started,
                    created_at=_at(started, rng),
                )
            )
        if rng.random() < 0.1:  # an ended enrollment in a subject the student dropped
            dropped = [pk for pk in subject_ids if pk not in chosen]
            if dropped:
                subject_id = rng.choice(dropped)
                started = today - timedelta(days=rng.randrange(420, 700))
                enrollments.append(
                    Enrollment(
                        student_id=student,
                        subject_id=subject_id,
                        teacher_id=rng.choice(teachers_of[subject_id]),
                        is_active=False,
                        started_at=started,
                        ended_at=started + timedelta(days=rng.randrange(30, 400)),
                        created_at=_at(started, rng),
                    )
                )
    world.enrollments = insert(Enrollment, enrollments)
    world.counts["subjects"] = len(names) - len(existing)
    world.counts["enrollments"] = len(enrollments)


def _at(day, rng) -> datetime:
    return datetime.combine(day, time(8), tzinfo=UTC) + timedelta(minutes=rng.randrange(12 * 60))


def classes_of(world: World) -> dict[tuple[int, int], list[int]]:
    """(teacher, subject) -> students actively enrolled in it, for every pair a teacher teaches."""
    classes: dict[tuple[int, int], list[int]] = {
        (teacher, subject): [] for teacher, taught in world.teaches.items() for subject in taught
    }
    for enrollment in world.active_enrollments:
        classes.setdefault((enrollment.teacher_id, enrollment.subject_id), []).append(enrollment.student_id)
    return classes


def materials_create(world: World, files: FileBudget) -> None:
    rng, now = world.rng, world.now
    kinds, weights = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())
    classes = classes_of(world)
    materials, named = [], []
    for (teacher, subject_id), students in classes.items():
        subject = world.subject_name(subject_id)
        for number in range(1, world.scale.materials_per_class + 1):
            kind = rng.choices(kinds, weights)[0]
            status = rng.choices(list(MaterialStatus), weights=[12, 80, 8])[0]
            created = now - timedelta(days=rng.randrange(1, 300), minutes=rng.randrange(1440))
            material = Material(
                title=f"{subject}: {rng.choice(MATERIAL_TITLES)} {number}",
                description=f"Part {number} of the {subject.lower()} course.",
                content=f"# {subject}, part {number}\n\n" + "Key ideas, examples and exercises. " * rng.randint(3, 30),
                kind=kind,
                status=status,
                subject_id=subject_id,
                author_id=teacher,
                url=f"https://video.example.com/{subject_id}/{number}" if kind == MaterialKind.VIDEO else "",
                created_at=created,
                updated_at=created + timedelta(hours=rng.randrange(0, 200)),
            )
            if kind == MaterialKind.DOCUMENT and files.take(0.5, rng):
                material.file_name = f"{subject.lower().replace(' ', '-')}-part-{number}.txt"
                material.file, _ = demo_file("materials", material.file_name, material.content)
            materials.append(material)
            if status == MaterialStatus.PUBLISHED and len(students) >= 2 and rng.random() < 0.2:
                named.append((material, rng.sample(students, rng.randint(1, min(3, len(students))))))
    insert(Material, materials)
    insert(
        MaterialRecipient,
        [
            MaterialRecipient(material_id=material.pk, student_id=student)
            for material, students in named
            for student in students
        ],
    )
    _progress_create(world, materials, {material.pk: set(students) for material, students in named})
    world.counts["materials"] = len(materials)


def _progress_create(world: World, materials: list[Material], named: dict[int, set[int]]) -> None:
    rng, now = world.rng, world.now
    published = defaultdict(list)
    for material in materials:
        if material.status == MaterialStatus.PUBLISHED:
            published[(material.author_id, material.subject_id)].append(material)
    rows = []
    for enrollment in world.active_enrollments:
        student = enrollment.student_id
        for material in published[(enrollment.teacher_id, enrollment.subject_id)]:
            receivers = named.get(material.pk)
            if (receivers is not None and student not in receivers) or rng.random() >= 0.6:
                continue
            percent = 100 if rng.random() < 0.35 else rng.randrange(0, 100)
            opened = max(material.created_at, now - timedelta(days=rng.randrange(0, 60), minutes=rng.randrange(1440)))
            rows.append(
                MaterialProgress(
                    student_id=student,
                    material_id=material.pk,
                    percent=percent,
                    time_spent_seconds=rng.randrange(60, 5400) if percent else 0,
                    last_opened_at=opened,
                    completed_at=opened if percent == 100 else None,
                    updated_at=opened,
                )
            )
    insert_fast(MaterialProgress, rows)
    world.counts["material_progress"] = len(rows)
