"""Mixed-role load on THE_BOT: one locust user class per role, doing what that role does, in realistic proportions.

    locust -f tests/load/locustfile.py -H http://127.0.0.1:8000      (or `make loadtest`, which runs the whole stack)

Logins come from the seed file (`var/demo_logins.json`, or `$LOADTEST_LOGINS`): its `pool` per role when present,
else the one demo login per role. No ids are hard-coded: every user discovers them from list endpoints at start.
Weights (class `weight`, task weights) say how many users of each role there are and how often each does what:
mostly students reading; teachers writing; tutors chatting over a held WebSocket and billing; parents reading
invoices and grades; a few admins listing users; one monitor polling the health endpoint like a load balancer.
Expected outcomes of a busy system (a lesson slot taken meanwhile → 409 `lesson_conflict`, a submission graded
meanwhile → 409) count as successes; every other non-2xx is a failure.

`$LOADTEST_WARMUP` seconds (default 0) after the last user has spawned, locust's statistics and the recorder's
buckets start again: the figures are the steady state, not the cold start where every user logs in and discovers
its ids at once. Students, teachers and parents sign out and in again now and then, so logins are measured in
the steady state too.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

import gevent
from load_common import RECORDER, call, error_code, log_in, pick, results
from load_ws import ChatSocket
from locust import FastHttpUser, between, constant_pacing, events, task
from locust.exception import StopUser

WAIT = between(float(os.environ.get("LOADTEST_WAIT_MIN", "0.5")), float(os.environ.get("LOADTEST_WAIT_MAX", "2")))
WARMUP = float(os.environ.get("LOADTEST_WARMUP", "0"))


_ENVIRONMENT: dict = {}


@events.init.add_listener
def _keep_environment(environment, **kwargs):
    _ENVIRONMENT["current"] = environment


@events.spawning_complete.add_listener
def _warm_up(user_count, **kwargs):
    """WARMUP seconds after the last spawn, statistics start again (the report says how much was skipped)."""
    if WARMUP <= 0:
        return
    stats = _ENVIRONMENT["current"].runner.stats

    def end_warmup():
        skipped = stats.total.num_requests
        stats.reset_all()
        RECORDER.reset(ended_at=time.time(), seconds=WARMUP, requests_skipped=skipped)

    gevent.spawn_later(WARMUP, end_warmup)


@events.request.add_listener
def _record(**kwargs):
    RECORDER.on_request(**kwargs)


@events.quitting.add_listener
def _dump(environment, **kwargs):
    path = os.environ.get("LOADTEST_EXTRA_FILE")
    if path:
        RECORDER.dump(path, environment.stats)


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _conflict(*codes: str):
    """An expected 409: the state changed under us (another user of the same pool acted first)."""

    def check(response) -> bool:
        return response.status_code == 409 and error_code(response) in codes

    return check


class RoleUser(FastHttpUser):
    abstract = True
    wait_time = WAIT
    role = ""

    def on_start(self):
        if not log_in(self, self.role):
            raise StopUser()
        self.discover()

    def discover(self):
        """Ids this role works with, read from list endpoints."""

    def get(self, path: str, name: str | None = None, params: dict | None = None):
        return call(self, "GET", path, name=name, params=params)

    @task(1)
    def profile(self):
        self.get("/api/profile/me/")

    @task(1)
    def chat_rooms(self):
        self.rooms = results(self.get("/api/chat/rooms/")) or getattr(self, "rooms", [])


class SignsInAgain(RoleUser):
    """A user who signs out and back in now and then (the token ends; a new one is issued)."""

    abstract = True

    @task(1)
    def sign_in_again(self):
        call(self, "POST", "/api/auth/logout/", ok=(204,))
        if not log_in(self, self.role, login=self.login):
            raise StopUser()


class StudentUser(SignsInAgain):
    """Reads materials and lessons, records progress, hands in homework, chats over REST."""

    weight = 10
    role = "student"

    def discover(self):
        first = self.get("/api/materials/") or {}
        self.materials, self.materials_count = results(first), first.get("count", 0)
        self.assignments = results(self.get("/api/assignments/"))
        self.rooms = results(self.get("/api/chat/rooms/"))
        self.progress: dict[int, int] = {}

    @task(8)
    def browse_materials(self):
        """Mostly the first page; now and then one further on (only pages that exist: the last count says)."""
        pages = max(1, -(-self.materials_count // 20))
        number = 1 if random.random() < 0.7 else random.randint(1, min(pages, 5))
        page = self.get("/api/materials/", params={"page": number} if number > 1 else None)
        if page is not None:
            self.materials_count = page.get("count", 0)
            self.materials = page.get("results") or self.materials

    @task(4)
    def read_material(self):
        material = pick(self.materials)
        if material:
            self.get(f"/api/materials/{material['id']}/", name="/api/materials/[id]/")

    @task(3)
    def update_progress(self):
        material = pick(self.materials)
        if not material:
            return
        current = self.progress.get(material["id"], (material.get("progress") or {}).get("percent") or 0)
        percent = min(100, current + random.randint(5, 25))
        self.progress[material["id"]] = percent
        call(
            self,
            "PUT",
            f"/api/materials/{material['id']}/progress/",
            name="/api/materials/[id]/progress/",
            body={"percent": percent, "time_spent_seconds": percent * 12},
        )

    @task(5)
    def lessons(self):
        start = _now()
        self.get("/api/scheduling/lessons/", params={"from": _iso(start), "to": _iso(start + timedelta(days=14))})

    @task(4)
    def browse_assignments(self):
        self.assignments = results(self.get("/api/assignments/")) or self.assignments

    @task(2)
    def read_assignment(self):
        assignment = pick(self.assignments)
        if assignment:
            self.get(f"/api/assignments/{assignment['id']}/", name="/api/assignments/[id]/")

    @task(2)
    def submit_homework(self):
        now = _now()
        open_ones = [
            a
            for a in self.assignments
            if a.get("status") == "published"
            and (a.get("submission") is None or a["submission"].get("status") in ("submitted", "returned"))
            and (a.get("allow_late") or datetime.fromisoformat(a["due_at"].replace("Z", "+00:00")) > now)
        ]
        assignment = pick(open_ones)
        if not assignment:
            return
        call(
            self,
            "POST",
            f"/api/assignments/{assignment['id']}/submissions/",
            name="/api/assignments/[id]/submissions/",
            body={"text": f"My answer, attempt at {now:%H:%M:%S}."},
            ok=(201,),
            expected=_conflict("already_graded", "assignment_closed"),
        )

    @task(2)
    def read_chat(self):
        room = pick(self.rooms)
        if room:
            self.get(f"/api/chat/rooms/{room['id']}/messages/", name="/api/chat/rooms/[id]/messages/")

    @task(1)
    def post_chat(self):
        room = pick([r for r in self.rooms if not r.get("read_only")])
        if room:
            call(
                self,
                "POST",
                f"/api/chat/rooms/{room['id']}/messages/",
                name="/api/chat/rooms/[id]/messages/",
                body={"text": "Hello, a question about the homework.", "client_id": uuid.uuid4().hex},
                ok=(200, 201),
            )


class TeacherUser(SignsInAgain):
    """Writes materials and assignments, schedules lessons in free slots, grades hand-ins."""

    weight = 3
    role = "teacher"

    def discover(self):
        self.enrollments = results(self.get("/api/materials/enrollments/", params={"is_active": "true"}))
        self.assignments = results(self.get("/api/assignments/"))

    @task(3)
    def browse_materials(self):
        self.get("/api/materials/")

    @task(1)
    def create_material(self):
        enrollment = pick(self.enrollments)
        if not enrollment:
            return
        call(
            self,
            "POST",
            "/api/materials/",
            body={
                "title": f"Worksheet {uuid.uuid4().hex[:6]}",
                "description": "Practice problems",
                "content": "1. Solve x + 2 = 5.\n2. Solve 2x = 8.",
                "kind": "homework",
                "status": "published",
                "subject": enrollment["subject"]["id"],
            },
            ok=(201,),
        )

    @task(3)
    def lessons(self):
        start = _now()
        self.get("/api/scheduling/lessons/", params={"from": _iso(start), "to": _iso(start + timedelta(days=7))})

    @task(2)
    def schedule_lesson(self):
        """Look at one day's scheduled lessons, pick a free hour in it, book it. Another teacher session of the
        pool (or the student's other teacher) may take it first: that 409 is the system working."""
        enrollment = pick(self.enrollments)
        if not enrollment:
            return
        day = (_now() + timedelta(days=random.randint(1, 60))).replace(hour=0, minute=0, second=0, microsecond=0)
        busy = results(
            self.get(
                "/api/scheduling/lessons/",
                params={
                    "from": _iso(day),
                    "to": _iso(day + timedelta(days=1)),
                    "status": "scheduled",
                    "page_size": 100,
                },
            )
        )
        taken = [
            (
                datetime.fromisoformat(x["start"].replace("Z", "+00:00")),
                datetime.fromisoformat(x["end"].replace("Z", "+00:00")),
            )
            for x in busy
        ]
        free = []
        for half_hours in range(16, 40):  # 08:00 .. 19:30 UTC starts, one hour long
            start = day + timedelta(minutes=30 * half_hours)
            end = start + timedelta(hours=1)
            if all(not (s < end and e > start) for s, e in taken):
                free.append((start, end))
        if not free:
            return
        start, end = random.choice(free)
        call(
            self,
            "POST",
            "/api/scheduling/lessons/",
            body={
                "student": enrollment["student"]["id"],
                "subject": enrollment["subject"]["id"],
                "start": _iso(start),
                "end": _iso(end),
                "topic": "Practice",
            },
            ok=(201,),
            expected=lambda r: (
                (r.status_code == 409 and error_code(r) == "lesson_conflict" and bool(r.json().get("conflicts")))
                or self._student_gone(r, enrollment)
            ),
        )

    def _student_gone(self, response, enrollment) -> bool:
        """A deactivated student keeps their enrollment rows but cannot be scheduled (a genuine 400): the teacher
        stops trying that one (the seed deactivates ~2 % of students)."""
        if response.status_code == 400 and error_code(response) == "unknown_student":
            if enrollment in self.enrollments:
                self.enrollments.remove(enrollment)
            return True
        return False

    @task(2)
    def browse_assignments(self):
        self.assignments = results(self.get("/api/assignments/")) or self.assignments

    @task(1)
    def publish_assignment(self):
        enrollment = pick(self.enrollments)
        if not enrollment:
            return
        call(
            self,
            "POST",
            "/api/assignments/",
            body={
                "title": f"Homework {uuid.uuid4().hex[:6]}",
                "description": "Exercises 1-5",
                "subject": enrollment["subject"]["id"],
                "due_at": _iso(_now() + timedelta(days=7)),
                "max_score": "10.00",
                "status": "published",
            },
            ok=(201,),
        )

    @task(3)
    def grade(self):
        candidates = [a for a in self.assignments if (a.get("counts") or {}).get("submitted")]
        assignment = pick(candidates) or pick(self.assignments)
        if not assignment:
            return
        submissions = results(
            self.get(
                f"/api/assignments/{assignment['id']}/submissions/",
                name="/api/assignments/[id]/submissions/",
                params={"status": "submitted"},
            )
        )
        submission = pick(submissions)
        if not submission:
            return
        max_score = float(assignment.get("max_score") or 10)
        call(
            self,
            "POST",
            f"/api/assignments/submissions/{submission['id']}/grade/",
            name="/api/assignments/submissions/[id]/grade/",
            body={"score": f"{random.uniform(0, max_score):.2f}", "feedback": "Good work."},
            expected=_conflict("already_graded", "not_gradable"),
        )


class TutorUser(RoleUser):
    """Holds a chat socket open the whole session and talks over it; bills parents."""

    weight = 2
    role = "tutor"

    def discover(self):
        self.rooms = results(self.get("/api/chat/rooms/"))
        enrollments = results(self.get("/api/materials/enrollments/", params={"is_active": "true"}))
        self.students = list({e["student"]["id"] for e in enrollments})
        self.invoices = results(self.get("/api/invoices/"))
        self.socket = None
        ticket = call(self, "POST", "/api/chat/ws-ticket/", ok=(200, 201))
        if ticket:
            socket = ChatSocket(self, self.host.replace("http", "ws", 1))
            if socket.connect(ticket["ticket"]):
                self.socket = socket

    def on_stop(self):
        if self.socket is not None:
            self.socket.close()

    @task(8)
    def chat_over_socket(self):
        room = pick([r for r in self.rooms if not r.get("read_only")])
        if self.socket is not None and room:
            self.socket.send_message(room["id"], f"Reminder: lesson tomorrow ({time.strftime('%H:%M:%S')}).")

    @task(2)
    def invoices_list(self):
        self.invoices = results(self.get("/api/invoices/")) or self.invoices

    @task(1)
    def issue_invoice(self):
        student = pick(self.students)
        if not student:
            return
        invoice = call(
            self,
            "POST",
            "/api/invoices/",
            body={
                "student": student,
                "amount": f"{random.choice([1500, 2000, 2500, 3000])}.00",
                "description": "Lessons this month",
                "due_date": (_now() + timedelta(days=14)).date().isoformat(),
            },
            ok=(201,),
            expected=lambda response: self._cannot_bill(response, student),
        )
        if invoice:
            call(self, "POST", f"/api/invoices/{invoice['id']}/send/", name="/api/invoices/[id]/send/")

    def _cannot_bill(self, response, student) -> bool:
        """A student without a parent cannot be billed (a genuine 400): the tutor stops trying that one."""
        if response.status_code == 400 and response.json().get("code") == "student_has_no_parent":
            if student in self.students:
                self.students.remove(student)
            return True
        return False


class ParentUser(SignsInAgain):
    """Reads invoices (opening a sent one marks it viewed) and their children's grades."""

    weight = 3
    role = "parent"

    def discover(self):
        self.invoices = results(self.get("/api/invoices/"))

    @task(4)
    def invoices_list(self):
        self.invoices = results(self.get("/api/invoices/")) or self.invoices

    @task(2)
    def invoice_detail(self):
        invoice = pick(self.invoices)
        if invoice:
            self.get(f"/api/invoices/{invoice['id']}/", name="/api/invoices/[id]/")

    @task(3)
    def gradebook(self):
        self.get("/api/assignments/gradebook/")

    @task(2)
    def assignments(self):
        self.get("/api/assignments/")

    @task(1)
    def lessons(self):
        start = _now()
        self.get("/api/scheduling/lessons/", params={"from": _iso(start), "to": _iso(start + timedelta(days=14))})


class AdminUser(RoleUser):
    """Lists and searches users."""

    weight = 1
    role = "admin"

    @task(4)
    def users(self):
        self.get("/api/admin/users/")

    @task(2)
    def users_by_role(self):
        self.get("/api/admin/users/", params={"role": random.choice(["student", "teacher", "tutor", "parent"])})

    @task(1)
    def users_search(self):
        self.get("/api/admin/users/", params={"search": random.choice(["demo", "a", "student"])})


class HealthMonitor(FastHttpUser):
    """The load balancer's liveness probe: one per run, once a second; readiness every tenth time."""

    fixed_count = 1
    wait_time = constant_pacing(1)
    role = "monitor"
    login = {"email": ""}
    auth_headers: dict = {}

    @task(9)
    def health(self):
        call(self, "GET", "/api/health/")

    @task(1)
    def ready(self):
        call(self, "GET", "/api/health/ready/")


if os.environ.get("LOADTEST_ONE_EACH"):
    # Smoke runs: exactly one user of each role, whatever the weights (tests/load/test_loadtest_smoke.py).
    for _cls in (StudentUser, TeacherUser, TutorUser, ParentUser, AdminUser):
        _cls.fixed_count = 1
    del _cls  # locust collects every User class bound at module level
