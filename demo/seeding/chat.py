"""Chat rooms as `chat.services.rooms_sync_for_student` makes them, some teachers' group rooms, and messages.

Rooms: a subject room per enrollment (student and teacher write, the student's tutor reads), a direct room of
each student with their tutor and of each parent with that tutor, keyed exactly like the service keys them,
so that a later sync finds them. Messages get their ids here, in time order across all rooms, so that each
room's `last_message`, `last_activity_at` and every participant's read marker are written with the rows.
"""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from operator import itemgetter

from accounts.models import Role
from chat.models import ChatRoom, Message, Participant, RoomKind
from chat.selectors import direct_room_key, subject_room_key
from demo.seeding.bulk import datetime_param, insert, insert_fast, insert_rows, next_ids, sequences_reset
from demo.seeding.texts import GROUP_NAMES, PARENT_LINES, STUDENT_LINES, TEACHER_LINES, TUTOR_LINES
from demo.seeding.world import World

LINES = {Role.STUDENT: STUDENT_LINES, Role.TEACHER: TEACHER_LINES, Role.TUTOR: TUTOR_LINES, Role.PARENT: PARENT_LINES}
RECENT = 8  # read markers point at one of a room's last few messages


@dataclass
class RoomPlan:
    room: ChatRoom
    writers: list[int]
    readers: list[int] = field(default_factory=list)
    messages: int = 0
    last_id: int = 0
    last_sender: int | None = None
    recent: list[int] = field(default_factory=list)


def chat_create(world: World) -> None:
    plans = _rooms_plan(world)
    messages = _messages_plan(world, plans)
    ids = next_ids(Message, len(messages))
    high = world.rng.getrandbits(64) << 64
    for message_id, row in zip(ids, messages, strict=True):
        plan = plans[row[1]]
        row[4] = plan.recent[-1] if plan.recent and world.rng.random() < 0.05 else None  # reply_to
        plan.recent = [*plan.recent[-(RECENT - 1) :], message_id]
        plan.last_id, plan.last_sender = message_id, row[2]
        plan.room.last_activity_at = _datetime(row[0])
    for plan in plans:
        plan.room.last_message_id = plan.last_id or None
    insert(ChatRoom, [plan.room for plan in plans])
    _messages_insert(world, plans, messages, ids, high)
    _participants_insert(world, plans)
    sequences_reset(Message)
    world.counts["chat_rooms"] = len(plans)
    world.counts["messages"] = len(messages)


def _rooms_plan(world: World) -> list[RoomPlan]:
    rng, now = world.rng, world.now
    keys_taken = set(ChatRoom.objects.filter(key__isnull=False).values_list("key", flat=True))
    plans = []

    def add(plan: RoomPlan) -> None:
        if plan.room.key is None or plan.room.key not in keys_taken:
            keys_taken.add(plan.room.key)
            plans.append(plan)

    for enrollment in world.enrollments:  # ended enrollments keep their rooms and history
        student, tutor = enrollment.student_id, world.tutor_of.get(enrollment.student_id)
        room = ChatRoom(
            kind=RoomKind.SUBJECT,
            name=world.subject_name(enrollment.subject_id),
            key=subject_room_key(student, enrollment.teacher_id, enrollment.subject_id),
            subject_id=enrollment.subject_id,
            student_id=student,
            created_at=enrollment.created_at,
        )
        add(RoomPlan(room, writers=[student, enrollment.teacher_id], readers=[tutor] if tutor else []))
    for student in world.students:
        tutor, parent = world.tutor_of.get(student), world.parent_of.get(student)
        pairs = [(student, tutor), (parent, tutor)] if tutor else []
        for first, second in pairs:
            if first is None:
                continue
            created = now - timedelta(days=rng.randrange(20, 365), minutes=rng.randrange(1440))
            room = ChatRoom(kind=RoomKind.DIRECT, key=direct_room_key(first, second), created_at=created)
            add(RoomPlan(room, writers=[first, second]))
    by_teacher: dict[int, set[int]] = {}
    for enrollment in world.active_enrollments:
        by_teacher.setdefault(enrollment.teacher_id, set()).add(enrollment.student_id)
    for teacher, students in by_teacher.items():
        if len(students) >= 3 and (teacher == world.demo[Role.TEACHER] or rng.random() < 0.3):
            members = rng.sample(sorted(students), min(8, len(students)))
            created = now - timedelta(days=rng.randrange(10, 200))
            room = ChatRoom(
                kind=RoomKind.GROUP, name=rng.choice(GROUP_NAMES), created_by_id=teacher, created_at=created
            )
            add(RoomPlan(room, writers=[teacher, *members]))
    for plan in plans:
        plan.room.last_activity_at = plan.room.created_at
    return plans


