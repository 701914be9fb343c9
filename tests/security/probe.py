"""Requests in a savepoint that is rolled back, so that every actor meets the same world."""

import json

from django.db import transaction

from tests import isolation
from tests.security.world import fingerprint, fingerprint_diff, split


class Rollback(Exception):
    pass


def call(client, key: str, url: str, body=None, fmt="json", *, writes: dict | None = None, after=None):
    """The answer; with `writes` (a dict), the fingerprint difference the request made is put in writes[\"diff\"]."""
    method, _ = split(key)
    isolation.cache_clear()  # every probe starts below every rate limit
    try:
        with transaction.atomic():
            before = fingerprint() if writes is not None else None
            if method == "get":
                response = client.get(url)
            else:
                response = getattr(client, method)(url, body if body is not None else {}, format=fmt)
            if getattr(response, "streaming", False):
                response.body = b"".join(response.streaming_content)  # read inside the savepoint
            else:
                response.body = response.content
            if after is not None:
                after(response)  # look at the database before the savepoint is rolled back
            if writes is not None:
                writes["diff"] = fingerprint_diff(before, fingerprint())
            raise Rollback
    except Rollback:
        pass
    return response


def outcome(response) -> str:
    """ "ok" for a 2xx; "401", "403", "404" for the access refusals; "<status> <code>" for an answer given after
    access was granted (a business rule, a state, a configuration)."""
    status = response.status_code
    if status < 300:
        return "ok"
    if status in (401, 403, 404):
        return str(status)
    code = None
    if response.get("content-type", "").startswith("application/json"):
        code = json.loads(response.body).get("code")
    return f"{status} {code}"
