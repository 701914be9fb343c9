"""Reading a serializer's fields straight off the object, for the lists that show many rows.

DRF's `Serializer.to_representation` costs, for every field of every row: a generator step, `Field.get_attribute`,
`fields.get_attribute` (with an abstract-class `isinstance(…, Mapping)` check), a callable check on the value, and a
`PKOnlyObject` check. A rooms page visits about 500 fields, so that machinery is a tenth of the request.
`DirectRepresentation` reads the same fields with one `getattr` each and hands the value to the same
`field.to_representation`: the answer is the same dict, key for key (tests/config/test_representation.py compares
it with DRF's own on real rows).

What takes the direct way: a field whose source is one attribute (or `*`, as a `SerializerMethodField`'s), that is
not a related field (those resolve a `PKOnlyObject`) and whose attribute is not a method on the class (DRF calls
those). Every other field goes through DRF's own `get_attribute`, unchanged. Meant for output; input still goes
through DRF's validation.
"""

import inspect

from django.core.exceptions import ObjectDoesNotExist
from rest_framework.fields import SkipField
from rest_framework.relations import ManyRelatedField, PKOnlyObject, RelatedField


class DirectRepresentation:
    """Mix into a Serializer (before it) whose instances are model objects: same output, less work per field."""

    def to_representation(self, instance):
        plans = self.__dict__.setdefault("_direct_plans", {})  # per serializer instance (its fields are its own)
        plan = plans.get(type(instance))
        if plan is None:
            plan = plans[type(instance)] = _plan(self, type(instance))
        ret = {}
        for name, attr, field in plan:
            if attr is None:  # DRF's own way
                try:
                    value = field.get_attribute(instance)
                except SkipField:
                    continue
                if (value.pk if isinstance(value, PKOnlyObject) else value) is None:
                    ret[name] = None
                    continue
            elif attr == "*":
                value = instance
            else:
                try:
                    value = getattr(instance, attr)
                except ObjectDoesNotExist:  # a missing reverse one-to-one reads as null, as in DRF
                    value = None
                except AttributeError:  # not on this object (a dict, a row without an annotation): DRF decides
                    try:
                        value = field.get_attribute(instance)
                    except SkipField:
                        continue
                if value is None:
                    ret[name] = None
                    continue
            ret[name] = field.to_representation(value)
        return ret


def _plan(serializer, model: type) -> list[tuple[str, str | None, object]]:
    plan = []
    for field in serializer._readable_fields:
        attrs = field.source_attrs
        direct = (
            len(attrs) <= 1
            and not isinstance(field, RelatedField | ManyRelatedField)
            and not (attrs and inspect.isroutine(getattr(model, attrs[0], None)))
        )
        attr = (attrs[0] if attrs else "*") if direct else None
        plan.append((field.field_name, attr, field))
    return plan
