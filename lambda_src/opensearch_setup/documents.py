"""The desired documents (pure) and the comparison of what the domain returns with them.

OpenSearch answers a GET with more than was PUT (``reserved``/``static`` flags, timestamps,
``composed_of: []``, settings flattened to strings), so each comparison looks only at what this
set-up owns, in a canonical form.

The index template maps the shipper's structured fields, ``json``, with ``dynamic: false`` and no
sub-fields: OpenSearch keeps them in ``_source`` (shown in Discover, returned by searches) but
indexes none of them, so no application can fix a field's type, add fields towards the index's
field limit, or have a string detected as a date for the other applications sharing the daily index;
documents stay searchable through ``message``, ``level`` and the metadata fields. ``flat_object``
(OpenSearch 2.7+) would keep ``json.*`` searchable as keywords, but it indexes every value as a
term, so one long value (Lucene refuses terms over 32,766 bytes) or its own parsing rules could
still refuse a document; ``dynamic: false`` refuses nothing, and common fields can be mapped under
``json`` later without re-indexing. Date detection is off for the whole mapping. The keys the
document parser itself refuses (empty, dotted at either end, ``..``, nested deeper than 20) are
cleaned by the shipper before a document is sent.
"""
from __future__ import annotations

import json
from typing import Any, Mapping, Optional

from .contract import BULK_WRITER_ROLE_NAME
from .props import IndexTemplateSettings, IsmSettings, SecuritySettings

# --- security --------------------------------------------------------------------------------
# Firehose calls _bulk (cluster_composite_ops), reads _cluster/stats and _nodes (cluster_monitor),
# creates the rotated indices (create_index), reads their settings, mappings and stats (manage).
WRITER_CLUSTER_PERMISSIONS = ("cluster_composite_ops", "cluster_monitor")
WRITER_INDEX_ACTIONS = ("crud", "create_index", "manage")
# Bulk mode: the shipper only sends _bulk "create" actions into indices it may create and map. No
# delete, update, manage or cluster monitoring. (The security plugin authorizes "create" and "index"
# as one action, indices:data/write/index: telling them apart is the shipper's create-only writer's
# part, and the 409 alarm's.)
BULK_WRITER_CLUSTER_PERMISSIONS = ("indices:data/write/bulk",)
BULK_WRITER_INDEX_ACTIONS = ("indices:data/write/bulk*", "indices:data/write/index", "indices:admin/create",
                             "indices:admin/mapping/put")
ADMIN_ROLES = ("all_access", "security_manager")
SECRET_VERSION_ATTRIBUTE = "log_constructs_secret_version"


def writer_role(security: SecuritySettings) -> dict[str, Any]:
    """The writer's role: Firehose's, or (``BULK_WRITER_ROLE_NAME``) the bulk shipper's create-only one."""
    bulk = security.writer_role_name == BULK_WRITER_ROLE_NAME
    return {
        "cluster_permissions": list(BULK_WRITER_CLUSTER_PERMISSIONS if bulk else WRITER_CLUSTER_PERMISSIONS),
        "index_permissions": [
            {"index_patterns": list(security.index_patterns),
             "allowed_actions": list(BULK_WRITER_INDEX_ACTIONS if bulk else WRITER_INDEX_ACTIONS)}
        ],
    }


def _role_canonical(role: Mapping[str, Any]) -> dict[str, Any]:
    def index_permission(p: Mapping[str, Any]) -> tuple:
        return (
            tuple(sorted(p.get("index_patterns") or ())),
            tuple(sorted(p.get("allowed_actions") or ())),
            p.get("dls") or "",
            tuple(sorted(p.get("fls") or ())),
            tuple(sorted(p.get("masked_fields") or ())),
        )

    return {
        "cluster": sorted(role.get("cluster_permissions") or ()),
        "index": sorted(index_permission(p) for p in role.get("index_permissions") or ()),
        "tenant": sorted(
            (tuple(sorted(t.get("tenant_patterns") or ())), tuple(sorted(t.get("allowed_actions") or ())))
            for t in role.get("tenant_permissions") or ()
        ),
    }


def role_matches(existing: Optional[Mapping[str, Any]], desired: Mapping[str, Any]) -> bool:
    return existing is not None and _role_canonical(existing) == _role_canonical(desired)


def exact_mapping(backend_roles: tuple[str, ...]) -> dict[str, Any]:
    """A mapping this set-up owns completely: exactly these backend roles."""
    return {"backend_roles": sorted(backend_roles), "hosts": [], "users": []}


