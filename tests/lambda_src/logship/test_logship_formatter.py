"""JsonFormatter.format_attributes: the sender's one formatting pass writes what python-json-logger writes."""
from __future__ import annotations

import datetime
import enum
import json
import logging

import pytest

from logship._background import _copy_record, _rebuild_record
from logship.formatter import JsonFormatter


class Colour(enum.Enum):
    RED = 1


def _captured(**kwargs) -> dict:
    logger = logging.getLogger("test.formatter")
    record = logger.makeRecord(logger.name, logging.WARNING, __file__, 7, kwargs.pop("msg", "order %s – ✓ \udcff"),
                               kwargs.pop("args", ("o-1",)), kwargs.pop("exc_info", None),
                               extra=kwargs.pop("extra", None), sinfo=kwargs.pop("sinfo", None))
    record.created = kwargs.pop("created", record.created)
    for name in kwargs.pop("removed", ()):  # what a filter may take away
        delattr(record, name)
    for name, value in kwargs.pop("added", {}).items():  # what a filter may add, after the extra fields
        setattr(record, name, value)
    return _copy_record(record)


def _exc_info():
    try:
        raise ValueError("card declined")
    except ValueError:
        import sys
        return sys.exc_info()


@pytest.mark.parametrize("attributes", [
    _captured(),
    _captured(extra={"seq": 1, "customer": {"id": "c-42", "tags": ["a"]}, "when": datetime.datetime(2026, 1, 2),
                     "colour": Colour.RED, "raw": b"ab", "_private": 1}),
    _captured(extra={"level": "shadowed", "service": "shadowed", "logger": "shadowed", "exception": "x"}),
    _captured(extra={"host": "shadowed", "stack": "y"}, sinfo="Stack (most recent call last):\n  File x"),
    _captured(extra={"seq": 3}, added={"request_id": "r-1", "_hidden": 2}, removed=("module",)),
    _captured(exc_info=_exc_info(), extra={"seq": 2}),
    _captured(sinfo="Stack (most recent call last):\n  File x"),
    _captured(created=1_700_000_000.0),
    _captured(created=1_700_000_000.9999996),
], ids=["plain", "extras", "shadowing-extras", "shadowing-host-and-stack", "filtered", "exception", "stack",
        "whole-second", "rounding-up"])
def test_format_attributes_writes_what_python_json_logger_writes(attributes: dict) -> None:
    # GIVEN the default formatter and a record as the handler captured it
    formatter = JsonFormatter(service="orders", host="h1")
    # WHEN formatted by the fast pass and by python-json-logger's format
    fast = formatter.format_attributes(attributes)
    slow = formatter.format(_rebuild_record(dict(attributes)))
    # THEN the texts are the same
    assert fast == slow
    assert json.loads(fast)["service"] == "orders"
    # AND again for a second record of the same shape, and after the service is changed
    again = {**attributes, "msg": "second \u2713", "created": attributes["created"] + 1.5}
    assert formatter.format_attributes(again) == formatter.format(_rebuild_record(dict(again)))
    formatter.service = "payments"
    assert formatter.format_attributes(again) == formatter.format(_rebuild_record(dict(again)))
    assert json.loads(formatter.format_attributes(again))["service"] == "payments"


def test_a_formatter_with_options_or_a_dict_message_takes_the_full_path() -> None:
    # GIVEN a formatter with options, and a dict message
    custom = JsonFormatter(rename_fields={"levelname": "severity"})
    default = JsonFormatter()
    # WHEN asked for the fast pass THEN it declines, so the handler uses format()
    assert custom.format_attributes(_captured()) is None
    assert default.format_attributes(_captured(msg={"event": "paid"}, args=())) is None
