"""A small stateful stand-in for an OpenSearch domain on 127.0.0.1 that records every request.

It keeps state for the endpoints the set-up custom resource calls — the security API (roles,
role mappings, internal users), composable index templates, ISM policies and the Dashboards
saved-objects API — and answers the way OpenSearch does (extra flags on GET, settings returned
as strings, ``_seq_no``/``_primary_term`` on ISM policies, ``osd-xsrf`` required by Dashboards).

Every request's SigV4 signature is verified independently of botocore (HMAC over the canonical
request, with the secret key the stub was given); an unsigned or wrongly signed request gets 403.

With ``admin_password`` the stub is a new domain whose master user is the internal user ``admin``
(fine-grained access control with the internal user database): ``all_access`` and
``security_manager`` map only ``admin``; a signed request counts as the IAM role ``key_roles`` names
for its access key, and security, index-template, ISM and Dashboards calls of a role (or user) that
is not mapped get 403. HTTP basic authentication is accepted for the internal users the stub knows,
and only where the domain access policy lets unsigned requests through (``_dashboards*`` and
``_plugins/_security/api/rolesmapping*``: 403 elsewhere); a wrong password gets 401.
``fail_next`` injects 5xx/429 answers or dropped connections for the next requests, ``hang_next``
connections that never answer.

``_bulk`` keeps documents per index and ``_id`` (``create`` answers 409 for an id it has, ``index``
replaces, no ``_id`` assigns one); every ``_bulk`` request is checked against the OpenSearch API
specification (:mod:`tests.support.opensearch_bulk_spec`: problems answer 400 and are kept in
``spec_violations``). Per document, ``fail_documents`` answers item statuses (429, 503, ...) for the
next attempts of given ids and ``refuse_documents`` refuses given ids for their content (400
``mapper_parsing_exception``); a source line that is not JSON is refused the same way.
"""
from __future__ import annotations

import base64
import binascii
import copy
import fnmatch
import hashlib
import hmac
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional
from urllib.parse import parse_qs, quote, unquote, urlsplit

from tests.support.opensearch_bulk_spec import check_request

AUTH_PATTERN = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request, "
    r"SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<signature>[0-9a-f]{64})$"
)
CHANGING_METHODS = {"PUT", "POST", "DELETE", "PATCH"}
# Where the domain access policy (log_constructs.pipeline.domain.BASIC_AUTH_PATHS) lets unsigned requests in.
BASIC_AUTH_PREFIXES = ("/_dashboards", "/_plugins/_security/api/rolesmapping")
ADMIN_ROLES = ("all_access", "security_manager")


@dataclass
class Recorded:
    method: str
    path: str  # with the query string, as sent
    headers: dict[str, str]  # lower-case names
    body: bytes
    status: int = 0
    signature_ok: bool = False
    signature_scope: Optional[dict[str, str]] = None
    principal: str = ""  # who fine-grained access control saw: "user:<name>", "role:<arn>" or "" (unknown)

    @property
    def basic_auth(self) -> bool:
        return self.headers.get("authorization", "").startswith("Basic ")

    @property
    def route(self) -> str:
        return urlsplit(self.path).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.path).query)

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def changing(self) -> bool:
        """A request that writes (read-only POSTs such as ``_bulk_get`` do not count)."""
        return self.method in CHANGING_METHODS and not self.route.endswith("/_bulk_get")


HANG = -1


@dataclass
class Fault:
    status: int  # 0: drop the connection without answering; HANG: hold it open for hang_s, then drop
    times: int
    path_prefix: str = ""
    hang_s: float = 0.0


