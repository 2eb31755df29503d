"""format_sse renders server-sent events exactly as browsers parse them."""

from __future__ import annotations

import pytest

from handoff_server.event_log import format_sse


def test_plain_data():
    assert format_sse("hello") == "data: hello\n\n"


def test_id_and_event_come_before_data():
    assert format_sse("hi", event="message", id=7) == "id: 7\nevent: message\ndata: hi\n\n"


def test_non_string_data_is_compact_json():
    assert format_sse({"seq": 3, "text": "ok"}) == 'data: {"seq":3,"text":"ok"}\n\n'


def test_each_line_of_multiline_data_gets_its_own_data_field():
    assert format_sse("one\ntwo\r\nthree\rfour") == (
        "data: one\ndata: two\ndata: three\ndata: four\n\n"
    )


def test_json_of_text_with_line_breaks_stays_on_one_line():
    assert format_sse({"text": "a\nb"}) == 'data: {"text":"a\\nb"}\n\n'


def test_unicode_line_separators_are_not_line_breaks_in_sse():
    assert format_sse("a\u2028b\x0cc") == "data: a\u2028b\x0cc\n\n"


def test_empty_data_is_still_an_event():
    assert format_sse("") == "data: \n\n"


@pytest.mark.parametrize(("field", "value"), [("event", "a\nb"), ("id", "1\r2")])
def test_line_breaks_in_id_or_event_are_refused(field, value):
    with pytest.raises(ValueError, match=field):
        format_sse("x", **{field: value})