def _messages_plan(world: World, plans: list[RoomPlan]) -> list[list]:
    """Rows [timestamp, room index, sender, text, reply_to] sorted by time: busy rooms and quiet ones."""
    rng, now = world.rng, world.now.timestamp()
    weights = [min(rng.paretovariate(1.3), 30.0) for _ in plans]
    scale = world.scale.messages / sum(weights) if plans else 0
    rows = []
    for index, (plan, weight) in enumerate(zip(plans, weights, strict=True)):
        plan.messages = int(weight * scale + rng.random())
        start = plan.room.created_at.timestamp()
        for _ in range(plan.messages):
            system = plan.room.kind == RoomKind.SUBJECT and rng.random() < 0.03
            sender = None if system else rng.choice(plan.writers)
            rows.append([rng.uniform(start, now), index, sender, None, None])
    rows.sort(key=itemgetter(0))
    return rows


MESSAGE_FIELDS = [
    "id", "room", "sender", "text", "client_id", "reply_to", "attachment", "attachment_name", "created_at",
    "edited_at", "deleted_at",
]  # fmt: skip


def _messages_insert(world: World, plans: list[RoomPlan], rows: list[list], ids: range, high: int) -> None:
    rng, roles = world.rng, _roles(world)

    def values():
        for message_id, (at, index, sender, _, reply_to) in zip(ids, rows, strict=True):
            created, text, edited, deleted = _datetime(at), _text(world, plans[index], sender, roles), None, None
            chance = rng.random()
            if sender is not None and chance < 0.01:
                text, deleted = "", created + timedelta(minutes=rng.randrange(1, 30))
            elif sender is not None and chance < 0.04:
                edited = created + timedelta(minutes=rng.randrange(1, 10))
            client_id = None if sender is None else str(uuid.UUID(int=high | message_id))
            room = plans[index].room.pk
            created, edited, deleted = datetime_param(created), datetime_param(edited), datetime_param(deleted)
            yield (message_id, room, sender, text, client_id, reply_to, "", "", created, edited, deleted)

    insert_rows(Message, MESSAGE_FIELDS, values())


def _text(world: World, plan: RoomPlan, sender: int | None, roles: dict[int, str]) -> str:
    rng = world.rng
    if sender is None:
        return f"New assignment in {plan.room.name}: practice set {rng.randint(1, 12)}."
    line = rng.choice(LINES[roles[sender]])
    return line.format(n=rng.randint(1, 9), name=world.names.get(plan.room.student_id or 0) or "Sam")


def _participants_insert(world: World, plans: list[RoomPlan]) -> None:
    rng, rows = world.rng, []
    for plan in plans:
        for user, read_only in [(user, False) for user in plan.writers] + [(user, True) for user in plan.readers]:
            if plan.last_sender == user or rng.random() < 0.6:
                read = plan.last_id
            else:
                read = rng.choice([0, *plan.recent[:-1]]) if plan.recent else 0
            rows.append(
                Participant(
                    room_id=plan.room.pk,
                    user_id=user,
                    joined_at=plan.room.created_at,
                    last_read_message_id=read,
                    muted=rng.random() < 0.03,
                    read_only=read_only,
                )
            )
    world.counts["participants"] = len(insert_fast(Participant, rows))


def _roles(world: World) -> dict[int, str]:
    roles = {}
    for role in (Role.STUDENT, Role.TEACHER, Role.TUTOR, Role.PARENT):
        roles.update(dict.fromkeys(getattr(world, f"{role}s"), role))
    return roles


def _datetime(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)
