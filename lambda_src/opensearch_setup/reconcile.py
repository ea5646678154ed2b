"""Bring the domain to the desired state: read each part, write only what differs.

Order matters: the function's own role is mapped into ``all_access`` and ``security_manager`` first
(a new domain maps only its internal master user ``admin``, so nothing signed would pass before); the
index template and the ISM policy exist before the Firehose role is mapped, so the first index
Firehose creates already gets the mappings and the lifecycle policy.
"""
from __future__ import annotations

from typing import Any, Callable, Optional
from urllib.parse import quote

from . import documents, saved_objects
from .contract import SERVERLESS
from .props import DashboardsSettings, IndexTemplateSettings, IsmSettings, SecuritySettings, SetupSettings
from .signed_http import SetupError, SignedClient

SECURITY_API = "/_plugins/_security/api"
DASHBOARDS_API = "/_dashboards/api/saved_objects"

# (password, version id) of the admin secret; read only when the security part runs.
SecretReader = Callable[[str], tuple[str, str]]


def _name(value: str) -> str:
    return quote(value, safe="")


def _entry(answer: Any, name: str) -> Optional[dict[str, Any]]:
    return answer.get(name) if isinstance(answer, dict) else None


def _security_entry(client: SignedClient, kind: str, name: str) -> Optional[dict[str, Any]]:
    """``GET _plugins/_security/api/<kind>/<name>`` answers ``{name: {...}}``, or 404."""
    answer = client.get_json(f"{SECURITY_API}/{kind}/{_name(name)}")
    return None if answer is None else _entry(answer, name)


def _admin_mappings(client: SignedClient, allow: int) -> Optional[dict[str, Optional[dict[str, Any]]]]:
    """The mappings of all_access and security_manager, or None when the domain answers ``allow`` (401/403)."""
    mappings: dict[str, Optional[dict[str, Any]]] = {}
    for role in documents.ADMIN_ROLES:
        response = client.request("GET", f"{SECURITY_API}/rolesmapping/{role}", expect=(200,), allow=(allow, 404))
        if response.status == allow:
            return None
        mappings[role] = None if response.status == 404 else _entry(response.json(), role)
    return mappings


def ensure_admin_mappings(client: SignedClient, security: SecuritySettings, password: str) -> list[str]:
    """``all_access`` and ``security_manager`` map the function's role and the admin user, merged (nothing dropped).

    Read signed first: once the role is mapped (every run after the first), the signed answer decides and
    no password is sent. A new domain maps only its internal master user, so the signed read is refused
    (403); then these role-mapping requests alone go as that user (HTTP basic authentication over TLS,
    the password from the secret), and everything after them is signed again.
    """
    writer = client
    current = _admin_mappings(client, allow=403)
    if current is None:
        writer = client.with_basic_auth(security.admin_user, password)
        current = _admin_mappings(writer, allow=401)
        if current is None:
            raise SetupError(f"the domain refused the login of its master user {security.admin_user!r} (HTTP 401): "
                             f"its password differs from the secret {security.admin_secret_arn}; set one to the "
                             "other (docs/runbook.md, rotating the admin password)")
    changes: list[str] = []
    for role in documents.ADMIN_ROLES:
        desired = documents.merged_mapping(current[role], backend_roles=(security.master_role_arn,),
                                           users=(security.admin_user,))
        if not documents.mapping_matches(current[role], desired):
            writer.request("PUT", f"{SECURITY_API}/rolesmapping/{role}", desired)
            changes.append(f"role_mapping:{role}")
    return changes


def ensure_index_template(client: SignedClient, template: IndexTemplateSettings) -> list[str]:
    path = f"/_index_template/{_name(template.name)}"
    # OpenSearch Serverless manages shards, replicas and field limits itself and refuses those settings.
    desired = documents.index_template(template, settings=client.service != SERVERLESS)
    answer = client.get_json(path)
    existing = None
    for entry in (answer or {}).get("index_templates", []):
        if entry.get("name") == template.name:
            existing = entry.get("index_template")
    if documents.template_matches(existing, desired):
        return []
    client.request("PUT", path, desired)
    return [f"index_template:{template.name}"]


def ensure_ism_policy(client: SignedClient, ism: IsmSettings) -> list[str]:
    path = f"/_plugins/_ism/policies/{_name(ism.policy_id)}"
    desired = documents.ism_policy(ism)
    answer = client.get_json(path)
    if answer is not None and documents.policy_matches(answer.get("policy"), desired):
        return []
    # One path segment: each pattern URL-quoted (``*`` kept), joined by the ``,`` OpenSearch splits on.
    indices = ",".join(quote(pattern, safe="*") for pattern in ism.index_patterns)
    if answer is None:
        client.request("PUT", path, {"policy": desired})
        # ism_template covers indices created from now on; attach the policy to those that exist already
        # (indices that have a policy are reported as failures and left alone).
        follow_up = ("add", client.request("POST", f"/_plugins/_ism/add/{indices}", {"policy_id": ism.policy_id}))
    else:
        # Optimistic concurrency: the update applies only to the version we compared against.
        client.request("PUT", f"{path}?if_seq_no={int(answer['_seq_no'])}&if_primary_term={int(answer['_primary_term'])}",
                       {"policy": desired})
        # Managed indices keep the policy version they started with until told to change.
        follow_up = ("change_policy", client.request("POST", f"/_plugins/_ism/change_policy/{indices}",
                                                     {"policy_id": ism.policy_id}))
    operation, response = follow_up
    result = response.json()
    changes = [f"ism_policy:{ism.policy_id}"]
    if result.get("updated_indices"):
        changes.append(f"ism_{operation}:{result['updated_indices']}")
    return changes


