"""Users of every role with their profiles and links; the one-per-role demo logins and the login pool."""

from datetime import timedelta

from accounts.models import ParentProfile, Role, StudentProfile, TeacherProfile, TutorProfile, User
from demo.seeding.bulk import insert
from demo.seeding.texts import FIRST_NAMES, LAST_NAMES, TIMEZONES
from demo.seeding.world import DEMO_DOMAIN, World

DEMO_LOGINS = {
    Role.ADMIN: ("Ada", "Admin"),
    Role.TEACHER: ("Tom", "Teacher"),
    Role.TUTOR: ("Tina", "Tutor"),
    Role.PARENT: ("Paul", "Parent"),
    Role.STUDENT: ("Sam", "Student"),
}
POOL_SIZE = 20


def demo_email(role: str) -> str:
    return f"{role}@{DEMO_DOMAIN}"


def pool_email(role: str, number: int) -> str:
    return f"{role}.{number:05d}@{DEMO_DOMAIN}"


def people_create(world: World) -> None:
    """The demo logins (kept when they exist: their ids stay stable) and the bulk users, then the profiles."""
    scale = world.scale
    existing = {user.email: user for user in User.objects.filter(email__in=[demo_email(r) for r in DEMO_LOGINS])}
    new_users: list[User] = []
    for role, (first, last) in DEMO_LOGINS.items():
        if demo_email(role) not in existing:
            new_users.append(_user(world, demo_email(role), role, first, last))
    counts = {
        Role.STUDENT: scale.students - 1,
        Role.TEACHER: scale.teachers - 1,
        Role.TUTOR: scale.tutors - 1,
        Role.ADMIN: scale.admins - 1,
    }
    for role, count in counts.items():
        new_users += [_user(world, pool_email(role, n), role) for n in range(1, count + 1)]
    plan, parents_wanted = _link_plan(world, counts[Role.STUDENT])
    new_users += [_user(world, pool_email(Role.PARENT, n), Role.PARENT) for n in range(1, parents_wanted + 1)]
    insert(User, new_users)

    users = list(
        User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}").values_list("pk", "email", "role", "first_name")
    )
    for pk, email, role, first_name in sorted(users, key=lambda row: row[1]):
        world.names[pk] = first_name
        if email == demo_email(role):
            world.demo[role] = pk
        else:
            getattr(world, f"{role}s").append(pk)
    for role, demo_id in world.demo.items():
        ids = getattr(world, f"{role}s")
        world.pool[role] = ids[:POOL_SIZE]
        ids.insert(0, demo_id)
    _profiles_create(world, {user.pk for user in new_users}, plan)
    world.counts["users"] = len(new_users)


def _user(world: World, email: str, role: str, first: str = "", last: str = "") -> User:
    rng = world.rng
    number = int(email.split("@")[0].rpartition(".")[2]) if "." in email.split("@")[0] else 0
    return User(
        email=email,
        password=world.password_hash,
        role=role,
        first_name=first or rng.choice(FIRST_NAMES),
        last_name=last or rng.choice(LAST_NAMES),
        timezone=rng.choice(TIMEZONES),
        phone=f"+7900{rng.randrange(10**7):07d}" if rng.random() < 0.6 else "",
        # A few students left the school; pool logins (the first numbers) always work.
        is_active=not (role == Role.STUDENT and number > POOL_SIZE and rng.random() < 0.02),
        is_staff=role == Role.ADMIN,
        date_joined=world.now - timedelta(days=rng.randrange(30, 720), minutes=rng.randrange(1440)),
    )


def _link_plan(world: World, bulk_students: int) -> tuple[list[tuple[int | None, bool]], int]:
    """Decide, student by student (the demo student first), who has a tutor and a parent; siblings share one.
    Returns per student (parent number or None, has a tutor) and how many bulk parents that needs; parent
    numbers index `world.parents`, where 0 is the demo parent."""
    rng = world.rng
    plan: list[tuple[int | None, bool]] = [(0, True)]
    parents = 0
    for _ in range(bulk_students):
        if rng.random() < 0.85:
            if parents and rng.random() < 0.2:
                parent = rng.randrange(parents + 1)  # a sibling of an earlier student
            else:
                parents += 1
                parent = parents
        else:
            parent = None
        plan.append((parent, rng.random() < 0.9))
    return plan, parents


def _profiles_create(world: World, new_ids: set[int], plan: list[tuple[int | None, bool]]) -> None:
    rng = world.rng
    student_profiles = []
    for index, student_id in enumerate(world.students):
        parent_number, has_tutor = plan[index]
        parent = None if parent_number is None else world.parents[parent_number]
        tutor = world.demo[Role.TUTOR] if index == 0 else (rng.choice(world.tutors) if has_tutor else None)
        world.tutor_of[student_id], world.parent_of[student_id] = tutor, parent
        if student_id in new_ids:
            student_profiles.append(
                StudentProfile(
                    user_id=student_id,
                    grade=rng.randint(1, 12),
                    goal=rng.choice(["", "Pass the final exam", "Catch up with the class", "Olympiad", "Confidence"]),
                    tutor_id=tutor,
                    parent_id=parent,
                )
            )
    demo_student = world.demo[Role.STUDENT]
    if demo_student not in new_ids:  # an earlier, smaller demo: link it the way this one expects
        StudentProfile.objects.filter(user_id=demo_student).update(
            tutor_id=world.tutor_of[demo_student], parent_id=world.parent_of[demo_student]
        )
    insert(StudentProfile, student_profiles)
    insert(
        TeacherProfile,
        [
            TeacherProfile(
                user_id=pk,
                bio=f"Teaching for {years} years.",
                experience_years=years,
            )
            for pk in world.teachers
            if pk in new_ids
            for years in [rng.randint(1, 30)]
        ],
    )
    insert(
        TutorProfile,
        [TutorProfile(user_id=pk, bio="Tutor and family contact.") for pk in world.tutors if pk in new_ids],
    )
    insert(ParentProfile, [ParentProfile(user_id=pk) for pk in world.parents if pk in new_ids])
