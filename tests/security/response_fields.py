# ruff: noqa: E501 - one line per operation and role reads better wrapped by nothing
"""Response fields per role: for every GET operation of the OpenAPI schema, the field paths an answer may hold
(`results[].teacher.name`; list items as `[]`), for every role ("*") and for some roles only (admin, ...).

tests/security/test_response_fields.py walks the real answers of every GET operation as each role (on the
objects of the role's own family) and fails on any field not listed here, and on a GET operation without an entry.
An error answer's fields (`code`, `detail`) are listed where a role is refused. A new field in an answer: add it
here after asking whether that role should see it (another user's email to a student, say: no).
"""

# fmt: off
RESPONSE_FIELDS: dict[str, dict[str, list[str]]] = {
    "GET /api/admin/users/": {
        "*": [],
        "student": ["code", "detail"],
        "teacher": ["code", "detail"],
        "tutor": ["code", "detail"],
        "parent": ["code", "detail"],
        "admin": ["count", "next", "previous", "results", "results[].date_joined", "results[].email", "results[].first_name", "results[].id", "results[].is_active", "results[].last_login", "results[].last_name", "results[].phone", "results[].profile", "results[].profile.bio", "results[].profile.children", "results[].profile.children[].id", "results[].profile.children[].name", "results[].profile.children[].role", "results[].profile.experience_years", "results[].profile.goal", "results[].profile.grade", "results[].profile.parent", "results[].profile.parent.id", "results[].profile.parent.name", "results[].profile.parent.role", "results[].profile.subjects", "results[].profile.subjects[].id", "results[].profile.subjects[].name", "results[].profile.tutor", "results[].profile.tutor.id", "results[].profile.tutor.name", "results[].profile.tutor.role", "results[].role", "results[].telegram_linked", "results[].timezone"],
    },
    "GET /api/admin/users/{id}/": {
        "*": [],
        "student": ["code", "detail"],
        "teacher": ["code", "detail"],
        "tutor": ["code", "detail"],
        "parent": ["code", "detail"],
        "admin": ["date_joined", "email", "first_name", "id", "is_active", "last_login", "last_name", "phone", "profile", "profile.goal", "profile.grade", "profile.parent", "profile.parent.id", "profile.parent.name", "profile.parent.role", "profile.tutor", "profile.tutor.id", "profile.tutor.name", "profile.tutor.role", "role", "telegram_linked", "timezone"],
    },
    "GET /api/assignments/": {
        "*": ["count", "next", "previous", "results", "results[].allow_late", "results[].assigned_to", "results[].attachments", "results[].attachments[].content_type", "results[].attachments[].created_at", "results[].attachments[].id", "results[].attachments[].name", "results[].attachments[].size", "results[].attachments[].url", "results[].created_at", "results[].description", "results[].due_at", "results[].id", "results[].max_score", "results[].published_at", "results[].status", "results[].subject", "results[].subject.id", "results[].subject.name", "results[].teacher", "results[].teacher.id", "results[].teacher.name", "results[].teacher.role", "results[].title", "results[].updated_at"],
        "student": ["results[].submission", "results[].submission.attempt", "results[].submission.id", "results[].submission.is_late", "results[].submission.score", "results[].submission.status", "results[].submission.submitted_at"],
        "teacher": ["results[].counts", "results[].counts.graded", "results[].counts.late", "results[].counts.received", "results[].counts.returned", "results[].counts.submitted"],
        "admin": ["results[].counts", "results[].counts.graded", "results[].counts.late", "results[].counts.received", "results[].counts.returned", "results[].counts.submitted"],
    },
    "GET /api/assignments/gradebook/": {
        "*": ["count", "next", "previous", "results", "results[].assignments_due", "results[].average_percent", "results[].graded", "results[].late", "results[].student", "results[].student.id", "results[].student.name", "results[].student.role", "results[].subject", "results[].subject.id", "results[].subject.name", "results[].submitted", "results[].teacher", "results[].teacher.id", "results[].teacher.name", "results[].teacher.role"],
    },
    "GET /api/assignments/submissions/{id}/": {
        "*": ["assignment", "attempt", "attempts", "attempts[].files", "attempts[].files[].content_type", "attempts[].files[].id", "attempts[].files[].name", "attempts[].files[].size", "attempts[].files[].url", "attempts[].is_late", "attempts[].number", "attempts[].submitted_at", "attempts[].text", "feedback", "files", "files[].content_type", "files[].id", "files[].name", "files[].size", "files[].url", "grade_history", "graded_at", "graded_by", "id", "is_late", "score", "status", "student", "student.id", "student.name", "student.role", "submitted_at", "text"],
    },
    "GET /api/assignments/submissions/{id}/files/{file_id}/": {
        "*": [],
    },
    "GET /api/assignments/{id}/": {
        "*": ["allow_late", "assigned_to", "attachments", "attachments[].content_type", "attachments[].created_at", "attachments[].id", "attachments[].name", "attachments[].size", "attachments[].url", "created_at", "description", "due_at", "id", "max_score", "published_at", "status", "subject", "subject.id", "subject.name", "teacher", "teacher.id", "teacher.name", "teacher.role", "title", "updated_at"],
        "student": ["submission", "submission.attempt", "submission.id", "submission.is_late", "submission.score", "submission.status", "submission.submitted_at"],
        "teacher": ["counts", "counts.graded", "counts.late", "counts.received", "counts.returned", "counts.submitted"],
        "admin": ["counts", "counts.graded", "counts.late", "counts.received", "counts.returned", "counts.submitted"],
    },
    "GET /api/assignments/{id}/attachments/{attachment_id}/": {
        "*": [],
    },
    "GET /api/assignments/{id}/submissions/": {
        "*": ["count", "next", "previous", "results", "results[].assignment", "results[].attempt", "results[].feedback", "results[].files", "results[].files[].content_type", "results[].files[].id", "results[].files[].name", "results[].files[].size", "results[].files[].url", "results[].graded_at", "results[].graded_by", "results[].id", "results[].is_late", "results[].score", "results[].status", "results[].student", "results[].student.id", "results[].student.name", "results[].student.role", "results[].submitted_at", "results[].text"],
    },
    "GET /api/billing/lessons/": {
        "*": ["count", "next", "previous", "results", "results[].billing", "results[].billing.invoice", "results[].billing.kind", "results[].billing.line", "results[].billing.state", "results[].end", "results[].id", "results[].start", "results[].status", "results[].student", "results[].student.id", "results[].student.name", "results[].student.role", "results[].subject", "results[].subject.id", "results[].subject.name", "results[].teacher", "results[].teacher.id", "results[].teacher.name", "results[].teacher.role"],
        "student": ["code", "detail"],
        "teacher": ["code", "detail"],
    },
    "GET /api/billing/pay-rates/": {
        "*": [],
        "student": ["code", "detail"],
        "teacher": ["code", "detail"],
        "tutor": ["code", "detail"],
        "parent": ["code", "detail"],
        "admin": ["count", "next", "previous", "results"],
    },
    "GET /api/billing/rates/": {
        "*": [],
        "student": ["code", "detail"],
        "teacher": ["code", "detail"],
        "tutor": ["code", "detail"],
        "parent": ["code", "detail"],
        "admin": ["count", "next", "previous", "results"],
    },
    "GET /api/chat/messages/{id}/attachment/": {
        "*": ["code", "detail"],
    },
    "GET /api/chat/rooms/": {
        "*": ["count", "next", "previous", "results", "results[].created_at", "results[].id", "results[].kind", "results[].last_activity_at", "results[].last_message", "results[].muted", "results[].name", "results[].participants", "results[].participants[].last_read_message_id", "results[].participants[].read_only", "results[].participants[].user", "results[].participants[].user.id", "results[].participants[].user.name", "results[].participants[].user.role", "results[].read_only", "results[].student", "results[].subject", "results[].unread_count"],
    },
    "GET /api/chat/rooms/{id}/": {
        "*": ["created_at", "id", "kind", "last_activity_at", "last_message", "muted", "name", "participants", "participants[].last_read_message_id", "participants[].read_only", "participants[].user", "participants[].user.id", "participants[].user.name", "participants[].user.role", "read_only", "student", "subject", "unread_count"],
    },
    "GET /api/chat/rooms/{id}/messages/": {
        "*": ["has_more", "results", "results[].attachment_name", "results[].attachment_url", "results[].client_id", "results[].created_at", "results[].deleted", "results[].edited_at", "results[].id", "results[].reply_to", "results[].room", "results[].sender", "results[].sender.id", "results[].sender.name", "results[].sender.role", "results[].text"],
    },
    "GET /api/health/": {
        "*": ["status"],
    },
    "GET /api/health/ready/": {
        "*": ["checks", "checks.cache", "checks.channel_layer", "checks.database", "status"],
    },
    "GET /api/invoices/": {
        "*": [],
        "student": ["code", "detail"],
        "teacher": ["code", "detail"],
        "tutor": ["count", "next", "previous", "results", "results[].amount", "results[].created_at", "results[].currency", "results[].description", "results[].due_date", "results[].enrollment", "results[].id", "results[].paid_at", "results[].parent", "results[].parent.id", "results[].parent.name", "results[].parent.role", "results[].sent_at", "results[].status", "results[].student", "results[].student.id", "results[].student.name", "results[].student.role", "results[].tutor", "results[].tutor.id", "results[].tutor.name", "results[].tutor.role", "results[].viewed_at"],
        "parent": ["count", "next", "previous", "results", "results[].amount", "results[].created_at", "results[].currency", "results[].description", "results[].due_date", "results[].enrollment", "results[].id", "results[].paid_at", "results[].parent", "results[].parent.id", "results[].parent.name", "results[].parent.role", "results[].sent_at", "results[].status", "results[].student", "results[].student.id", "results[].student.name", "results[].student.role", "results[].tutor", "results[].tutor.id", "results[].tutor.name", "results[].tutor.role", "results[].viewed_at"],
        "admin": ["count", "next", "previous", "results", "results[].amount", "results[].created_at", "results[].currency", "results[].description", "results[].due_date", "results[].enrollment", "results[].id", "results[].paid_at", "results[].parent", "results[].parent.id", "results[].parent.name", "results[].parent.role", "results[].sent_at", "results[].status", "results[].student", "results[].student.id", "results[].student.name", "results[].student.role", "results[].tutor", "results[].tutor.id", "results[].tutor.name", "results[].tutor.role", "results[].viewed_at"],
    },
    "GET /api/invoices/summary/": {
        "*": [],
        "student": ["code", "detail"],
        "teacher": ["code", "detail"],
        "tutor": ["by_status", "by_status.cancelled", "by_status.cancelled.count", "by_status.cancelled.totals", "by_status.draft", "by_status.draft.count", "by_status.draft.totals", "by_status.overdue", "by_status.overdue.count", "by_status.overdue.totals", "by_status.paid", "by_status.paid.count", "by_status.paid.totals", "by_status.sent", "by_status.sent.count", "by_status.sent.totals", "by_status.sent.totals.RUB", "by_status.viewed", "by_status.viewed.count", "by_status.viewed.totals", "count"],
        "parent": ["by_status", "by_status.cancelled", "by_status.cancelled.count", "by_status.cancelled.totals", "by_status.draft", "by_status.draft.count", "by_status.draft.totals", "by_status.overdue", "by_status.overdue.count", "by_status.overdue.totals", "by_status.paid", "by_status.paid.count", "by_status.paid.totals", "by_status.sent", "by_status.sent.count", "by_status.sent.totals", "by_status.sent.totals.RUB", "by_status.viewed", "by_status.viewed.count", "by_status.viewed.totals", "count"],
        "admin": ["by_status", "by_status.cancelled", "by_status.cancelled.count", "by_status.cancelled.totals", "by_status.draft", "by_status.draft.count", "by_status.draft.totals", "by_status.overdue", "by_status.overdue.count", "by_status.overdue.totals", "by_status.paid", "by_status.paid.count", "by_status.paid.totals", "by_status.sent", "by_status.sent.count", "by_status.sent.totals", "by_status.sent.totals.RUB", "by_status.viewed", "by_status.viewed.count", "by_status.viewed.totals", "count"],
    },
    "GET /api/invoices/{id}/": {
        "*": [],
        "student": ["code", "detail"],
        "teacher": ["code", "detail"],
        "tutor": ["amount", "created_at", "currency", "description", "due_date", "enrollment", "id", "paid_at", "parent", "parent.id", "parent.name", "parent.role", "sent_at", "status", "student", "student.id", "student.name", "student.role", "tutor", "tutor.id", "tutor.name", "tutor.role", "viewed_at"],
        "parent": ["amount", "created_at", "currency", "description", "due_date", "enrollment", "id", "paid_at", "parent", "parent.id", "parent.name", "parent.role", "sent_at", "status", "student", "student.id", "student.name", "student.role", "tutor", "tutor.id", "tutor.name", "tutor.role", "viewed_at"],
        "admin": ["amount", "created_at", "currency", "description", "due_date", "enrollment", "id", "paid_at", "parent", "parent.id", "parent.name", "parent.role", "sent_at", "status", "student", "student.id", "student.name", "student.role", "tutor", "tutor.id", "tutor.name", "tutor.role", "viewed_at"],
    },
    "GET /api/invoices/{id}/lines/": {
        "*": ["count", "next", "previous", "results", "results[].amount", "results[].credits", "results[].description", "results[].id", "results[].invoice", "results[].kind", "results[].lesson", "results[].quantity", "results[].unit_price"],
        "student": ["code", "detail"],
        "teacher": ["code", "detail"],
    },
    "GET /api/invoices/{id}/history/": {
        "*": [],
        "student": ["code", "detail"],
        "teacher": ["code", "detail"],
        "tutor": ["count", "next", "previous", "results", "results[].changed_at", "results[].changed_by", "results[].changed_by.id", "results[].changed_by.name", "results[].changed_by.role", "results[].id", "results[].new", "results[].old", "results[].reason"],
        "parent": ["count", "next", "previous", "results", "results[].changed_at", "results[].changed_by", "results[].changed_by.id", "results[].changed_by.name", "results[].changed_by.role", "results[].id", "results[].new", "results[].old", "results[].reason"],
        "admin": ["count", "next", "previous", "results", "results[].changed_at", "results[].changed_by", "results[].changed_by.id", "results[].changed_by.name", "results[].changed_by.role", "results[].id", "results[].new", "results[].old", "results[].reason"],
    },
    "GET /api/materials/": {
        "*": ["count", "next", "previous", "results", "results[].assigned_to", "results[].author", "results[].author.id", "results[].author.name", "results[].author.role", "results[].content", "results[].created_at", "results[].description", "results[].file_name", "results[].file_url", "results[].id", "results[].kind", "results[].status", "results[].subject", "results[].subject.id", "results[].subject.name", "results[].title", "results[].updated_at", "results[].url"],
        "student": ["results[].progress", "results[].progress.completed_at", "results[].progress.last_opened_at", "results[].progress.percent", "results[].progress.time_spent_seconds"],
    },
    "GET /api/materials/enrollments/": {
        "*": ["count", "next", "previous", "results", "results[].created_at", "results[].ended_at", "results[].id", "results[].is_active", "results[].started_at", "results[].student", "results[].student.id", "results[].student.name", "results[].student.role", "results[].subject", "results[].subject.id", "results[].subject.name", "results[].teacher", "results[].teacher.id", "results[].teacher.name", "results[].teacher.role"],
    },
    "GET /api/materials/enrollments/{id}/": {
        "*": ["created_at", "ended_at", "id", "is_active", "started_at", "student", "student.id", "student.name", "student.role", "subject", "subject.id", "subject.name", "teacher", "teacher.id", "teacher.name", "teacher.role"],
    },
    "GET /api/materials/progress/": {
        "*": [],
        "student": ["student", "student.id", "student.name", "student.role", "subjects", "subjects[].average_percent", "subjects[].completed", "subjects[].materials", "subjects[].subject", "subjects[].subject.id", "subjects[].subject.name", "totals", "totals.average_percent", "totals.completed", "totals.materials"],
        "teacher": ["code", "detail"],
        "tutor": ["code", "detail", "fields", "fields.student"],
        "parent": ["code", "detail", "fields", "fields.student"],
        "admin": ["code", "detail", "fields", "fields.student"],
    },
    "GET /api/materials/subjects/": {
        "*": ["count", "next", "previous", "results", "results[].description", "results[].id", "results[].name"],
    },
    "GET /api/materials/subjects/{id}/": {
        "*": ["description", "id", "name"],
    },
    "GET /api/materials/{id}/": {
        "*": ["assigned_to", "author", "author.id", "author.name", "author.role", "content", "created_at", "description", "file_name", "file_url", "id", "kind", "status", "subject", "subject.id", "subject.name", "title", "updated_at", "url"],
        "student": ["progress", "progress.completed_at", "progress.last_opened_at", "progress.percent", "progress.time_spent_seconds"],
    },
    "GET /api/materials/{id}/file/": {
        "*": ["code", "detail"],
    },
    "GET /api/materials/{id}/progress/": {
        "*": [],
        "student": ["code", "detail"],
        "tutor": ["code", "detail"],
        "parent": ["code", "detail"],
    },
    "GET /api/notifications/unsubscribe/": {"*": ["code", "detail"]},
    "GET /api/profile/me/notifications/": {
        "*": ["language", "preferences", "preferences[].email", "preferences[].event", "preferences[].label", "preferences[].telegram", "telegram_linked"],
    },
    "GET /api/profile/me/": {
        "*": ["date_joined", "email", "first_name", "id", "is_active", "last_login", "last_name", "phone", "profile", "role", "telegram_linked", "timezone"],
        "student": ["profile.goal", "profile.grade", "profile.parent", "profile.parent.id", "profile.parent.name", "profile.parent.role", "profile.tutor", "profile.tutor.id", "profile.tutor.name", "profile.tutor.role"],
        "teacher": ["profile.bio", "profile.experience_years", "profile.subjects", "profile.subjects[].id", "profile.subjects[].name"],
        "tutor": ["profile.bio"],
        "parent": ["profile.children", "profile.children[].id", "profile.children[].name", "profile.children[].role"],
    },
    "GET /api/scheduling/calendar/": {
        "*": ["url"],
    },
    "GET /api/scheduling/feed/{secret}.ics": {
        "*": ["code", "detail"],
    },
    "GET /api/scheduling/lessons/": {
        "*": ["count", "next", "previous", "results", "results[].cancel_reason", "results[].cancelled_at", "results[].created_at", "results[].end", "results[].id", "results[].meeting_url", "results[].notes", "results[].series_id", "results[].start", "results[].status", "results[].student", "results[].student.id", "results[].student.name", "results[].student.role", "results[].subject", "results[].subject.id", "results[].subject.name", "results[].teacher", "results[].teacher.id", "results[].teacher.name", "results[].teacher.role", "results[].topic", "results[].updated_at"],
    },
    "GET /api/scheduling/lessons/{id}/": {
        "*": ["cancel_reason", "cancelled_at", "created_at", "end", "id", "meeting_url", "notes", "series_id", "start", "status", "student", "student.id", "student.name", "student.role", "subject", "subject.id", "subject.name", "teacher", "teacher.id", "teacher.name", "teacher.role", "topic", "updated_at"],
    },
}
# fmt: on
