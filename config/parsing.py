"""Bounded parsing of the ids, numbers, datetimes and dates that clients send.

Every numeric or date input (filters, hand-read query parameters, path segments, body fields) goes through the
functions below, which look at the text first (its length and an ASCII pattern) and convert only what fits: a value
such as `-1e600000` or a million digits is refused before any conversion, so no input can make a process compute for
long, and every accepted value is one the databases and Python's `datetime` can hold, also after a time-zone shift
or a year of weekly repeats. Python's own `int()`, `Decimal` and `\\d` accept far more (Unicode digits such as `١٢`
or `²`, spaces, signs, underscores, exponents), and django-filter's `NumberFilter` turns `1e1000000` into an integer.

- ids: 1 to 19 ASCII digits, at most `BIGINT_MAX` (the largest primary key of PostgreSQL and SQLite);
- integers: ASCII digits within a caller's `[min_value, max_value]`;
- datetimes: ISO 8601 (`2026-11-30T12:00:00+03:00`, `…Z`; no offset means UTC), between `DATETIME_MIN` and
  `DATETIME_MAX` once in UTC, returned aware in UTC;
- dates: `YYYY-MM-DD` between `DATE_MIN` and `DATE_MAX`.

The adapters for each place: `IdFilter`, `DateTimeFilter`, `DateFilter` (django-filter), `IdField`,
`IdRelatedField`, `ScopedIdRelatedField`, `DateTimeField`, `DateField` (serializers), `query_id` (a hand-read query
parameter), the `id` path converter and `ID_PATH_REGEX` (routers' `lookup_value_regex`).
"""

import datetime as dt
import re

import django_filters
from django import forms
from django.db import models
from django.urls import register_converter
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError as DrfValidationError

from config.representation import DirectRepresentation

BIGINT_MAX = 2**63 - 1
ID_MAX_DIGITS = len(str(BIGINT_MAX))  # 19
# A path segment that may be an id; the converter and `id_from_path` refuse the 19-digit values above BIGINT_MAX.
ID_PATH_REGEX = rf"[0-9]{{1,{ID_MAX_DIGITS}}}"

# One year of margin at each end of what `datetime` holds: any UTC offset (under 24 h) and a 52-week series added to
# an accepted value stay representable.
DATETIME_MIN = dt.datetime(2, 1, 1, tzinfo=dt.UTC)
DATETIME_MAX = dt.datetime(9998, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC)
DATE_MIN = DATETIME_MIN.date()
DATE_MAX = DATETIME_MAX.date()

_DIGITS = re.compile(r"[0-9]+")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DATETIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]{1,6})[0-9]{0,3})?)?"
    r"(?:[Zz]|([+-])([0-9]{2})(?::?([0-9]{2}))?)?"
)
_DATETIME_MAX_LENGTH = 40  # "2026-11-30T12:00:00.123456789+03:00" is 35

ID_MESSAGE = f"Expected an id: a positive integer written with 1 to {ID_MAX_DIGITS} digits 0-9, at most {BIGINT_MAX}."
DATETIME_MESSAGE = (
    "Expected an ISO 8601 datetime such as 2026-11-30T12:00:00+03:00 (no offset means UTC), "
    f"between {DATETIME_MIN:%Y-%m-%d} and {DATETIME_MAX:%Y-%m-%d} in UTC."
)
DATE_MESSAGE = f"Expected a date YYYY-MM-DD between {DATE_MIN:%Y-%m-%d} and {DATE_MAX:%Y-%m-%d}."


class InvalidInput(ValueError):
    """The input is not a value of the expected kind within its bounds; the message says what is expected."""


def parse_int(raw: object, *, min_value: int, max_value: int, message: str | None = None) -> int:
    """An integer in `[min_value, max_value]` from ASCII digits (no sign, space, exponent or fraction), or a JSON
    integer. The text is measured before it is converted, so the cost is bounded by the digits of `max_value`."""
    message = message or f"Expected an integer written with digits 0-9, from {min_value} to {max_value}."
    if isinstance(raw, bool):
        raise InvalidInput(message)
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str):
        if not raw or len(raw) > len(str(max_value)) or not _DIGITS.fullmatch(raw):
            raise InvalidInput(message)
        value = int(raw)
    else:
        raise InvalidInput(message)
    if not min_value <= value <= max_value:
        raise InvalidInput(message)
    return value


def parse_id(raw: object) -> int:
    """A primary key: 1 to `BIGINT_MAX`, from ASCII digits or a JSON integer."""
    return parse_int(raw, min_value=1, max_value=BIGINT_MAX, message=ID_MESSAGE)


