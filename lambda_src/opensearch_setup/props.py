"""ResourceProperties → typed settings, with one error that lists every problem.

CloudFormation hands every scalar to the function as a string ("2", "true"), so numbers are
accepted as ints or digit strings. The contract is documented in the package docstring.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any, Callable, Mapping, Optional
from urllib.parse import urlsplit

from .contract import (ENV_ALLOW_ENDPOINT_OVERRIDE, ENV_DOMAIN_ENDPOINT, ENV_INDEX_SETUP, ENV_MASTER_ROLE_ARN,
                       ENV_SERVICE, SERVERLESS, SetupConfig)
from .signed_http import SetupError

ENDPOINT_OVERRIDE_ENV = ENV_ALLOW_ENDPOINT_OVERRIDE


@dataclass(frozen=True)
class SecuritySettings:
    writer_role_name: str
    writer_backend_roles: tuple[str, ...]
    index_patterns: tuple[str, ...]
    admin_user: str
    admin_secret_arn: str
    master_role_arn: str


@dataclass(frozen=True)
class IndexTemplateSettings:
    name: str
    index_patterns: tuple[str, ...]
    shards: int
    replicas: int
    field_limit: int
    priority: int = 100
    message_ignore_above: int = 8191


@dataclass(frozen=True)
class IsmSettings:
    policy_id: str
    index_patterns: tuple[str, ...]
    delete_after_days: int
    warm_after_days: Optional[int] = None
    cold_after_days: Optional[int] = None
    priority: int = 100


@dataclass(frozen=True)
class DashboardsSettings:
    index_pattern: str
    time_field: str = "@timestamp"
    tenant: str = "global"


@dataclass(frozen=True)
class SetupSettings:
    domain_endpoint: str
    region: str
    base_url: str
    security: Optional[SecuritySettings] = None
    index_template: Optional[IndexTemplateSettings] = None
    ism: Optional[IsmSettings] = None
    dashboards: Optional[DashboardsSettings] = None


class _Reader:
    """Reads one section, collecting problems instead of stopping at the first."""

    def __init__(self, section: str, raw: Any, problems: list[str]) -> None:
        self.section = section
        self.problems = problems
        if not isinstance(raw, Mapping):
            problems.append(f"{section} must be an object, got {type(raw).__name__}")
            raw = {}
        self.raw = raw

    def _where(self, key: str) -> str:
        return f"{self.section}.{key}" if self.section else key

    def text(self, key: str, default: Optional[str] = None) -> str:
        value = self.raw.get(key, default)
        if not isinstance(value, str) or not value.strip():
            self.problems.append(f"{self._where(key)} must be a non-empty string, got {value!r}")
            return ""
        return value.strip()

    def texts(self, key: str) -> tuple[str, ...]:
        value = self.raw.get(key)
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)) or not value or not all(isinstance(v, str) and v for v in value):
            self.problems.append(f"{self._where(key)} must be a non-empty list of strings, got {value!r}")
            return ()
        return tuple(dict.fromkeys(v.strip() for v in value))

    def integer(self, key: str, low: int, high: int, default: Optional[int] = None,
                optional: bool = False) -> Optional[int]:
        value = self.raw.get(key)
        if value in (None, ""):
            if optional or default is not None:
                return default
            self.problems.append(f"{self._where(key)} is required (an integer {low}..{high})")
            return None
        try:
            number = int(str(value).strip())
        except ValueError:
            self.problems.append(f"{self._where(key)} must be an integer, got {value!r}")
            return None
        if not low <= number <= high:
            self.problems.append(f"{self._where(key)} must be between {low} and {high}, got {number}")
            return None
        return number


def _or(value: Optional[int], default: int) -> int:
    return default if value is None else value


def _base_url(endpoint: str, override: Any, environ: Mapping[str, str], problems: list[str]) -> str:
    if override not in (None, ""):
        if environ.get(ENDPOINT_OVERRIDE_ENV) != "1":
            problems.append(f"Endpoint is a test-only override, honoured only when {ENDPOINT_OVERRIDE_ENV}=1 "
                            "in the function's environment; remove it (production uses https://DomainEndpoint)")
        elif not isinstance(override, str) or urlsplit(override).scheme not in ("http", "https"):
            problems.append(f"Endpoint must be an http(s) URL, got {override!r}")
        else:
            return override.rstrip("/")
    if "://" in endpoint or "/" in endpoint:
        problems.append(f"DomainEndpoint must be a host name without scheme or path, got {endpoint!r}")
    return f"https://{endpoint}"


def parse(properties: Mapping[str, Any], environ: Mapping[str, str]) -> SetupSettings:
    """Typed settings from ``ResourceProperties``; raises :class:`SetupError` listing every problem."""
    problems: list[str] = []
    top = _Reader("", properties, problems)
    endpoint = top.text("DomainEndpoint")
    region = top.text("Region")
    base_url = _base_url(endpoint, properties.get("Endpoint") if isinstance(properties, Mapping) else None,
                         environ, problems) if endpoint else ""

    config = SetupConfig.from_environment(environ)
    if config.domain_endpoint and endpoint and endpoint != config.domain_endpoint:
        problems.append(f"DomainEndpoint {endpoint!r} differs from the function's configuration "
                        f"({ENV_DOMAIN_ENDPOINT}={config.domain_endpoint!r}): refused, nothing was changed")
    security = _security(properties.get("Security"), config, problems)
    configured = _configured_parts(config, problems)
    if config.service == SERVERLESS:
        # No security plugin, no ISM, no saved-objects API the function could sign for on a collection.
        unsupported = sorted({*configured, *(["Security"] if security or config.has_security else [])}
                             - {"IndexTemplate"})
        if unsupported:
            problems.append(f"{', '.join(unsupported)} cannot be set up on an OpenSearch Serverless collection "
                            f"({ENV_SERVICE}=aoss): only IndexTemplate applies")
    parts = {name: _pinned(name, properties.get(name), configured.get(name), problems)
             for name in ("IndexTemplate", "IsmPolicy", "Dashboards")}

    if problems:
        raise SetupError("invalid ResourceProperties: " + "; ".join(problems))
    return SetupSettings(endpoint, region, base_url, security, parts["IndexTemplate"], parts["IsmPolicy"],
                         parts["Dashboards"])


def _index_template(r: _Reader) -> IndexTemplateSettings:
    return IndexTemplateSettings(
        name=r.text("Name"),
        index_patterns=r.texts("IndexPatterns"),
        shards=_or(r.integer("Shards", 1, 1024, default=1), 1),
        replicas=_or(r.integer("Replicas", 0, 15, default=1), 1),
        field_limit=_or(r.integer("FieldLimit", 100, 100_000, default=1000), 1000),
        priority=_or(r.integer("Priority", 0, 1_000_000, default=100), 100),
        message_ignore_above=_or(r.integer("MessageIgnoreAbove", 1, 32766, default=8191), 8191),
    )


def _ism(r: _Reader) -> IsmSettings:
    delete_after = r.integer("DeleteAfterDays", 1, 36500)
    warm_after = r.integer("WarmAfterDays", 1, 36500, optional=True)
    cold_after = r.integer("ColdAfterDays", 1, 36500, optional=True)
    ordered = [d for d in (warm_after, cold_after, delete_after) if d is not None]
    if delete_after is not None and ordered != sorted(set(ordered)):
        r.problems.append(f"{r.section} days must increase strictly warm < cold < delete, got "
                          f"WarmAfterDays={warm_after}, ColdAfterDays={cold_after}, DeleteAfterDays={delete_after}")
    return IsmSettings(
        policy_id=r.text("PolicyId"),
        index_patterns=r.texts("IndexPatterns"),
        delete_after_days=delete_after or 0,
        warm_after_days=warm_after,
        cold_after_days=cold_after,
        priority=_or(r.integer("Priority", 0, 1_000_000, default=100), 100),
    )


def _dashboards(r: _Reader) -> DashboardsSettings:
    return DashboardsSettings(
        index_pattern=r.text("IndexPattern"),
        time_field=r.text("TimeField", "@timestamp"),
        tenant=r.text("Tenant", "global"),
    )


_PART_READERS: dict[str, Callable[[_Reader], Any]] = {
    "IndexTemplate": _index_template, "IsmPolicy": _ism, "Dashboards": _dashboards}


def _configured_parts(config: SetupConfig, problems: list[str]) -> dict[str, Any]:
    """The index parts of the function's deploy-time configuration, typed."""
    if not config.index_setup:
        return {}
    try:
        raw = json.loads(config.index_setup)
    except ValueError as error:
        problems.append(f"the function's configuration {ENV_INDEX_SETUP} is not JSON ({error})")
        return {}
    if not isinstance(raw, dict):
        problems.append(f"the function's configuration {ENV_INDEX_SETUP} must be a JSON object")
        return {}
    unknown = sorted(set(raw) - set(_PART_READERS))
    if unknown:
        problems.append(f"the function's configuration {ENV_INDEX_SETUP} holds unknown parts {unknown}")
    return {name: read(_Reader(f"{ENV_INDEX_SETUP}.{name}", raw[name], problems))
            for name, read in _PART_READERS.items() if raw.get(name) is not None}


