"""Small real files behind the demo's file fields, so that every seeded download works. Their number is
bounded per scale (`Scale.files`); most rows have no file, as in real use."""

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from files.storage import generated_name


class FileBudget:
    def __init__(self, total: int):
        self.left = total

    def take(self, share_of_rows: float, rng) -> bool:
        """Whether this row gets a file: with probability `share_of_rows` while the budget lasts."""
        if self.left <= 0 or rng.random() >= share_of_rows:
            return False
        self.left -= 1
        return True


def demo_file(prefix: str, name: str, text: str) -> tuple[str, int]:
    """Store a text file under a generated name like an upload; returns (stored name, size in bytes)."""
    content = text.encode()
    stored = default_storage.save(generated_name(prefix, name), ContentFile(content))
    return stored, len(content)