def _sign(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def verify_sigv4(request: Recorded, secret_keys: dict[str, str]) -> tuple[bool, Optional[dict[str, str]]]:
    """(valid, credential scope) of the request's ``Authorization`` header, per the SigV4 spec."""
    match = AUTH_PATTERN.match(request.headers.get("authorization", ""))
    amz_date = request.headers.get("x-amz-date", "")
    if not match or not amz_date:
        return False, None
    scope = match.groupdict()
    secret = secret_keys.get(scope["key"])
    if secret is None or not amz_date.startswith(scope["date"]):
        return False, scope
    parts = urlsplit(request.path)
    query = "&".join(sorted(pair if "=" in pair else f"{pair}=" for pair in parts.query.split("&") if pair))
    signed = scope["signed"].split(";")
    if "host" not in signed or any(name not in request.headers for name in signed):
        return False, scope
    canonical_headers = "".join(f"{name}:{' '.join(request.headers[name].split())}\n" for name in signed)
    canonical = "\n".join([
        request.method, quote(parts.path, safe="/~"), query, canonical_headers, scope["signed"],
        hashlib.sha256(request.body).hexdigest(),
    ])
    credential_scope = f"{scope['date']}/{scope['region']}/{scope['service']}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, credential_scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = _sign(f"AWS4{secret}".encode(), scope["date"])
    for part in (scope["region"], scope["service"], "aws4_request"):
        key = _sign(key, part)
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    if scope["service"] == "aoss" and (
            "x-amz-content-sha256" not in signed
            or request.headers.get("x-amz-content-sha256") != hashlib.sha256(request.body).hexdigest()):
        return False, scope  # OpenSearch Serverless wants the payload hash as a signed header
    return hmac.compare_digest(expected, scope["signature"]), scope


def _stringify(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stringify(v) for k, v in value.items()}
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _nest(flat_or_nested: dict[str, Any]) -> dict[str, Any]:
    """Settings as OpenSearch returns them: dotted keys nested, every leaf a string."""
    nested: dict[str, Any] = {}

    def put(path: list[str], value: Any) -> None:
        node = nested
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value

    def walk(prefix: list[str], value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(prefix + key.split("."), inner)
        else:
            put(prefix, _stringify(value))

    walk([], flat_or_nested)
    if "index" not in nested:
        nested = {"index": nested}
    return nested


@dataclass
class DomainState:
    roles: dict[str, dict] = field(default_factory=dict)
    mappings: dict[str, dict] = field(default_factory=dict)
    users: dict[str, dict] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)  # what a login would check
    templates: dict[str, dict] = field(default_factory=dict)
    policies: dict[str, dict] = field(default_factory=dict)  # id -> {"policy", "_seq_no", "_primary_term", "_version"}
    saved_objects: dict[tuple[str, str, str], dict] = field(default_factory=dict)  # (tenant, type, id)
    indices: dict[str, Optional[str]] = field(default_factory=dict)  # index -> ISM policy id (None: unmanaged)
    # The security plugin's audit configuration as a new Amazon OpenSearch Service domain has it: off.
    audit: dict = field(default_factory=lambda: {
        "enabled": False,
        "audit": {"enable_rest": True, "disabled_rest_categories": ["AUTHENTICATED", "GRANTED_PRIVILEGES"],
                  "enable_transport": False, "disabled_transport_categories": ["AUTHENTICATED", "GRANTED_PRIVILEGES"],
                  "resolve_bulk_requests": False, "log_request_body": True, "resolve_indices": True,
                  "exclude_sensitive_headers": True, "ignore_users": ["kibanaserver"], "ignore_requests": []},
        "compliance": {"enabled": True, "internal_config": True, "external_config": False,
                       "read_metadata_only": True, "read_watched_fields": {}, "read_ignore_users": ["kibanaserver"],
                       "write_metadata_only": True, "write_log_diffs": False, "write_watched_indices": [],
                       "write_ignore_users": ["kibanaserver"]}})
    seq_no: int = 0
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)  # index -> _id -> source


