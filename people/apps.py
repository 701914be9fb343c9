from django.apps import AppConfig


class PeopleConfig(AppConfig):
    """User administration by admins: the /api/admin/users/ API, the own-profile API (`profile/me/`) and the
    Django admin's user and profile pages. The models stay in accounts; this app sits above chat because changing
    a student's tutor or parent must tell chat (`chat.services.family_links_changed`, after commit)."""

    name = "people"
