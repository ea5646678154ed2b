"""Index template requests as the OpenSearch API specification defines them, as checks on a recorded request.

From opensearch-project/opensearch-api-specification: ``spec/namespaces/indices.yaml`` (operations
``indices.get_index_template``: ``GET /_index_template/{name}``, and ``indices.put_index_template``:
``PUT|POST /_index_template/{name}`` with a JSON body, their query parameters) and
``spec/schemas/indices._common.yaml`` (``IndexTemplate``: ``index_patterns`` required, ``composed_of``,
``template`` with ``aliases``/``mappings``/``settings``, ``version``, ``priority``, ``_meta``,
``data_stream``). For an OpenSearch Serverless collection, index settings that the service manages
(shards, replicas, field limits) are refused, so a template for it must not carry them.
"""
from __future__ import annotations

import json
import re
from typing import Any

PATH = re.compile(r"^/_index_template/(?P<name>[^/,*]+)$")
GET_QUERY = {"flat_settings", "local", "cluster_manager_timeout", "master_timeout"}
PUT_QUERY = {"cause", "create", "cluster_manager_timeout", "master_timeout"}
TEMPLATE_BODY = {"index_patterns", "composed_of", "template", "version", "priority", "_meta", "data_stream"}
TEMPLATE_MAPPING = {"aliases", "mappings", "settings"}


def check_request(method: str, path: str, query: dict[str, list[str]], body: bytes, *,
                  serverless: bool = False) -> list[str]:
    """The ways an index template request departs from the specification (empty: none)."""
    problems: list[str] = []
    if not PATH.match(path):
        return [f"{path}: not an /_index_template/{{name}} path"]
    if method == "GET":
        problems += [f"GET {path}: unknown query parameter {q}" for q in sorted(set(query) - GET_QUERY)]
        if body:
            problems.append(f"GET {path}: a body is not part of indices.get_index_template")
        return problems
    if method not in ("PUT", "POST"):
        return [f"{method} {path}: indices.put_index_template takes PUT or POST"]
    problems += [f"{method} {path}: unknown query parameter {q}" for q in sorted(set(query) - PUT_QUERY)]
    try:
        document: Any = json.loads(body)
    except ValueError:
        return problems + [f"{method} {path}: the body is not JSON"]
    if not isinstance(document, dict):
        return problems + [f"{method} {path}: the body must be an object"]
    problems += [f"{method} {path}: unknown field {k}" for k in sorted(set(document) - TEMPLATE_BODY)]
    patterns = document.get("index_patterns")
    if not (isinstance(patterns, list) and patterns and all(isinstance(p, str) and p for p in patterns)):
        problems.append(f"{method} {path}: index_patterns must be a non-empty list of strings")
    if "priority" in document and not (isinstance(document["priority"], int) and document["priority"] >= 0):
        problems.append(f"{method} {path}: priority must be a non-negative integer")
    template = document.get("template", {})
    if not isinstance(template, dict):
        return problems + [f"{method} {path}: template must be an object"]
    problems += [f"{method} {path}: unknown field template.{k}" for k in sorted(set(template) - TEMPLATE_MAPPING)]
    if serverless and "settings" in template:
        problems.append(f"{method} {path}: OpenSearch Serverless manages shards, replicas and field limits; "
                        "template.settings is refused")
    return problems
