"""Bulk writing for the seeder: batched inserts, ids chosen in advance, and historical timestamps."""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC

from django.core.management.color import no_style
from django.db import connection, models
from django.db.models import Max

BATCH_SIZE = 2_000


def insert(model: type[models.Model], rows: Iterable[models.Model]) -> list[models.Model]:
    """Insert in batches; the returned objects carry their primary keys (RETURNING on both databases)."""
    rows = list(rows)
    return model.objects.bulk_create(rows, batch_size=BATCH_SIZE)


def next_ids(model: type[models.Model], count: int) -> range:
    """`count` fresh primary keys above every existing one, for rows other rows must point at before they are
    inserted (foreign keys are deferred to commit on both databases). Call `sequences_reset` afterwards."""
    start = (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1
    return range(start, start + count)


def sequences_reset(*seeded: type[models.Model]) -> None:
    """Move PostgreSQL's id sequences past the ids chosen here (SQLite follows the largest rowid by itself)."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(seeded))
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


@contextmanager
def historical_timestamps(*seeded: type[models.Model]) -> Iterator[None]:
    """Let the seeder write past `created_at`/`updated_at` values: `auto_now(_add)` fields otherwise overwrite
    them with the current time on insert. Process-local and restored on exit; the seeder sets every such field."""
    switched = []
    for model in seeded:
        for field in model._meta.concrete_fields:
            if isinstance(field, models.DateField) and (field.auto_now or field.auto_now_add):
                switched.append((field, field.auto_now, field.auto_now_add))
                field.auto_now = field.auto_now_add = False
    try:
        yield
    finally:
        for field, auto_now, auto_now_add in switched:
            field.auto_now, field.auto_now_add = auto_now, auto_now_add


def insert_fast(model: type[models.Model], rows: Iterable[models.Model]) -> list[models.Model]:
    """`insert` for the largest tables: ids are chosen here (`next_ids`) and the rows go in with `executemany`,
    which skips the ORM's per-value compilation (about ten times the database's own work on these tables).
    No signals, and no `auto_now`: the seeder sets every timestamp itself."""
    rows = list(rows)
    missing = [row for row in rows if row.pk is None]
    for row, pk in zip(missing, next_ids(model, len(missing)), strict=True):
        row.pk = pk
    fields = model._meta.concrete_fields
    adapters = [_adapter(field) for field in fields]
    attnames = [field.attname for field in fields]
    insert_rows(
        model,
        [field.name for field in fields],
        (tuple(adapt(getattr(row, name)) for adapt, name in zip(adapters, attnames, strict=True)) for row in rows),
    )
    sequences_reset(model)
    return rows


def _adapter(field: models.Field):
    """How a Python value becomes a query parameter, without the ORM's generic (slow) path where it is simple."""
    if isinstance(field, models.DateTimeField):
        return datetime_param
    if isinstance(field, models.UUIDField):
        return (lambda value: value and value.hex) if connection.vendor != "postgresql" else _same
    if isinstance(field, models.DateField):
        return lambda value: value and value.isoformat()
    if isinstance(field, models.ForeignKey | models.BigAutoField | models.AutoField | models.CharField):
        return _same
    if isinstance(field, models.TextField | models.IntegerField | models.BooleanField):
        return _same
    return lambda value: field.get_db_prep_save(value, connection)


def _same(value):
    return value


def datetime_param(value):
    """An aware UTC datetime as the column takes it: itself on PostgreSQL, Django's naive UTC text on SQLite."""
    if value is None or connection.vendor == "postgresql":
        return value
    return str(value.astimezone(UTC).replace(tzinfo=None))


def insert_rows(model: type[models.Model], field_names: list[str], rows: Iterable[tuple]) -> int:
    """Insert plain tuples of query parameters (ids included): PostgreSQL's COPY, SQLite's `executemany`.
    No signals, no defaults: give every column."""
    fields = [model._meta.get_field(name) for name in field_names]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        placeholders = ", ".join(["%s"] * len(fields))
        # bandit B608 (below): table and column names come from the model's metadata, every value is a query parameter.
        sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608  # nosec B608
        batch = []
        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH_SIZE:
                cursor.executemany(sql, batch)
                count, batch = count + len(batch), []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count
