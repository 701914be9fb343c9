"""Expected shapes shared by the API tests of every app."""


def person(user) -> dict:
    """A reference to a person as every endpoint shows it: id, full name (else the email's local part), role."""
    name = f"{user.first_name} {user.last_name}".strip() or user.email.split("@")[0]
    return {"id": user.pk, "name": name, "role": user.role}