def parse_datetime(raw: object) -> dt.datetime:
    """An aware datetime in UTC from ISO 8601 text, within `[DATETIME_MIN, DATETIME_MAX]`.

    A value without an offset is read as UTC. Accepted: `YYYY-MM-DDTHH:MM[:SS[.ffffff]]` with `Z`, `±HH`, `±HHMM`
    or `±HH:MM`; `T` may be a space. An aware `datetime` passes through the same bounds.
    """
    if isinstance(raw, dt.datetime):
        value = raw if raw.tzinfo is not None and raw.utcoffset() is not None else raw.replace(tzinfo=dt.UTC)
    elif isinstance(raw, str) and len(raw) <= _DATETIME_MAX_LENGTH and (match := _DATETIME.fullmatch(raw)):
        year, month, day, hour, minute, second, fraction, sign, off_hours, off_minutes = match.groups()
        tz = dt.UTC
        if sign:
            offset = dt.timedelta(hours=int(off_hours), minutes=int(off_minutes or 0))
            if offset >= dt.timedelta(hours=24) or int(off_minutes or 0) >= 60:
                raise InvalidInput(DATETIME_MESSAGE)
            tz = dt.timezone(-offset if sign == "-" else offset)
        try:
            value = dt.datetime(
                int(year),
                int(month),
                int(day),
                int(hour),
                int(minute),
                int(second or 0),
                int((fraction or "0").ljust(6, "0")),
                tzinfo=tz,
            )
        except ValueError:  # month 13, February 30, hour 24, year 0 ...
            raise InvalidInput(DATETIME_MESSAGE) from None
    else:
        raise InvalidInput(DATETIME_MESSAGE)
    try:
        value = value.astimezone(dt.UTC)
    except OverflowError:  # 9999-12-31T23:00-12:00 or 0001-01-01T00:00+14:00: no such UTC datetime
        raise InvalidInput(DATETIME_MESSAGE) from None
    if not DATETIME_MIN <= value <= DATETIME_MAX:
        raise InvalidInput(DATETIME_MESSAGE)
    return value


def parse_date(raw: object) -> dt.date:
    """A date from `YYYY-MM-DD` (ASCII digits), within `[DATE_MIN, DATE_MAX]`."""
    if isinstance(raw, dt.date) and not isinstance(raw, dt.datetime):
        value = raw
    elif isinstance(raw, str) and len(raw) == 10 and (match := _DATE.fullmatch(raw)):
        try:
            value = dt.date(*(int(part) for part in match.groups()))
        except ValueError:
            raise InvalidInput(DATE_MESSAGE) from None
    else:
        raise InvalidInput(DATE_MESSAGE)
    if not DATE_MIN <= value <= DATE_MAX:
        raise InvalidInput(DATE_MESSAGE)
    return value


def add_weeks(value: dt.datetime, weeks: int) -> dt.datetime:
    """`value` plus `weeks` weeks, or InvalidInput when the result is outside what `datetime` holds."""
    try:
        return value + dt.timedelta(weeks=weeks)
    except OverflowError:
        raise InvalidInput(DATETIME_MESSAGE) from None


# --- Query parameters read by hand --------------------------------------------------------------------------------
def given_query(request) -> dict[str, str]:
    """The query parameters that carry a value (the last of each name): an empty parameter (`?before=`) is the same
    as an absent one everywhere in the API, as for the filters (docs/api.md)."""
    return {name: value for name, value in request.query_params.items() if value != ""}


def query_id(request, name: str, *, required: bool = False) -> int | None:
    """The id in query parameter `name`: None when absent or empty (unless `required`); 400 `invalid` naming the
    parameter when it is not an id."""
    raw = request.query_params.get(name)
    if raw in (None, ""):
        if required:
            raise DrfValidationError({name: ["This parameter is required."]})
        return None
    try:
        return parse_id(raw)
    except InvalidInput as error:
        raise DrfValidationError({name: [str(error)]}) from None


# --- Path segments ------------------------------------------------------------------------------------------------
class IdConverter:
    """`<id:pk>`: 1 to 19 digits 0-9 up to BIGINT_MAX; anything else does not match the route (a JSON 404)."""

    regex = ID_PATH_REGEX

    def to_python(self, value: str) -> int:
        return parse_id(value)  # InvalidInput is a ValueError: Django takes the path as not matching

    def to_url(self, value) -> str:
        return str(parse_id(value))


# Registered on import (every app's views and serializers import this module before any URL pattern is built):
# `<id:pk>` in URL patterns is a bounded id, never an unbounded `<int:...>`.
register_converter(IdConverter, "id")


def id_from_path(value) -> int | None:
    """A path id captured by a router's regex, or None when it is above BIGINT_MAX (the caller answers 404)."""
    try:
        return parse_id(value)
    except InvalidInput:
        return None


# --- django-filter ------------------------------------------------------------------------------------------------
class _BoundedFormField(forms.Field):
    parse = staticmethod(parse_id)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return type(self).parse(value)
        except InvalidInput as error:
            raise forms.ValidationError(str(error), code="invalid") from None