def merged_mapping(existing: Optional[Mapping[str, Any]], *, backend_roles: tuple[str, ...] = (),
                   users: tuple[str, ...] = ()) -> dict[str, Any]:
    """``existing`` with ``backend_roles`` and ``users`` added; nothing already there is dropped."""
    existing = existing or {}
    mapping = {
        "backend_roles": sorted(set(existing.get("backend_roles") or ()) | set(backend_roles)),
        "hosts": sorted(existing.get("hosts") or ()),
        "users": sorted(set(existing.get("users") or ()) | set(users)),
    }
    if existing.get("and_backend_roles"):
        mapping["and_backend_roles"] = sorted(existing["and_backend_roles"])
    if existing.get("description"):
        mapping["description"] = existing["description"]
    return mapping


def mapping_matches(existing: Optional[Mapping[str, Any]], desired: Mapping[str, Any]) -> bool:
    if existing is None:
        return False
    return all(sorted(existing.get(key) or ()) == sorted(desired.get(key) or ())
               for key in ("backend_roles", "hosts", "users", "and_backend_roles"))


def internal_user(existing: Optional[Mapping[str, Any]], password: str, secret_version: str) -> dict[str, Any]:
    """The user's body: the password, the secret's version as an attribute, the rest kept as it is."""
    existing = existing or {}
    attributes = {**(existing.get("attributes") or {}), SECRET_VERSION_ATTRIBUTE: secret_version}
    body: dict[str, Any] = {
        "password": password,
        "backend_roles": sorted(existing.get("backend_roles") or ()),
        "attributes": attributes,
    }
    if existing.get("opendistro_security_roles"):
        body["opendistro_security_roles"] = sorted(existing["opendistro_security_roles"])
    return body


def user_is_current(existing: Optional[Mapping[str, Any]], secret_version: str) -> bool:
    """The user exists and was last set from this version of the secret (hashes are never returned)."""
    return existing is not None and (existing.get("attributes") or {}).get(SECRET_VERSION_ATTRIBUTE) == secret_version


def password_from_secret(secret_string: str) -> str:
    """The password of a JSON secret (``{"username": ..., "password": ...}``) or of a plain one."""
    try:
        parsed = json.loads(secret_string)
    except ValueError:
        parsed = None
    # Only a JSON object is structured; anything else (even "12345678") is the password itself.
    value = parsed.get("password") if isinstance(parsed, Mapping) else secret_string
    if not isinstance(value, str) or not value:
        # Never echo the secret: say only what shape was expected.
        raise ValueError("the admin secret holds neither a JSON object with a non-empty 'password' "
                         "nor a plain non-empty string")
    return value


# --- audit logging ---------------------------------------------------------------------------
# The domain publishes audit logs to CloudWatch, but the security plugin writes none until its audit
# configuration is enabled. Request bodies stay out: a PUT of an internal user carries its password.
AUDIT_SETTINGS = {("enabled",): True, ("audit", "enable_rest"): True, ("audit", "enable_transport"): True,
                  ("audit", "log_request_body"): False}


def audit_config(existing: Optional[Mapping[str, Any]], readonly: tuple[str, ...] = ()) -> dict[str, Any]:
    """``existing`` (the ``config`` of ``GET _plugins/_security/api/audit``) with audit logging on.

    Paths the domain reports as read-only (``/audit/exclude_sensitive_headers``) are left as they are.
    """
    config = json.loads(json.dumps(existing or {}))
    for path, value in AUDIT_SETTINGS.items():
        if "/" + "/".join(path) in readonly:
            continue
        node = config
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
    return config


def audit_matches(existing: Optional[Mapping[str, Any]], desired: Mapping[str, Any]) -> bool:
    return existing is not None and _leaves_as_text(existing) == _leaves_as_text(desired)


# --- index template --------------------------------------------------------------------------
KEYWORD_FIELDS = ("level", "log_group", "log_stream", "account", "app_name", "id")


def index_template(template: IndexTemplateSettings, *, settings: bool = True) -> dict[str, Any]:
    """The composable index template; without ``settings`` (OpenSearch Serverless) it carries mappings only."""
    properties: dict[str, Any] = {"@timestamp": {"type": "date"}}
    properties.update({name: {"type": "keyword"} for name in KEYWORD_FIELDS})
    properties["message"] = {
        "type": "text",
        "fields": {"keyword": {"type": "keyword", "ignore_above": template.message_ignore_above}},
    }
    # Set by logship when a record was cut to fit Firehose's 1,000 KiB limit.
    properties["truncated"] = {"type": "boolean"}
    properties["original_bytes"] = {"type": "long"}
    # A message's JSON fields: kept in _source, never indexed (no type conflicts, no field growth).
    properties["json"] = {"type": "object", "dynamic": False}
    # The shipper's JSON text of the keys past its per-document cap.
    properties["json_overflow"] = {"type": "text"}
    return {
        "index_patterns": list(template.index_patterns),
        "priority": template.priority,
        "template": {
            **({"settings": {
                "index": {
                    "number_of_shards": template.shards,
                    "number_of_replicas": template.replicas,
                    "mapping": {"total_fields": {"limit": template.field_limit}},
                }
            }} if settings else {}),
            "mappings": {
                "date_detection": False,
                "dynamic_templates": [
                    {
                        "strings_as_keyword": {
                            "match_mapping_type": "string",
                            "mapping": {"type": "keyword", "ignore_above": 1024},
                        }
                    }
                ],
                "properties": properties,
            },
        },
        "_meta": {"managed_by": "log_constructs"},
    }


