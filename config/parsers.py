"""Request parsers with bounds: JSON nested deeper than MAX_JSON_DEPTH is a 400, never a RecursionError 500."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

# Deep enough for any payload of this API (a profile inside a user is depth 2), shallow enough that no
# later recursive walk over request data (validation, logging) can blow the stack.
MAX_JSON_DEPTH = 32


def json_depth(value) -> int:
    """Depth of nested lists and objects, computed without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_JSON_DEPTH:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.") from exc
        if json_depth(data) > MAX_JSON_DEPTH:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")
        return data