class OpenSearchStub:
    """``with OpenSearchStub(secret_keys={"testing": "testing"}) as stub: stub.url ...``"""

    def __init__(self, *, secret_keys: dict[str, str], admin_password: str = "",
                 key_roles: Optional[dict[str, str]] = None) -> None:
        self.secret_keys = secret_keys
        self.key_roles = dict(key_roles or {})  # access key id -> the IAM role ARN its requests come from
        self.state = DomainState()
        self.fine_grained = bool(admin_password)
        if admin_password:  # what the service sets up for an internal master user
            self.state.users["admin"] = {"backend_roles": [], "attributes": {}}
            self.state.passwords["admin"] = admin_password
            for role in ADMIN_ROLES:
                self.state.mappings[role] = {"backend_roles": [], "hosts": [], "users": ["admin"],
                                             "and_backend_roles": []}
        self.requests: list[Recorded] = []
        self._faults: list[Fault] = []
        self.spec_violations: list[str] = []
        self._item_faults: dict[str, list[int]] = {}
        self._refused: dict[str, str] = {}
        self._next_id = 0
        self.delay_s = 0.0  # the benchmarks' latency model: every answer waits this long
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                                   self.rfile.read(length) if length else b"")
                status, answer = stub._dispatch(request)
                if stub.delay_s:
                    time.sleep(stub.delay_s)
                if status == HANG:
                    time.sleep(answer)
                    status = 0
                if status == 0:
                    self.close_connection = True
                    self.connection.close()
                    return
                body = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # --- lifecycle -----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "OpenSearchStub":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- test controls -------------------------------------------------------------------------
    def fail_next(self, times: int, *, status: int = 503, path_prefix: str = "") -> None:
        """The next ``times`` requests (whose path starts with ``path_prefix``) answer ``status``; 0 drops."""
        with self._lock:
            self._faults.append(Fault(status, times, path_prefix))

    def hang_next(self, times: int, *, seconds: float, path_prefix: str = "") -> None:
        """The next ``times`` requests get no answer for ``seconds``, then the connection drops."""
        with self._lock:
            self._faults.append(Fault(HANG, times, path_prefix, seconds))

    def fail_documents(self, ids: Any, statuses: list[int]) -> None:
        """Each of ``ids`` gets the item statuses ``statuses`` at its next attempts, in order."""
        with self._lock:
            for doc_id in ids:
                self._item_faults[doc_id] = list(statuses)

    def refuse_documents(self, ids: Any, reason: str = "failed to parse field [json.status] of type [long]") -> None:
        """``ids`` are refused for their content (400 mapper_parsing_exception) at every attempt."""
        with self._lock:
            self._refused.update({doc_id: reason for doc_id in ids})

    def document_count(self) -> int:
        with self._lock:
            return sum(len(docs) for docs in self.state.documents.values())

    def all_documents(self) -> dict[str, dict[str, Any]]:
        """``_id`` -> source over every index."""
        with self._lock:
            return {doc_id: source for docs in self.state.documents.values() for doc_id, source in docs.items()}

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def changing_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.changing and 200 <= r.status < 300]

    # --- dispatch ------------------------------------------------------------------------------
    def _dispatch(self, request: Recorded) -> tuple[int, Any]:
        with self._lock:
            self.requests.append(request)
            fault = next((f for f in self._faults if f.times > 0 and request.path.startswith(f.path_prefix)), None)
            if fault is not None:
                fault.times -= 1
                request.status = fault.status
                if fault.status == HANG:
                    return HANG, fault.hang_s
                return fault.status, {"error": "injected", "status": fault.status}
            refused = self._authenticate(request)
            if refused is not None:
                request.status = refused[0]
                return refused
            try:
                status, answer = self._route(request)
            except (ValueError, KeyError, TypeError) as error:
                status, answer = 400, {"error": {"type": "parse_exception", "reason": str(error)}, "status": 400}
            request.status = status
            return status, answer

    def _authenticate(self, request: Recorded) -> Optional[tuple[int, Any]]:
        """Access policy, authentication and (for a fine-grained domain) authorization; None: let it through."""
        if request.basic_auth:
            action = f"es:ESHttp{request.method.capitalize()}"
            if not self.fine_grained or not request.route.startswith(BASIC_AUTH_PREFIXES):
                return 403, {"Message": f"User: anonymous is not authorized to perform: {action} because no "
                                        "resource-based policy allows the action"}
            try:
                user, _, password = base64.b64decode(request.headers["authorization"][6:], validate=True) \
                    .decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                user, password = "", ""
            known = self.state.passwords.get(user)
            if known is None or not hmac.compare_digest(known, password):
                return 401, {"status": "UNAUTHORIZED", "message": "Unauthorized"}
            request.principal = f"user:{user}"
        else:
            request.signature_ok, request.signature_scope = verify_sigv4(request, self.secret_keys)
            if not request.signature_ok:
                return 403, {"message": "The request signature we calculated does not match the signature you provided."}
            role = self.key_roles.get((request.signature_scope or {}).get("key", ""))
            request.principal = f"role:{role}" if role else ""
        if self.fine_grained and not self._permitted(request.principal, request.route):
            return 403, {"error": {"type": "security_exception",
                                   "reason": f"no permissions for {request.route} and User [{request.principal}]"},
                         "status": 403}
        return None

    def _permitted(self, principal: str, route: str) -> bool:
        """Fine-grained access control for the calls the set-up makes: the security API takes all_access or
        security_manager; templates, ISM and Dashboards take all_access; anything else passes."""
        if route.startswith("/_plugins/_security/api"):
            roles = ADMIN_ROLES
        elif route.startswith(("/_index_template", "/_plugins/_ism", "/_dashboards")):
            roles = ("all_access",)
        else:
            return True
        kind, _, name = principal.partition(":")
        field = {"user": "users", "role": "backend_roles"}.get(kind)
        return field is not None and any(name in (self.state.mappings.get(role) or {}).get(field, ()) for role in roles)

    AUDIT_READONLY = ("/audit/exclude_sensitive_headers", "/compliance/internal_config", "/compliance/external_config")

    def _route(self, r: Recorded) -> tuple[int, Any]:
        path = r.route
        if path == "/_bulk" or path.endswith("/_bulk"):
            return self._bulk(r)
        if path in ("/_plugins/_security/api/audit", "/_plugins/_security/api/audit/config"):
            return self._audit(r, path.endswith("/config"))
        search = re.fullmatch(r"/([^/_][^/]*)/_search", path)
        if search:
            return self._search(r, unquote(search.group(1)))
        security = re.fullmatch(r"/_plugins/_security/api/(roles|rolesmapping|internalusers)/([^/]+)", path)
        if security:
            return self._security(r, security.group(1), unquote(security.group(2)))
        template = re.fullmatch(r"/_index_template/([^/]+)", path)
        if template:
            return self._template(r, unquote(template.group(1)))
        policy = re.fullmatch(r"/_plugins/_ism/policies/([^/]+)", path)
        if policy:
            return self._policy(r, unquote(policy.group(1)))
        attach = re.fullmatch(r"/_plugins/_ism/(add|change_policy)/([^/]+)", path)
        if attach:
            return self._attach_policy(r, attach.group(1), unquote(attach.group(2)))
        saved = re.fullmatch(r"/_dashboards/api/saved_objects/(_bulk_get|_bulk_create)", path)
        if saved:
            return self._saved_objects(r, saved.group(1))
        return 404, {"error": f"no handler for {r.method} {path}"}

    # security API
    def _security(self, r: Recorded, kind: str, name: str) -> tuple[int, Any]:
        store = {"roles": self.state.roles, "rolesmapping": self.state.mappings, "internalusers": self.state.users}[kind]
        if r.method == "GET":
            if name not in store:
                return 404, {"status": "NOT_FOUND", "message": f"Resource '{name}' not found."}
            entry = copy.deepcopy(store[name])
            entry.update(reserved=False, hidden=False, static=False)
            if kind == "roles":
                for permission in entry.get("index_permissions", []):
                    permission.setdefault("fls", [])
                    permission.setdefault("masked_fields", [])
                entry.setdefault("tenant_permissions", [])
            if kind == "internalusers":
                entry["hash"] = ""  # OpenSearch never returns the hash
                entry.setdefault("opendistro_security_roles", [])
            if kind == "rolesmapping":
                entry.setdefault("and_backend_roles", [])
            return 200, {name: entry}
        if r.method == "PUT":
            body = r.json()
            if kind == "internalusers":
                password = body.pop("password", None)
                if not password and name not in store:
                    return 400, {"status": "BAD_REQUEST", "message": "Please specify either 'hash' or 'password' when creating a new internal user."}
                if password:
                    self.state.passwords[name] = password
            created = name not in store
            store[name] = body
            return (201, {"status": "CREATED", "message": f"'{name}' created."}) if created else (
                200, {"status": "OK", "message": f"'{name}' updated."})
        return 405, {"error": "method not allowed"}

    # security plugin audit configuration: GET .../audit, PUT .../audit/config (read-only paths unchanged)
    def _audit(self, r: Recorded, config_path: bool) -> tuple[int, Any]:
        if r.method == "GET" and not config_path:
            return 200, {"_readonly": list(self.AUDIT_READONLY), "config": copy.deepcopy(self.state.audit)}
        if r.method == "PUT" and config_path:
            body = r.json()
            for readonly in self.AUDIT_READONLY:
                section, key = readonly.strip("/").split("/")
                if body.get(section, {}).get(key) != self.state.audit[section][key]:
                    return 409, {"status": "CONFLICT", "message": f"A read-only field cannot be changed: {readonly}"}
            if not isinstance(body.get("enabled"), bool):
                return 400, {"status": "BAD_REQUEST", "message": "'enabled' must be a boolean"}
            self.state.audit = body
            return 200, {"status": "OK", "message": "'config' updated."}
        return 405, {"error": "method not allowed"}

    # index templates
    def _template(self, r: Recorded, name: str) -> tuple[int, Any]:
        if r.method == "GET":
            if name not in self.state.templates:
                return 404, {"error": {"type": "resource_not_found_exception",
                                       "reason": f"index template matching [{name}] not found"}, "status": 404}
            stored = copy.deepcopy(self.state.templates[name])
            template = stored.setdefault("template", {})
            if "settings" in template:
                template["settings"] = _nest(template["settings"])
            stored.setdefault("composed_of", [])
            return 200, {"index_templates": [{"name": name, "index_template": stored}]}
        if r.method == "PUT":
            self.state.templates[name] = r.json()
            return 200, {"acknowledged": True}
        return 405, {"error": "method not allowed"}

    # ISM policies
    def _policy(self, r: Recorded, policy_id: str) -> tuple[int, Any]:
        existing = self.state.policies.get(policy_id)
        if r.method == "GET":
            if existing is None:
                return 404, {"error": {"type": "status_exception", "reason": "Policy not found"}, "status": 404}
            return 200, {"_id": policy_id, **copy.deepcopy(existing)}
        if r.method == "PUT":
            query = r.query
            if existing is not None:
                seq, term = query.get("if_seq_no", [None])[0], query.get("if_primary_term", [None])[0]
                if seq is None or term is None or int(seq) != existing["_seq_no"] or int(term) != existing["_primary_term"]:
                    return 409, {"error": {"type": "version_conflict_engine_exception",
                                           "reason": f"[{policy_id}]: version conflict"}, "status": 409}
            policy = r.json()["policy"]
            for state in policy.get("states", []):
                for action in state.get("actions", []):
                    action.setdefault("retry", {"count": 3, "backoff": "exponential", "delay": "1m"})
            now = int(time.time() * 1000)
            for template in policy.get("ism_template") or []:
                template["last_updated_time"] = now
            policy.update(policy_id=policy_id, last_updated_time=now, schema_version=21, error_notification=None)
            self.state.seq_no += 1
            stored = {"_version": (existing or {}).get("_version", 0) + 1, "_seq_no": self.state.seq_no,
                      "_primary_term": 1, "policy": policy}
            self.state.policies[policy_id] = stored
            return (200 if existing else 201), {"_id": policy_id, **copy.deepcopy(stored)}
        return 405, {"error": "method not allowed"}

    def _attach_policy(self, r: Recorded, operation: str, patterns: str) -> tuple[int, Any]:
        """``add`` attaches to indices without a policy; ``change_policy`` switches managed ones."""
        if r.method != "POST":
            return 405, {"error": "method not allowed"}
        policy_id = r.json()["policy_id"]
        if policy_id not in self.state.policies:
            return 404, {"error": {"type": "resource_not_found_exception", "reason": "Policy not found"}}
        matching = [name for name in self.state.indices
                    if any(fnmatch.fnmatchcase(name, p) for p in patterns.split(","))]
        updated, failed = 0, []
        for name in matching:
            managed = self.state.indices[name]
            if operation == "add" and managed is not None:
                failed.append({"index_name": name, "reason": "This index already has a policy, use the update policy API to update index policies"})
                continue
            if operation == "change_policy" and managed is None:
                failed.append({"index_name": name, "reason": "This index does not have a policy"})
                continue
            self.state.indices[name] = policy_id
            updated += 1
        return 200, {"updated_indices": updated, "failures": bool(failed), "failed_indices": failed}

    # Dashboards saved objects
    def _saved_objects(self, r: Recorded, operation: str) -> tuple[int, Any]:
        if r.method != "POST":
            return 405, {"error": "method not allowed"}
        if r.headers.get("osd-xsrf") != "true":
            return 400, {"statusCode": 400, "error": "Bad Request", "message": "Request must contain a osd-xsrf header."}
        tenant = r.headers.get("securitytenant", "private")
        wanted = r.json()
        if operation == "_bulk_get":
            answer = []
            for item in wanted:
                key = (tenant, item["type"], item["id"])
                if key in self.state.saved_objects:
                    answer.append(copy.deepcopy(self.state.saved_objects[key]))
                else:
                    answer.append({"id": item["id"], "type": item["type"],
                                   "error": {"statusCode": 404, "message": "Not found"}})
            return 200, {"saved_objects": answer}
        overwrite = r.query.get("overwrite", ["false"])[0] == "true"
        answer = []
        for item in wanted:
            key = (tenant, item["type"], item["id"])
            if key in self.state.saved_objects and not overwrite:
                answer.append({"id": item["id"], "type": item["type"],
                               "error": {"statusCode": 409, "message": "version conflict, document already exists"}})
                continue
            attributes = copy.deepcopy(item["attributes"])
            if item["type"] == "index-pattern":
                attributes.setdefault("fields", "[]")  # Dashboards fills the field list in itself
            stored = {"id": item["id"], "type": item["type"], "attributes": attributes,
                      "references": item.get("references", []), "version": f"W/{self.state.seq_no}",
                      "updated_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())}
            self.state.saved_objects[key] = stored
            answer.append(copy.deepcopy(stored))
        return 200, {"saved_objects": answer}

    # _search: the indices matching the (comma-separated, wildcard) patterns; ``match_all`` or
    # ``match_phrase`` on one field (a phrase matches as a substring of the field's text)
    def _search(self, r: Recorded, patterns: str) -> tuple[int, Any]:
        if r.method not in ("GET", "POST"):
            return 405, {"error": "method not allowed"}
        body = r.json() or {}
        query = body.get("query", {"match_all": {}})
        kind, clause = next(iter(query.items()))
        if kind not in ("match_all", "match_phrase"):
            return 400, {"error": {"type": "parsing_exception", "reason": f"unknown query [{kind}] (stand-in)"}}
        field_name, phrase = next(iter(clause.items())) if kind == "match_phrase" else ("", "")
        phrase = phrase.get("query", "") if isinstance(phrase, dict) else phrase
        found = []
        for index, docs in self.state.documents.items():
            if not any(fnmatch.fnmatchcase(index, pattern) for pattern in patterns.split(",")):
                continue
            for doc_id, source in docs.items():
                if kind == "match_all" or str(phrase) in str(source.get(field_name, "")):
                    found.append({"_index": index, "_id": doc_id, "_score": 1.0, "_source": copy.deepcopy(source)})
        size = int(body.get("size", 10))
        return 200, {"took": 1, "timed_out": False, "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
                     "hits": {"total": {"value": len(found), "relation": "eq"}, "max_score": 1.0 if found else None,
                              "hits": found[:size]}}

    # _bulk
    def _bulk(self, r: Recorded) -> tuple[int, Any]:
        problems = check_request(r.method, r.route, r.query, r.headers, r.body)
        if problems:
            self.spec_violations += problems
            return 400, {"error": {"type": "illegal_argument_exception", "reason": "; ".join(problems)}, "status": 400}
        lines = r.body.split(b"\n")[:-1]
        default_index = r.route.rsplit("/_bulk", 1)[0].strip("/") or None
        items: list[dict[str, Any]] = []
        position = 0
        while position < len(lines):
            operation, meta = next(iter(json.loads(lines[position]).items()))
            source_line = lines[position + 1]
            position += 2
            index = meta.get("_index") or default_index
            doc_id = meta.get("_id")
            items.append({operation: self._bulk_item(operation, index, doc_id, source_line)})
        errors = any(not 200 <= next(iter(item.values()))["status"] < 300 for item in items)
        return 200, {"took": 1, "errors": errors, "items": items}

    def _bulk_item(self, operation: str, index: str, doc_id: Any, source_line: bytes) -> dict[str, Any]:
        base = {"_index": index, "_id": doc_id}
        faults = self._item_faults.get(doc_id) if doc_id is not None else None
        if faults:
            status = faults.pop(0)
            kind = "es_rejected_execution_exception" if status == 429 else "unavailable_shards_exception"
            return {**base, "status": status, "error": {"type": kind, "reason": f"injected {status}"}}
        try:
            source = json.loads(source_line)
        except ValueError as error:
            return {**base, "status": 400, "error": {"type": "mapper_parsing_exception",
                                                     "reason": f"failed to parse: {error}"}}
        if doc_id in self._refused:
            return {**base, "status": 400, "error": {"type": "mapper_parsing_exception",
                                                     "reason": self._refused[doc_id]}}
        documents = self.state.documents.setdefault(index, {})
        if doc_id is None:
            self._next_id += 1
            doc_id = base["_id"] = f"auto-{self._next_id}"
        if operation == "create" and doc_id in documents:
            return {**base, "status": 409, "error": {
                "type": "version_conflict_engine_exception",
                "reason": f"[{doc_id}]: version conflict, document already exists (current version [1])"}}
        created = doc_id not in documents
        documents[doc_id] = source
        self.state.seq_no += 1
        return {**base, "status": 201 if created else 200, "result": "created" if created else "updated",
                "_version": 1, "_seq_no": self.state.seq_no, "_primary_term": 1,
                "_shards": {"total": 2, "successful": 1, "failed": 0}}
