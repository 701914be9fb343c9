"""Query count per endpoint, measured after the load on the same database: one recorded request of each endpoint
(what the load really sent, with the same login) is replayed once through Django's test client, authenticated
with a real token, under `CaptureQueriesContext`. The count includes the token lookup, as in production.

    python tests/load/query_counts.py EXTRA_JSON OUT_JSON      (settings from the environment, as the server's)

Writes that cannot simply be repeated get a fresh target first: a lesson moves to a free far-future slot, a
chat message gets a new client_id, grading takes a submission still waiting for a grade, sending takes a draft.
The replayed status is reported beside the count, so a count of an error path is never mistaken for the real one.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from knox.models import AuthToken  # noqa: E402

from accounts.models import User  # noqa: E402


def _fresh(sample: dict, user) -> tuple[str, object]:
    """The path and body to replay for `sample`, with a fresh target where repeating would only hit a conflict."""
    path, body = sample["path"], sample["body"]
    key = f"{sample['method']} {sample['name']}"
    if key == "POST /api/scheduling/lessons/" and body:
        from django.utils.dateparse import parse_datetime

        from scheduling.models import Lesson

        start = parse_datetime(body["start"]) + timedelta(days=3 * 365)
        length = parse_datetime(body["end"]) - parse_datetime(body["start"])
        while Lesson.objects.filter(start__lt=start + length, end__gt=start).exists():
            start += timedelta(days=1)
        body = {**body, "start": start.isoformat(), "end": (start + length).isoformat()}
    elif key == "POST /api/chat/rooms/[id]/messages/" and body:
        body = {**body, "client_id": uuid.uuid4().hex}
    elif key == "POST /api/assignments/submissions/[id]/grade/":
        from assignments.models import Submission

        waiting = Submission.objects.filter(assignment__teacher=user, status="submitted").order_by("id").first()
        if waiting is not None:
            path = f"/api/assignments/submissions/{waiting.pk}/grade/"
    elif key == "POST /api/assignments/[id]/submissions/":
        from assignments.models import Submission

        open_one = (
            Submission.objects.filter(
                student=user, status__in=["submitted", "returned"], assignment__status="published"
            )
            .order_by("id")
            .first()
        )
        if open_one is not None:
            path = f"/api/assignments/{open_one.assignment_id}/submissions/"
    elif key == "POST /api/invoices/[id]/send/":
        from invoices.models import Invoice

        draft = Invoice.objects.filter(tutor=user, status="draft").order_by("id").first()
        if draft is not None:
            path = f"/api/invoices/{draft.pk}/send/"
    return path, body


def measure(samples: dict) -> dict:
    counts = {}
    tokens: dict[str, str] = {}
    for key, sample in sorted(samples.items()):
        headers = {}
        user = None
        if sample["email"]:
            user = User.objects.get(email=sample["email"])
            if key == "POST /api/auth/logout/":
                token = AuthToken.objects.create(user)[1]  # a logout revokes it: never shared with other replays
            else:
                if sample["email"] not in tokens:
                    tokens[sample["email"]] = AuthToken.objects.create(user)[1]
                token = tokens[sample["email"]]
            headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        path, body = _fresh(sample, user)
        client = Client()
        data = json.dumps(body) if body is not None else None
        with CaptureQueriesContext(connection) as captured:
            if data is None:
                response = client.generic(sample["method"], path, **headers)
            else:
                response = client.generic(sample["method"], path, data, content_type="application/json", **headers)
        counts[key] = {"queries": len(captured.captured_queries), "status": response.status_code, "path": path}
    return counts


def main() -> None:
    extra_path, out_path = sys.argv[1], sys.argv[2]
    extra = json.loads(Path(extra_path).read_text()) if Path(extra_path).exists() else {"samples": {}}
    Path(out_path).write_text(json.dumps(measure(extra.get("samples", {})), indent=1))


if __name__ == "__main__":
    main()
