"""COPY's text format (portal/copying.py), which the registry import sends its batches in."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from portal.copying import copy_text


@pytest.mark.parametrize(("value", "text"), [
    (None, "\\N"), (True, "t"), (False, "f"), (0, "0"), (35, "35"), (Decimal("1200.50"), "1200.50"),
    (date(2026, 12, 5), "2026-12-05"), (datetime(2026, 12, 5, 8, 30, tzinfo=UTC), "2026-12-05T08:30:00+00:00"),
    ("石家庄恒泰食品有限公司", "石家庄恒泰食品有限公司"), ("", ""),
    ("a\\b", "a\\\\b"), ("a\tb", "a\\tb"), ("a\nb", "a\\nb"), ("a\rb", "a\\rb"), ("\\N", "\\\\N"),
    ("路\t1号\r\n二楼\\B", "路\\t1号\\r\\n二楼\\\\B"),
])
def test_each_value_is_written_as_copy_reads_it_back(value, text):
    assert copy_text(value) == text
