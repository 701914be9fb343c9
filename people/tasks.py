"""Jobs of people: the email of a self-service password reset (people/password_reset.py)."""

from django_tasks import task

from people.password_reset import send_reset_email


@task()
def password_reset_send(email: str) -> bool:
    """Email a reset link to the active account with `email`, if any (the request path never looks it up)."""
    return send_reset_email(email)
