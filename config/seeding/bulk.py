"""Bulk writing for the seeder: batched inserts, ids chosen in advance, and historical timestamps."""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

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


def insert_rows(model: type[models.Model], field_names: list[str], rows: Iterable[tuple]) -> int:
    """Insert plain tuples (ids included) with `executemany`, for the largest tables: building and compiling
    a model instance per row costs ~10x more than the database's work. Values must already be what the column
    holds, except datetimes, adapted here as the ORM would. No signals, no defaults: give every column."""
    fields = [model._meta.get_field(name) for name in field_names]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    table = connection.ops.quote_name(model._meta.db_table)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608 - names from the model
    adapt = connection.ops.adapt_datetimefield_value
    datetimes = [index for index, field in enumerate(fields) if isinstance(field, models.DateTimeField)]
    count, batch = 0, []
    with connection.cursor() as cursor:
        for row in rows:
            if datetimes:
                row = list(row)
                for index in datetimes:
                    row[index] = adapt(row[index])
            batch.append(row)
            if len(batch) >= BATCH_SIZE:
                cursor.executemany(sql, batch)
                count, batch = count + len(batch), []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count