class IdFormField(_BoundedFormField):
    parse = staticmethod(parse_id)


class DateTimeFormField(_BoundedFormField):
    parse = staticmethod(parse_datetime)


class DateFormField(_BoundedFormField):
    parse = staticmethod(parse_date)


@extend_schema_field(OpenApiTypes.INT64)
class IdFilter(django_filters.Filter):
    """An id filter (`?student=12`); an empty value is no filter, anything but an id is 400 `invalid`."""

    field_class = IdFormField


@extend_schema_field(OpenApiTypes.DATETIME)
class DateTimeFilter(django_filters.Filter):
    field_class = DateTimeFormField


@extend_schema_field(OpenApiTypes.DATE)
class DateFilter(django_filters.Filter):
    field_class = DateFormField


class BooleanFormField(forms.Field):
    """`true` or `false` (any case); empty is no value; anything else is refused (django-filter's own boolean field
    reads an unknown value such as `null` or `yes` as "no filter" and answers the whole list)."""

    VALUES = {"true": True, "false": False}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        parsed = self.VALUES.get(str(value).lower())
        if parsed is None:
            raise forms.ValidationError("Expected true or false.", code="invalid")
        return parsed


@extend_schema_field(OpenApiTypes.BOOL)
class BooleanFilter(django_filters.BooleanFilter):
    """A boolean filter (`?is_active=true`); an empty value is no filter, anything but true/false is 400 `invalid`."""

    field_class = BooleanFormField


# --- Serializer fields --------------------------------------------------------------------------------------------
def _to_drf(parse, value):
    try:
        return parse(value)
    except InvalidInput as error:
        raise DrfValidationError(str(error), code="invalid") from None


class CharField(serializers.CharField):
    """Text: a JSON string only (DRF's own CharField also takes a number and stores its digits, so `{"title": 5}`
    passed where the schema says string)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ModelSerializer(DirectRepresentation, serializers.ModelSerializer):
    """DRF's ModelSerializer with the model's text columns read by the strict `CharField`, and its output read
    straight off the object (`config.representation`: the same answer for less work per field)."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: CharField,
        models.TextField: CharField,
    }


class IdField(serializers.IntegerField):
    """An id in a body or a query serializer: a JSON integer or a string of digits, 1 to BIGINT_MAX."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", BIGINT_MAX)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        return _to_drf(parse_id, data)  # min_value / max_value validators still run afterwards


class BoundedIntegerField(serializers.IntegerField):
    """An integer within `min_value`/`max_value` (both required), parsed like an id: digits only, measured first."""

    def __init__(self, *, min_value: int, max_value: int, **kwargs):
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)

    def to_internal_value(self, data):
        return _to_drf(lambda raw: parse_int(raw, min_value=self.min_value, max_value=self.max_value), data)


class IdRelatedField(serializers.PrimaryKeyRelatedField):
    """A PrimaryKeyRelatedField whose value is parsed as an id before the database is asked."""

    def to_internal_value(self, data):
        return super().to_internal_value(_to_drf(parse_id, data))


class ScopedIdRelatedField(IdRelatedField):
    """An `IdRelatedField` that finds the object only among those the caller may name: `scope(user)` narrows the
    `queryset` to them (the serializer's context carries the `request`). A foreign id is then answered exactly like
    a missing one (the message does not repeat the id), so a write cannot be used to probe which ids exist."""

    default_error_messages = {
        **IdRelatedField.default_error_messages,
        "does_not_exist": "Unknown, or not one you may name here.",
    }

    def __init__(self, *, scope, **kwargs):
        self.scope = scope
        super().__init__(**kwargs)

    def get_queryset(self):
        queryset = super().get_queryset()
        request = self.context.get("request")
        if request is None:
            raise RuntimeError(f"{type(self).__name__} needs the request in the serializer's context.")
        return queryset.filter(pk__in=self.scope(request.user).values("pk"))


class DateTimeField(serializers.DateTimeField):
    """An aware UTC datetime parsed by `parse_datetime` (bounded; no offset means UTC)."""

    def to_internal_value(self, value):
        return _to_drf(parse_datetime, value)


class DateField(serializers.DateField):
    """A date parsed by `parse_date` (`YYYY-MM-DD`, bounded)."""

    def to_internal_value(self, value):
        return _to_drf(parse_date, value)


class JsonBooleanField(serializers.BooleanField):
    """A JSON body's boolean: `true` or `false` only (DRF's BooleanField also takes 0, 1, "yes", "off", ...,
    which the schema, `type: boolean`, does not)."""

    def to_internal_value(self, data):
        if data is True or data is False:
            return data
        self.fail("invalid", input=data)