def _pinned(name: str, raw: Any, configured: Any, problems: list[str]) -> Any:
    """The configured part; the event's part may only repeat it (so a change still updates the resource).

    The function is the domain's master user: a template, a lifecycle policy or a tenant taken from the
    event would let anyone who may invoke it reach every index of the domain.
    """
    if raw is None:
        return configured
    given = _PART_READERS[name](_Reader(name, raw, problems))
    if configured is None:
        problems.append(f"{name} is given, but the function's configuration has no {name} ({ENV_INDEX_SETUP}): "
                        f"index settings come only from the deploy-time configuration; refused, nothing was changed")
        return None
    _refuse_differences(name, configured, given, problems)
    return configured


def _refuse_differences(section: str, configured: Any, given: Any, problems: list[str]) -> None:
    """Names the fields where the event's section differs from the configuration (lists compared as sets)."""
    def normal(value: Any) -> Any:
        return tuple(sorted(value)) if isinstance(value, tuple) else value

    differing = [_property_name(f.name) for f in fields(configured)
                 if normal(getattr(configured, f.name)) != normal(getattr(given, f.name))]
    if differing:
        problems.append(f"{section}.{f', {section}.'.join(differing)} differ from the function's deploy-time "
                        f"configuration; the event cannot change them: refused, nothing was changed")


