"""Field paths of a JSON answer: `results[].teacher.name`, list items as `[]`."""

import json


def field_paths(value, prefix: str = "") -> set[str]:
    paths = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            path = f"{prefix}.{key}" if prefix else key
            paths.add(path)
            paths |= field_paths(inner, path)
    elif isinstance(value, list):
        for item in value:
            paths |= field_paths(item, prefix + "[]")
    return paths


def answer_paths(response) -> set[str]:
    if not response.get("content-type", "").startswith("application/json"):
        return set()
    return field_paths(json.loads(response.body))
