"""config.parsing: the bounded parsers every id, number and date from a client goes through.

"Before any conversion" is asserted by construction: the tests run with Python's limit on converting digit strings
to integers at its minimum (640 digits), so a parser that called `int()` on a long value would fail with Python's
own ValueError instead of the parser's `InvalidInput` and its message.
"""

import datetime as dt
import sys
import zoneinfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.parsing import (
    BIGINT_MAX,
    DATE_MAX,
    DATE_MESSAGE,
    DATE_MIN,
    DATETIME_MAX,
    DATETIME_MESSAGE,
    DATETIME_MIN,
    ID_MESSAGE,
    IdConverter,
    IdFormField,
    InvalidInput,
    add_weeks,
    parse_date,
    parse_datetime,
    parse_id,
    parse_int,
)

FULLWIDTH_2026 = "\uff12\uff10\uff12\uff16"  # "2026" in fullwidth digits, which int() and \d accept
HOSTILE = [
    "-1e600000",
    "1e1000000",
    "99999999999999999999",
    "9223372036854775808",  # BIGINT_MAX + 1
    "²",
    "١٢",
    " 1",
    "1 ",
    "+1",
    "-1",
    "1_000",
    "0x10",
    "1.0",
    "1e3",
    "",
    "0",
    "\x00",
    "1\n",
    "9999-12-31T23:59:59-12:00",
    "0001-01-01T00:00:00+14:00",
    None,
    True,
    1.0,
    0,
    -1,
    10**20,
]


@pytest.fixture(autouse=True)
def _int_conversion_limited_to_640_digits():
    previous = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(640)
    yield
    sys.set_int_max_str_digits(previous)


@pytest.mark.parametrize("raw", HOSTILE, ids=repr)
def test_parse_id_refuses_every_hostile_value_with_its_message(raw):
    with pytest.raises(InvalidInput) as error:
        parse_id(raw)
    assert str(error.value) == ID_MESSAGE


@pytest.mark.parametrize("digits", [20, 641, 10**6])
def test_a_million_digits_are_refused_by_length_without_converting(digits):
    for raw in ("9" * digits, "-" + "9" * digits, "1e" + "9" * digits):
        with pytest.raises(InvalidInput) as error:
            parse_id(raw)
        assert str(error.value) == ID_MESSAGE
        with pytest.raises(InvalidInput):
            parse_int(raw, min_value=0, max_value=100)
        with pytest.raises(InvalidInput) as error:
            parse_datetime(raw)
        assert str(error.value) == DATETIME_MESSAGE
        with pytest.raises(InvalidInput):
            parse_date(raw)


def test_the_form_field_and_the_path_converter_refuse_a_million_digits_the_same_way():
    from django import forms

    with pytest.raises(forms.ValidationError) as error:
        IdFormField().clean("9" * 10**6)
    assert error.value.messages == [ID_MESSAGE]
    with pytest.raises(ValueError, match="Expected an id"):
        IdConverter().to_python("9" * 10**6)


def test_ids_at_the_bounds():
    assert parse_id("1") == 1
    assert parse_id("0001") == 1
    assert parse_id(str(BIGINT_MAX)) == BIGINT_MAX
    assert parse_id(BIGINT_MAX) == BIGINT_MAX
    assert parse_id(12) == 12


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-11-30T12:00:00+03:00", dt.datetime(2026, 11, 30, 9, tzinfo=dt.UTC)),
        ("2026-11-30T12:00:00Z", dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)),
        ("2026-11-30T12:00:00", dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)),
        ("2026-11-30 12:00", dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)),
        ("2026-11-30T12:00:00.5-0130", dt.datetime(2026, 11, 30, 13, 30, 0, 500000, tzinfo=dt.UTC)),
        ("2026-11-30T12:00:00.123456789Z", dt.datetime(2026, 11, 30, 12, 0, 0, 123456, tzinfo=dt.UTC)),
        ("0002-01-01T00:00:00Z", DATETIME_MIN),
        ("9998-12-31T23:59:59.999999Z", DATETIME_MAX),
        ("9999-01-01T11:59:59.999999+12:00", DATETIME_MAX),
    ],
)
def test_datetimes_accepted(raw, expected):
    value = parse_datetime(raw)
    assert value == expected
    assert value.tzinfo is dt.UTC


@pytest.mark.parametrize(
    "raw",
    [
        "9999-12-31T23:59:59-12:00",  # past datetime.max in UTC
        "0001-01-01T00:00:00+14:00",  # before datetime.min in UTC
        "9999-01-01T00:00:00Z",
        "0001-12-31T23:59:59Z",
        "0000-01-01T00:00:00Z",
        "2026-02-30T12:00:00Z",
        "2026-11-30T24:00:00Z",
        "2026-11-30T12:00:00+24:00",
        "2026-11-30T12:00:00+05:60",
        FULLWIDTH_2026 + "-11-30T12:00:00Z",
        "2026-11-30",
        "2026-11-30T12",
        "2026-W48-1T12:00:00Z",
        "20261130T120000Z",
        " 2026-11-30T12:00:00Z",
        "2026-11-30T12:00:00Z\n",
        "2026-11-30T12:00:00\x00",
        "",
        12,
        None,
    ],
    ids=repr,
)
def test_datetimes_refused(raw):
    with pytest.raises(InvalidInput) as error:
        parse_datetime(raw)
    assert str(error.value) == DATETIME_MESSAGE