def _property_name(field_name: str) -> str:
    """``writer_backend_roles`` → ``WriterBackendRoles``, the property's name in the event."""
    return "".join(part.capitalize() for part in field_name.split("_"))


def _security(raw: Any, config: SetupConfig, problems: list[str]) -> Optional[SecuritySettings]:
    """The security part from the function's configuration; the event's ``Security`` may only repeat it.

    Anyone allowed to invoke the function can send it an event: values mapped into ``all_access``,
    ``security_manager`` and the writer role therefore never come from the event.
    """
    configured = None
    if config.has_security:
        configured = SecuritySettings(
            writer_role_name=config.writer_role_name,
            writer_backend_roles=config.writer_backend_roles,
            index_patterns=config.index_patterns,
            admin_user=config.admin_user,
            admin_secret_arn=config.admin_secret_arn,
            master_role_arn=config.master_role_arn,
        )
        missing = [_property_name(f.name) for f in fields(configured) if not getattr(configured, f.name)]
        if missing:
            problems.append(f"the function's configuration lacks the security values {', '.join(missing)}")
    if raw is None:
        return configured
    r = _Reader("Security", raw, problems)
    given = SecuritySettings(
        writer_role_name=r.text("WriterRoleName"),
        writer_backend_roles=r.texts("WriterBackendRoles"),
        index_patterns=r.texts("IndexPatterns"),
        admin_user=r.text("AdminUser", "admin"),
        admin_secret_arn=r.text("AdminSecretArn"),
        master_role_arn=r.text("MasterRoleArn"),
    )
    if configured is None:
        problems.append(f"Security is given, but the function's configuration holds no security values "
                        f"({ENV_MASTER_ROLE_ARN} unset): security values come only from the deploy-time "
                        f"configuration; refused, nothing was changed")
        return None
    _refuse_differences("Security", configured, given, problems)
    return configured