def _flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """Nested or dotted settings → ``{"index.number_of_shards": "1"}`` (OpenSearch returns strings)."""
    flat: dict[str, str] = {}
    if isinstance(value, Mapping):
        for key, inner in value.items():
            flat.update(_flatten(inner, f"{prefix}{key}."))
    else:
        flat[prefix[:-1]] = _scalar(value)
    return flat


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _leaves_as_text(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _leaves_as_text(inner) for key, inner in value.items()}
    if isinstance(value, (list, tuple)):
        return [_leaves_as_text(inner) for inner in value]
    return None if value is None else _scalar(value)


def _template_canonical(body: Mapping[str, Any]) -> dict[str, Any]:
    settings = _flatten((body.get("template") or {}).get("settings") or {})
    settings = {key if key.startswith("index.") else f"index.{key}": value for key, value in settings.items()}
    return {
        "index_patterns": sorted(body.get("index_patterns") or ()),
        "priority": _scalar(body.get("priority", 0)),
        "settings": settings,
        "mappings": _leaves_as_text((body.get("template") or {}).get("mappings") or {}),
        "composed_of": sorted(body.get("composed_of") or ()),
        "_meta": _leaves_as_text(body.get("_meta") or {}),
    }


def template_matches(existing: Optional[Mapping[str, Any]], desired: Mapping[str, Any]) -> bool:
    return existing is not None and _template_canonical(existing) == _template_canonical(desired)


# --- ISM policy ------------------------------------------------------------------------------
DEFAULT_RETRY = {"count": 3, "backoff": "exponential", "delay": "1m"}
MIGRATION_RETRY = {"count": 5, "backoff": "exponential", "delay": "1h"}


def ism_policy(ism: IsmSettings) -> dict[str, Any]:
    """hot → (warm) → (cold) → delete, by index age; ``ism_template`` attaches it to new indices."""
    stages = [("hot", 0)]
    if ism.warm_after_days is not None:
        stages.append(("warm", ism.warm_after_days))
    if ism.cold_after_days is not None:
        stages.append(("cold", ism.cold_after_days))
    stages.append(("delete", ism.delete_after_days))
    actions = {
        "hot": [],
        "warm": [{"retry": MIGRATION_RETRY, "warm_migration": {}}],
        "cold": [{"retry": MIGRATION_RETRY, "cold_migration": {
            "start_time": None, "end_time": None, "timestamp_field": "@timestamp", "ignore": "none"}}],
        # An index in cold storage is deleted with cold_delete; anywhere else with delete.
        "delete": [{"retry": DEFAULT_RETRY, "cold_delete" if ism.cold_after_days is not None else "delete": {}}],
    }
    states = []
    for position, (name, _) in enumerate(stages):
        following = stages[position + 1] if position + 1 < len(stages) else None
        transitions = (
            [{"state_name": following[0], "conditions": {"min_index_age": f"{following[1]}d"}}] if following else []
        )
        states.append({"name": name, "actions": actions[name], "transitions": transitions})
    days = ", ".join(f"{name} after {age} days" for name, age in stages[1:])
    return {
        "description": f"log_constructs: {days}",
        "default_state": "hot",
        "states": states,
        "ism_template": [{"index_patterns": list(ism.index_patterns), "priority": ism.priority}],
    }


def _policy_canonical(policy: Mapping[str, Any]) -> Any:
    def state(s: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "name": s.get("name"),
            "actions": [{k: v for k, v in a.items() if k != "retry"} | {"retry": a.get("retry", DEFAULT_RETRY)}
                        for a in s.get("actions") or ()],
            "transitions": s.get("transitions") or [],
        }

    return _leaves_as_text({
        "description": policy.get("description") or "",
        "default_state": policy.get("default_state"),
        "states": [state(s) for s in policy.get("states") or ()],
        "ism_template": sorted(
            ({"index_patterns": sorted(t.get("index_patterns") or ()), "priority": t.get("priority", 0)}
             for t in policy.get("ism_template") or ()),
            key=lambda t: json.dumps(t, sort_keys=True),
        ),
    })


def policy_matches(existing: Optional[Mapping[str, Any]], desired: Mapping[str, Any]) -> bool:
    return existing is not None and _policy_canonical(existing) == _policy_canonical(desired)
