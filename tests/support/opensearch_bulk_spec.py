"""The ``_bulk`` request as the OpenSearch API specification defines it, as checks on a recorded request.

From opensearch-project/opensearch-api-specification: ``spec/namespaces/_core.yaml`` (operation
``bulk``: ``POST|PUT /_bulk`` and ``POST|PUT /{index}/_bulk``, an NDJSON body, its query parameters)
and ``spec/schemas/_core.bulk.yaml`` (``OperationContainer``: exactly one of ``index``, ``create``,
``update``, ``delete``; ``OperationBase``/``WriteOperation`` properties; ``ResponseItem``). Only what
a writer can get wrong is checked; every problem is reported, not just the first.
"""
from __future__ import annotations

import json
import re
from typing import Any

OPERATIONS = ("index", "create", "update", "delete")
OPERATION_BASE = {"_id", "_index", "routing", "if_primary_term", "if_seq_no", "version", "version_type"}
WRITE_OPERATION = OPERATION_BASE | {"dynamic_templates", "pipeline", "require_alias"}
UPDATE_OPERATION = OPERATION_BASE | {"require_alias", "retry_on_conflict"}
PROPERTIES = {"index": WRITE_OPERATION, "create": WRITE_OPERATION, "update": UPDATE_OPERATION,
              "delete": OPERATION_BASE}
QUERY_PARAMETERS = {"_source", "_source_excludes", "_source_includes", "pipeline", "refresh", "require_alias",
                    "routing", "timeout", "type", "wait_for_active_shards", "batch_size"}
PATH = re.compile(r"^/(?:(?P<index>[^/_][^/]*)/)?_bulk$")
CONTENT_TYPES = ("application/x-ndjson", "application/json")
RESPONSE_ITEM_REQUIRED = ("_index", "status")


def check_request(method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
                  body: bytes) -> list[str]:
    """The ways a ``_bulk`` request departs from the specification (empty: none)."""
    problems: list[str] = []
    if method not in ("POST", "PUT"):
        problems.append(f"method {method} (POST or PUT)")
    match = PATH.match(path)
    if not match:
        problems.append(f"path {path} (/_bulk or /{{index}}/_bulk)")
    for name in query:
        if name not in QUERY_PARAMETERS:
            problems.append(f"query parameter {name!r} is not a bulk parameter")
    content_type = headers.get("content-type", "").split(";")[0].strip()
    if content_type not in CONTENT_TYPES:
        problems.append(f"Content-Type {content_type!r} ({' or '.join(CONTENT_TYPES)})")
    if not body.endswith(b"\n"):
        problems.append("the body does not end with a newline")
    lines = body.split(b"\n")[:-1] if body.endswith(b"\n") else body.split(b"\n")
    position = 0
    while position < len(lines):
        number = position + 1
        try:
            action = json.loads(lines[position])
        except ValueError:
            problems.append(f"line {number}: the action line is not JSON")
            break
        if not isinstance(action, dict) or len(action) != 1 or next(iter(action)) not in OPERATIONS:
            problems.append(f"line {number}: an OperationContainer has exactly one of {', '.join(OPERATIONS)}")
            break
        operation, properties = next(iter(action.items()))
        if not isinstance(properties, dict):
            problems.append(f"line {number}: {operation} must be an object")
            break
        for name in properties:
            if name not in PROPERTIES[operation]:
                problems.append(f"line {number}: {operation} has no property {name!r}")
        if "_id" in properties and not isinstance(properties["_id"], str):
            problems.append(f"line {number}: _id must be a string")
        if "_index" not in properties and not (match and match.group("index")):
            problems.append(f"line {number}: no _index and no index in the path")
        position += 1
        if operation == "delete":
            continue
        if position >= len(lines):
            problems.append(f"line {number}: {operation} without a source line")
            break
        try:
            source = json.loads(lines[position])
        except ValueError:
            source = None  # a document that is not JSON is the item's mapper_parsing_exception, not the request's
        if source is not None and not isinstance(source, dict):
            problems.append(f"line {position + 1}: the source of {operation} must be a JSON object")
        position += 1
    return problems


def check_response_item(item: dict[str, Any]) -> list[str]:
    """A ``ResponseItem`` inside ``{"<operation>": ...}`` of a bulk answer's ``items``."""
    if len(item) != 1 or next(iter(item)) not in OPERATIONS:
        return [f"an item has exactly one of {', '.join(OPERATIONS)}"]
    inner = next(iter(item.values()))
    return [f"ResponseItem without {name}" for name in RESPONSE_ITEM_REQUIRED if name not in inner]