def ensure_dashboards(client: SignedClient, dashboards: DashboardsSettings) -> list[str]:
    headers = {"osd-xsrf": "true", "securitytenant": dashboards.tenant}
    desired = saved_objects.saved_objects(dashboards)
    answer = client.request("POST", f"{DASHBOARDS_API}/_bulk_get",
                            [{"type": o["type"], "id": o["id"]} for o in desired], headers=headers).json()
    existing = {(o.get("type"), o.get("id")): o for o in answer.get("saved_objects", [])}
    stale = [o for o in desired if not saved_objects.object_matches(existing.get((o["type"], o["id"])), o)]
    if not stale:
        return []
    result = client.request("POST", f"{DASHBOARDS_API}/_bulk_create?overwrite=true", stale, headers=headers).json()
    failed = [f"{o.get('type')}/{o.get('id')}: {o['error'].get('message') or o['error']}"
              for o in result.get("saved_objects", []) if o.get("error")]
    if failed:
        raise SetupError("Dashboards refused saved objects: " + "; ".join(failed))
    return [f"saved_object:{o['type']}/{o['id']}" for o in stale]


def ensure_audit_logging(client: SignedClient) -> list[str]:
    """``PUT _plugins/_security/api/audit/config`` with audit logging on, when it is not on already."""
    answer = client.get_json(f"{SECURITY_API}/audit")
    if not isinstance(answer, dict):
        raise SetupError(f"GET {SECURITY_API}/audit: no audit configuration in the answer ({str(answer)[:200]})")
    current = answer.get("config")
    desired = documents.audit_config(current, tuple(answer.get("_readonly") or ()))
    if documents.audit_matches(current, desired):
        return []
    client.request("PUT", f"{SECURITY_API}/audit/config", desired)
    return ["audit_config"]


def read_password(security: SecuritySettings, read_secret: SecretReader) -> tuple[str, str]:
    """(password, version id) of the admin secret; a malformed secret fails without echoing it."""
    try:
        return read_secret(security.admin_secret_arn)
    except ValueError as error:
        raise SetupError(f"admin secret {security.admin_secret_arn}: {error}") from None


def ensure_security(client: SignedClient, security: SecuritySettings, secret: tuple[str, str]) -> list[str]:
    """The admin user's password, audit logging, the writer role and its mapping (all signed)."""
    changes: list[str] = []
    password, version = secret

    # 1. The master user 'admin': the domain creates it from the same secret (CloudFormation resolves the
    #    dynamic reference), but only when CloudFormation updates the domain. A rotated secret reaches the
    #    domain here instead: the user carries the version of the secret it was last set from, so a new
    #    version is written once (signed, the role is mapped by now) and an unchanged one sends nothing.
    #    Either way the domain's password ends up equal to the secret's, which is what people sign in to
    #    Dashboards with and what the role-mapping bootstrap of a new domain logs in with.
    user = _security_entry(client, "internalusers", security.admin_user)
    if not documents.user_is_current(user, version):
        client.request("PUT", f"{SECURITY_API}/internalusers/{_name(security.admin_user)}",
                       documents.internal_user(user, password, version))
        changes.append(f"internal_user:{security.admin_user}")

    # 2. Audit logging of the security plugin (the domain publishes what it writes).
    changes += ensure_audit_logging(client)

    # 3. The writer role, then (last) the Firehose role mapped to it.
    desired_role = documents.writer_role(security)
    if not documents.role_matches(_security_entry(client, "roles", security.writer_role_name), desired_role):
        client.request("PUT", f"{SECURITY_API}/roles/{_name(security.writer_role_name)}", desired_role)
        changes.append(f"role:{security.writer_role_name}")
    desired_mapping = documents.exact_mapping(security.writer_backend_roles)
    current = _security_entry(client, "rolesmapping", security.writer_role_name)
    if not documents.mapping_matches(current, desired_mapping):
        client.request("PUT", f"{SECURITY_API}/rolesmapping/{_name(security.writer_role_name)}", desired_mapping)
        changes.append(f"role_mapping:{security.writer_role_name}")
    return changes


def apply(client: SignedClient, settings: SetupSettings, read_secret: SecretReader) -> list[str]:
    """Every configured part, in dependency order; the names of the parts that were written."""
    changes: list[str] = []
    security = settings.security
    secret = read_password(security, read_secret) if security is not None else None
    if security is not None and secret is not None:
        changes += ensure_admin_mappings(client, security, secret[0])
    if settings.index_template is not None:
        changes += ensure_index_template(client, settings.index_template)
    if settings.ism is not None:
        changes += ensure_ism_policy(client, settings.ism)
    if settings.dashboards is not None:
        changes += ensure_dashboards(client, settings.dashboards)
    if security is not None and secret is not None:
        changes += ensure_security(client, security, secret)
    return changes