@pytest.mark.parametrize(
    "raw",
    [
        "9999-12-31",
        "0001-01-01",
        "2026-02-29",
        "2026-13-01",
        "2026-1-1",
        FULLWIDTH_2026 + "-11-30",
        "2026-11-30T00:00",
        "",
        None,
    ],
    ids=repr,
)
def test_dates_refused(raw):
    with pytest.raises(InvalidInput) as error:
        parse_date(raw)
    assert str(error.value) == DATE_MESSAGE


def test_dates_at_the_bounds():
    assert parse_date("0002-01-01") == DATE_MIN
    assert parse_date("9998-12-31") == DATE_MAX
    assert parse_date("2028-02-29") == dt.date(2028, 2, 29)


def test_add_weeks_reports_overflow_as_invalid_input():
    assert add_weeks(DATETIME_MAX, 52) == DATETIME_MAX + dt.timedelta(weeks=52)
    with pytest.raises(InvalidInput):
        add_weeks(dt.datetime(9999, 12, 1, tzinfo=dt.UTC), 52)


# --- Properties ---------------------------------------------------------------------------------------------------
@given(st.integers(min_value=1, max_value=BIGINT_MAX))
def test_every_id_round_trips(value):
    assert parse_id(str(value)) == value
    assert parse_id(value) == value


@given(st.text(max_size=40))
def test_any_text_is_an_id_only_when_it_is_ascii_digits_within_bounds(raw):
    try:
        value = parse_id(raw)
    except InvalidInput:
        plain = raw.isascii() and raw.isdigit() and len(raw) <= 19
        assert not plain or int(raw) == 0 or int(raw) > BIGINT_MAX
    else:
        assert raw.isascii() and raw.isdigit()
        assert 1 <= value <= BIGINT_MAX
        assert int(raw) == value


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=10**6), st.text(max_size=12))
def test_parse_int_stays_within_the_bounds_it_is_given(low, span, raw):
    high = low + span
    try:
        value = parse_int(raw, min_value=low, max_value=high)
    except InvalidInput:
        return
    assert low <= value <= high
    assert raw.isascii() and raw.isdigit()


utc_datetimes = st.datetimes(
    min_value=DATETIME_MIN.replace(tzinfo=None), max_value=DATETIME_MAX.replace(tzinfo=None)
).map(lambda value: value.replace(tzinfo=dt.UTC))
offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: dt.timezone(dt.timedelta(minutes=minutes))
)


@given(utc_datetimes, offsets)
def test_every_datetime_within_bounds_round_trips_in_any_offset(value, offset):
    try:
        written = value.astimezone(offset)
    except OverflowError:
        return  # not writable in that offset at all
    assert parse_datetime(written.isoformat()) == value


@given(st.text(max_size=45), st.sampled_from(sorted(zoneinfo.available_timezones())[:600:7]))
def test_any_accepted_datetime_survives_any_zone_and_a_year_of_weeks(raw, zone):
    try:
        value = parse_datetime(raw)
    except InvalidInput:
        return
    assert value.tzinfo is dt.UTC
    assert DATETIME_MIN <= value <= DATETIME_MAX
    # What the services do with an accepted value never overflows: any zone, and a series of 52 weeks.
    for week in (0, 51, 52):
        add_weeks(value, week).astimezone(zoneinfo.ZoneInfo(zone))
        add_weeks(value, -week).astimezone(zoneinfo.ZoneInfo(zone))


@given(
    st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31, 23, 59, 59)),
    st.integers(min_value=-23, max_value=23),
)
def test_any_written_datetime_is_accepted_or_refused_never_overflows(value, hours):
    raw = value.replace(tzinfo=dt.timezone(dt.timedelta(hours=hours))).isoformat()
    try:
        parsed = parse_datetime(raw)
    except InvalidInput:
        return
    assert DATETIME_MIN <= parsed <= DATETIME_MAX


@given(st.dates(min_value=DATE_MIN, max_value=DATE_MAX))
def test_every_date_within_bounds_round_trips(value):
    assert parse_date(value.isoformat()) == value


@given(st.text(max_size=12))
def test_any_text_is_a_date_only_within_bounds(raw):
    try:
        value = parse_date(raw)
    except InvalidInput:
        return
    assert DATE_MIN <= value <= DATE_MAX
    assert value.isoformat() == raw
