"""The one way services change a model's fields: an explicit list of what the caller may change."""

from collections.abc import Collection, Mapping
from typing import Any

from django.db import models


def model_update(
    instance: models.Model,
    data: Mapping[str, Any],
    *,
    fields: Collection[str],
    clean: bool = False,
    save: bool = True,
) -> list[str]:
    """Set the `fields` present in `data` on `instance` and save only those that changed.

    A key of `data` outside `fields` is a programming error (TypeError): what a request may change is decided by the
    serializer that built `data`, and this list is the service's own statement of it. A foreign key may be given as
    an instance or as a primary key; it is compared by its id, so no related row is read. With `clean`, the instance
    is validated (`full_clean`) before saving. Fields with `auto_now` are saved along with any change. Returns the
    names of the changed fields (empty: nothing was written)."""
    unknown = set(data) - set(fields)
    if unknown:
        raise TypeError(f"{type(instance).__name__} fields not updatable here: {', '.join(sorted(unknown))}")
    changed: list[str] = []
    for name in fields:
        if name not in data:
            continue
        value = data[name]
        field = instance._meta.get_field(name)
        if field.many_to_one or field.one_to_one:
            new_id = value.pk if isinstance(value, models.Model) else value
            if getattr(instance, field.attname) == new_id:
                continue
        elif getattr(instance, name) == value:
            continue
        setattr(instance, name, value)
        changed.append(name)
    if clean:
        instance.full_clean()
    if save and changed:
        auto = [f.name for f in instance._meta.concrete_fields if getattr(f, "auto_now", False)]
        instance.save(update_fields=[*changed, *(name for name in auto if name not in changed)])
    return changed
