# ruff: noqa: E501 - one row per operation reads better than wrapped rows
"""The role table: what anonymous and each of the five roles may do with each operation of the OpenAPI schema.

One row per operation ("METHOD /path" as in the schema), one column per actor, in the order of COLUMNS. Each cell is
the answer the actor gets when it calls the operation on the objects of its own family (tests/security/world.py),
with the valid body of tests/security/bodies.py:

- "ok": done (2xx);
- "401": not signed in; "403": the role may not (permission); "404": the object is not the actor's to see;
- "<status> <code>": access granted, then refused by a business rule, a state or the configuration (409
  `has_submissions`, 503 `payments_not_configured`, ...): the role may, this call just cannot.

tests/security/test_role_table.py calls every cell and fails on any mismatch, on an operation of the schema with no
row, and on a row whose operation is gone. A new endpoint: add its row here (and its body to bodies.py when it
takes one); docs/development.md "Adding an endpoint".
"""

COLUMNS = ("anonymous", "student", "teacher", "tutor", "parent", "admin")

# fmt: off
ROLE_TABLE: dict[str, tuple[str, str, str, str, str, str]] = {
    "GET /api/admin/users/":                                     ("401", "403", "403", "403", "403", "ok"),
    "POST /api/admin/users/":                                    ("401", "403", "403", "403", "403", "ok"),
    "GET /api/admin/users/{id}/":                                ("401", "403", "403", "403", "403", "ok"),
    "PATCH /api/admin/users/{id}/":                              ("401", "403", "403", "403", "403", "ok"),
    "DELETE /api/admin/users/{id}/":                             ("401", "403", "403", "403", "403", "ok"),
    "POST /api/admin/users/{id}/reset-password/":                ("401", "403", "403", "403", "403", "ok"),
    "GET /api/assignments/":                                     ("401", "ok", "ok", "ok", "ok", "ok"),
    "POST /api/assignments/":                                    ("401", "403", "ok", "403", "403", "403"),
    "GET /api/assignments/{id}/":                                ("401", "ok", "ok", "ok", "ok", "ok"),
    "PATCH /api/assignments/{id}/":                              ("401", "403", "ok", "403", "403", "ok"),
    "DELETE /api/assignments/{id}/":                             ("401", "403", "409 has_submissions", "403", "403", "409 has_submissions"),
    "POST /api/assignments/{id}/attachments/":                   ("401", "403", "ok", "403", "403", "ok"),
    "GET /api/assignments/{id}/attachments/{attachment_id}/":    ("401", "ok", "ok", "ok", "ok", "ok"),
    "DELETE /api/assignments/{id}/attachments/{attachment_id}/": ("401", "403", "ok", "403", "403", "ok"),
    "POST /api/assignments/{id}/close/":                         ("401", "403", "ok", "403", "403", "ok"),
    "POST /api/assignments/{id}/publish/":                       ("401", "403", "409 invalid_transition", "403", "403", "409 invalid_transition"),
    "GET /api/assignments/{id}/submissions/":                    ("401", "ok", "ok", "ok", "ok", "ok"),
    "POST /api/assignments/{id}/submissions/":                   ("401", "ok", "403", "403", "403", "403"),
    "GET /api/assignments/gradebook/":                           ("401", "ok", "ok", "ok", "ok", "ok"),
    "GET /api/assignments/submissions/{id}/":                    ("401", "ok", "ok", "ok", "ok", "ok"),
    "GET /api/assignments/submissions/{id}/files/{file_id}/":    ("401", "ok", "ok", "ok", "ok", "ok"),
    "POST /api/assignments/submissions/{id}/grade/":             ("401", "403", "ok", "403", "403", "ok"),
    "POST /api/assignments/submissions/{id}/return/":            ("401", "403", "ok", "403", "403", "ok"),
    "POST /api/auth/login/":                                     ("401", "401", "401", "401", "401", "401"),
    "POST /api/auth/logout/":                                    ("401", "ok", "ok", "ok", "ok", "ok"),
    "POST /api/auth/logout-all/":                                ("401", "ok", "ok", "ok", "ok", "ok"),
    # Anonymous by design (the same 202 for any address); a signed-in caller is simply not identified.
    "POST /api/auth/password-reset/":                            ("ok",) * 6,
    "POST /api/auth/password-reset/confirm/":                    ("400 invalid_reset_token",) * 6,
    "GET /api/billing/lessons/":                                 ("401", "403", "403", "ok", "ok", "ok"),
    "GET /api/billing/pay-rates/":                               ("401", "403", "403", "403", "403", "ok"),
    "POST /api/billing/pay-rates/":                              ("401", "403", "403", "403", "403", "ok"),
    "POST /api/billing/preview/":                                ("401", "403", "403", "ok", "403", "ok"),
    "GET /api/billing/rates/":                                   ("401", "403", "403", "403", "403", "ok"),
    "POST /api/billing/rates/":                                  ("401", "403", "403", "403", "403", "ok"),
    "POST /api/billing/runs/":                                   ("401", "403", "403", "ok", "403", "ok"),
    "PATCH /api/chat/messages/{id}/":                            ("401", "403", "ok", "403", "403", "403"),
    "DELETE /api/chat/messages/{id}/":                           ("401", "403", "ok", "403", "403", "403"),
    "GET /api/chat/messages/{id}/attachment/":                   ("401", "404", "404", "404", "404", "404"),
    "GET /api/chat/rooms/":                                      ("401", "ok", "ok", "ok", "ok", "ok"),
    "POST /api/chat/rooms/":                                     ("401", "403", "ok", "ok", "403", "ok"),
    "GET /api/chat/rooms/{id}/":                                 ("401", "ok", "ok", "ok", "ok", "ok"),
    "GET /api/chat/rooms/{id}/messages/":                        ("401", "ok", "ok", "ok", "ok", "ok"),
    "POST /api/chat/rooms/{id}/messages/":                       ("401", "ok", "ok", "ok", "ok", "ok"),
    "POST /api/chat/rooms/{id}/read/":                           ("401", "ok", "ok", "ok", "ok", "ok"),
    "POST /api/chat/ws-ticket/":                                 ("401", "ok", "ok", "ok", "ok", "ok"),
    "GET /api/health/":                                          ("ok", "ok", "ok", "ok", "ok", "ok"),
    "GET /api/health/ready/":                                    ("ok", "ok", "ok", "ok", "ok", "ok"),
    "GET /api/invoices/":                                        ("401", "403", "403", "ok", "ok", "ok"),
    "POST /api/invoices/":                                       ("401", "403", "403", "ok", "403", "403"),
    "GET /api/invoices/{id}/":                                   ("401", "403", "403", "ok", "ok", "ok"),
    "PATCH /api/invoices/{id}/":                                 ("401", "403", "403", "409 not_editable", "403", "409 not_editable"),
    "POST /api/invoices/{id}/cancel/":                           ("401", "403", "403", "ok", "403", "ok"),
    "GET /api/invoices/{id}/history/":                           ("401", "403", "403", "ok", "ok", "ok"),
    "GET /api/invoices/{id}/lines/":                             ("401", "403", "403", "ok", "ok", "ok"),
    "POST /api/invoices/{id}/lines/":                            ("401", "403", "403", "409 not_editable", "403", "409 not_editable"),
    "PATCH /api/invoices/{id}/lines/{line_id}/":                 ("401", "403", "403", "409 not_editable", "403", "409 not_editable"),
    "DELETE /api/invoices/{id}/lines/{line_id}/":                ("401", "403", "403", "409 not_editable", "403", "409 not_editable"),
    "POST /api/invoices/{id}/pay/":                              ("401", "403", "403", "403", "503 payments_not_configured", "403"),
    "POST /api/invoices/{id}/send/":                             ("401", "403", "403", "409 illegal_transition", "403", "409 illegal_transition"),
    # Payments are off in the test settings (no shop): the webhook refuses before reading the body, for everyone.
    "POST /api/invoices/payments/webhook/":                      ("503 payments_not_configured",) * 6,
    "GET /api/invoices/summary/":                                ("401", "403", "403", "ok", "ok", "ok"),
    "GET /api/materials/":                                       ("401", "ok", "ok", "ok", "ok", "ok"),
    "POST /api/materials/":                                      ("401", "403", "ok", "403", "403", "400 author_required"),
    "GET /api/materials/{id}/":                                  ("401", "ok", "ok", "ok", "ok", "ok"),
    "PATCH /api/materials/{id}/":                                ("401", "403", "ok", "403", "403", "ok"),
    "DELETE /api/materials/{id}/":                               ("401", "403", "ok", "403", "403", "ok"),
    "GET /api/materials/{id}/file/":                             ("401", "404", "404", "404", "404", "404"),
    "GET /api/materials/{id}/progress/":                         ("401", "403", "ok", "403", "403", "ok"),
    "PUT /api/materials/{id}/progress/":                         ("401", "ok", "403", "403", "403", "403"),
    "POST /api/materials/{id}/progress/reset/":                  ("401", "403", "ok", "403", "403", "ok"),
    "GET /api/materials/enrollments/":                           ("401", "ok", "ok", "ok", "ok", "ok"),
    "POST /api/materials/enrollments/":                          ("401", "403", "403", "ok", "403", "ok"),
    "GET /api/materials/enrollments/{id}/":                      ("401", "ok", "ok", "ok", "ok", "ok"),
    "PATCH /api/materials/enrollments/{id}/":                    ("401", "403", "403", "ok", "403", "ok"),
    "GET /api/materials/progress/":                              ("401", "ok", "403", "400 invalid", "400 invalid", "400 invalid"),
    "GET /api/materials/subjects/":                              ("401", "ok", "ok", "ok", "ok", "ok"),
    "POST /api/materials/subjects/":                             ("401", "403", "403", "403", "403", "ok"),
    "GET /api/materials/subjects/{id}/":                         ("401", "ok", "ok", "ok", "ok", "ok"),
    "PATCH /api/materials/subjects/{id}/":                       ("401", "403", "403", "403", "403", "ok"),
    # The email's unsubscribe link works without signing in; the probe's token is not a valid signature.
    "GET /api/notifications/unsubscribe/":                       ("400 invalid_unsubscribe_token",) * 6,
    "POST /api/notifications/unsubscribe/":                      ("400 invalid_unsubscribe_token",) * 6,
    "GET /api/profile/me/":                                      ("401", "ok", "ok", "ok", "ok", "ok"),
    "PATCH /api/profile/me/":                                    ("401", "ok", "ok", "ok", "ok", "ok"),
    "GET /api/profile/me/notifications/":                        ("401", "ok", "ok", "ok", "ok", "ok"),
    "PUT /api/profile/me/notifications/":                        ("401", "ok", "ok", "ok", "ok", "ok"),
    "POST /api/profile/me/password/":                            ("401", "400 wrong_password", "400 wrong_password", "400 wrong_password", "400 wrong_password", "400 wrong_password"),
    "POST /api/profile/me/telegram/":                            ("401", "503 telegram_not_configured", "503 telegram_not_configured", "503 telegram_not_configured", "503 telegram_not_configured", "503 telegram_not_configured"),
    "GET /api/scheduling/calendar/":                             ("401", "ok", "ok", "ok", "ok", "ok"),
    "POST /api/scheduling/calendar/rotate/":                     ("401", "ok", "ok", "ok", "ok", "ok"),
    "GET /api/scheduling/feed/{secret}.ics":                     ("404", "404", "404", "404", "404", "404"),
    "GET /api/scheduling/lessons/":                              ("401", "ok", "ok", "ok", "ok", "ok"),
    "POST /api/scheduling/lessons/":                             ("401", "403", "ok", "ok", "403", "ok"),
    "GET /api/scheduling/lessons/{id}/":                         ("401", "ok", "ok", "ok", "ok", "ok"),
    "PATCH /api/scheduling/lessons/{id}/":                       ("401", "403", "ok", "ok", "403", "ok"),
    "POST /api/scheduling/lessons/{id}/cancel/":                 ("401", "ok", "ok", "ok", "403", "ok"),
    "POST /api/scheduling/lessons/{id}/complete/":               ("401", "403", "409 lesson_not_started", "403", "403", "403"),
    "POST /api/scheduling/lessons/{id}/no-show/":                ("401", "403", "409 lesson_not_started", "403", "403", "403"),
    "POST /api/telegram/webhook/":                               ("403", "403", "403", "403", "403", "403"),
}
# fmt: on
