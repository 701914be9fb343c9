"""Where uploads are stored: under a prefix per kind of file, with a generated name (only the checked extension is
kept), outside any public path. `upload_to(prefix)` is the `upload_to` of every FileField of the project; a stored
file is deleted only once the transaction that dropped its row has committed."""

import uuid
from pathlib import PurePath

from django.db import transaction
from django.utils.deconstruct import deconstructible


def generated_name(prefix: str, original_name: str) -> str:
    """Storage path under `prefix` with a random name; only the (checked) extension is kept."""
    extension = PurePath(original_name or "").suffix.lower()[:10]
    return f"{prefix}/{uuid.uuid4().hex}{extension}"


@deconstructible
class GeneratedName:
    """A FileField `upload_to` that stores under `prefix` with a generated name. A class rather than a closure,
    so that migrations can serialize it."""

    def __init__(self, prefix: str):
        self.prefix = prefix

    def __call__(self, instance, filename: str) -> str:
        return generated_name(self.prefix, filename)

    def __eq__(self, other) -> bool:
        return isinstance(other, GeneratedName) and other.prefix == self.prefix

    def __hash__(self) -> int:
        return hash(self.prefix)


def upload_to(prefix: str) -> GeneratedName:
    """The `upload_to` of a FileField: stored under `prefix/` with a generated name."""
    return GeneratedName(prefix)


def delete_file_on_commit(field_file) -> None:
    """Delete a stored file once the transaction that dropped its row has committed."""
    if not field_file:
        return
    storage, name = field_file.storage, field_file.name
    transaction.on_commit(lambda: storage.delete(name))
