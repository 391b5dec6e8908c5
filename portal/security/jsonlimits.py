"""JSON request bodies bounded in size and nesting depth before they are parsed.

Python's json module recurses once per nesting level, so 100,000 levels of `[` end in RecursionError
(a 500) unless refused first. The body is read at most API_JSON_MAX_BYTES + 1 bytes, and its depth
counted with a scan that skips strings, before json.loads sees it.
"""

import io
import re

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

TOKENS = re.compile(rb'["\\\[\]{}]')


def json_depth_exceeds(data: bytes, limit: int) -> bool:
    """Whether arrays and objects in `data` nest deeper than `limit` (brackets in strings do not count)."""
    depth = 0
    in_string = False
    escaped_at = -1
    for match in TOKENS.finditer(data):
        position = match.start()
        char = data[position:position + 1]
        if in_string:
            if position == escaped_at:
                continue
            if char == b"\\":
                escaped_at = position + 1
            elif char == b'"':
                in_string = False
        elif char == b'"':
            in_string = True
        elif char in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif char in (b"]", b"}"):
            depth -= 1
    return False


class LimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_JSON_MAX_BYTES
        data = stream.read(limit + 1) if stream is not None else b""
        if len(data) > limit:
            raise ParseError(_("The JSON body is larger than %(size)d KB.") % {"size": limit // 1024})
        if json_depth_exceeds(data, settings.API_JSON_MAX_DEPTH):
            raise ParseError(_("The JSON body nests deeper than %(depth)d levels.")
                             % {"depth": settings.API_JSON_MAX_DEPTH})
        try:
            return super().parse(io.BytesIO(data), media_type, parser_context)
        except RecursionError:
            raise ParseError(_("The JSON body nests too deeply.")) from None
