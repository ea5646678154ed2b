"""What the LogPipeline construct and the OpenSearch set-up custom resource agree on (standard library only).

The function's environment: :class:`SetupConfig` (:meth:`~SetupConfig.to_environment` /
:meth:`~SetupConfig.from_environment`). The custom resource's properties are documented in the
package docstring; their names are here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

# The writer role of bulk mode: the shipper's create-only role (documents.writer_role gives its permissions).
BULK_WRITER_ROLE_NAME = "log_constructs_bulk_writer"

ENV_MAX_ATTEMPTS = "OPENSEARCH_SETUP_MAX_ATTEMPTS"
ENV_BACKOFF_SECONDS = "OPENSEARCH_SETUP_BACKOFF_SECONDS"
ENV_TIMEOUT_SECONDS = "OPENSEARCH_SETUP_TIMEOUT_SECONDS"
# Tests only: honour the ``Endpoint`` property. Never written by the construct.
ENV_ALLOW_ENDPOINT_OVERRIDE = "OPENSEARCH_SETUP_ALLOW_ENDPOINT_OVERRIDE"
# Security values, fixed at deploy time: the custom-resource event can repeat them, never change them.
ENV_DOMAIN_ENDPOINT = "OPENSEARCH_SETUP_DOMAIN_ENDPOINT"
ENV_MASTER_ROLE_ARN = "OPENSEARCH_SETUP_MASTER_ROLE_ARN"
ENV_WRITER_ROLE_NAME = "OPENSEARCH_SETUP_WRITER_ROLE_NAME"
ENV_WRITER_BACKEND_ROLES = "OPENSEARCH_SETUP_WRITER_BACKEND_ROLES"  # comma-separated role ARNs
ENV_INDEX_PATTERNS = "OPENSEARCH_SETUP_INDEX_PATTERNS"  # comma-separated
ENV_ADMIN_USER = "OPENSEARCH_SETUP_ADMIN_USER"
ENV_ADMIN_SECRET_ARN = "OPENSEARCH_SETUP_ADMIN_SECRET_ARN"
# The IndexTemplate, IsmPolicy and Dashboards parts, fixed at deploy time: a JSON object of the parts that are on,
# in the form of the custom resource's properties. Absent: those parts are off.
ENV_INDEX_SETUP = "OPENSEARCH_SETUP_INDEX_SETUP"
# The signing service: ``es`` for a domain, ``aoss`` for an OpenSearch Serverless collection (index template only).
ENV_SERVICE = "OPENSEARCH_SETUP_SERVICE"
SERVICES = ("es", "aoss")
SERVERLESS = "aoss"

RESOURCE_TYPE = "Custom::OpenSearchSetup"
PHYSICAL_ID_SUFFIX = "opensearch-setup"
PROPERTY_NAMES = ("DomainEndpoint", "Region", "Endpoint", "Security", "IndexTemplate", "IsmPolicy", "Dashboards")
PARTS = ("Security", "IndexTemplate", "IsmPolicy", "Dashboards")
DEFAULT_ADMIN_USER = "admin"
DATA_CHANGED = "Changed"


class ConfigError(ValueError):
    """A variable of the function's environment holds a value of the wrong form."""


@dataclass(frozen=True)
class SetupConfig:
    """Retries of the signed requests and the security values (environment variable in brackets).

    The security values are the only source of what the set-up maps into ``all_access``,
    ``security_manager`` and the writer role, and ``index_setup`` the only source of the index template,
    the ISM policy and the Dashboards objects: an event that differs is refused.

    :param max_attempts: (``OPENSEARCH_SETUP_MAX_ATTEMPTS``). Default: 8
    :param backoff_seconds: base of the full-jitter backoff (``OPENSEARCH_SETUP_BACKOFF_SECONDS``). Default: 1.0
    :param timeout_seconds: per-request socket timeout (``OPENSEARCH_SETUP_TIMEOUT_SECONDS``). Default: 20
    :param allow_endpoint_override: tests only (``OPENSEARCH_SETUP_ALLOW_ENDPOINT_OVERRIDE=1``).
    :param domain_endpoint: the only domain the set-up talks to (``OPENSEARCH_SETUP_DOMAIN_ENDPOINT``). Default: - none
    :param master_role_arn: the function's role, the domain's master user (``OPENSEARCH_SETUP_MASTER_ROLE_ARN``).
        Default: - none: the security part is off
    :param writer_role_name: (``OPENSEARCH_SETUP_WRITER_ROLE_NAME``). Default: - none
    :param writer_backend_roles: Firehose's role ARNs (``OPENSEARCH_SETUP_WRITER_BACKEND_ROLES``, comma-separated).
    :param index_patterns: what the writer role may write (``OPENSEARCH_SETUP_INDEX_PATTERNS``, comma-separated).
    :param admin_user: (``OPENSEARCH_SETUP_ADMIN_USER``). Default: admin
    :param admin_secret_arn: (``OPENSEARCH_SETUP_ADMIN_SECRET_ARN``). Default: - none
    :param index_setup: JSON object with the ``IndexTemplate``, ``IsmPolicy`` and ``Dashboards`` parts that are on
        (``OPENSEARCH_SETUP_INDEX_SETUP``). Default: - none: those parts are off
    :param service: the SigV4 signing service (``OPENSEARCH_SETUP_SERVICE``): ``es`` (a domain) or ``aoss`` (an
        OpenSearch Serverless collection, where only the index template applies). Default: es
    """

    max_attempts: int = 8
    backoff_seconds: float = 1.0
    timeout_seconds: float = 20.0
    allow_endpoint_override: bool = False
    domain_endpoint: str = ""
    master_role_arn: str = ""
    writer_role_name: str = ""
    writer_backend_roles: tuple[str, ...] = ()
    index_patterns: tuple[str, ...] = ()
    admin_user: str = DEFAULT_ADMIN_USER
    admin_secret_arn: str = ""
    index_setup: str = ""
    service: str = "es"

    @property
    def has_security(self) -> bool:
        return bool(self.master_role_arn)

    def to_environment(self) -> dict[str, str]:
        environment = {ENV_MAX_ATTEMPTS: str(self.max_attempts), ENV_BACKOFF_SECONDS: f"{self.backoff_seconds:g}",
                       ENV_TIMEOUT_SECONDS: f"{self.timeout_seconds:g}"}
        pinned = {ENV_DOMAIN_ENDPOINT: self.domain_endpoint, ENV_MASTER_ROLE_ARN: self.master_role_arn,
                    ENV_WRITER_ROLE_NAME: self.writer_role_name,
                    ENV_WRITER_BACKEND_ROLES: ",".join(self.writer_backend_roles),
                    ENV_INDEX_PATTERNS: ",".join(self.index_patterns), ENV_ADMIN_USER: self.admin_user,
                    ENV_ADMIN_SECRET_ARN: self.admin_secret_arn, ENV_INDEX_SETUP: self.index_setup,
                    ENV_SERVICE: self.service if self.service != "es" else ""}
        return {**environment, **{name: value for name, value in pinned.items() if value}}

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> "SetupConfig":
        try:
            return cls(max_attempts=int(environ.get(ENV_MAX_ATTEMPTS) or 8),
                       backoff_seconds=float(environ.get(ENV_BACKOFF_SECONDS) or 1.0),
                       timeout_seconds=float(environ.get(ENV_TIMEOUT_SECONDS) or 20.0),
                       allow_endpoint_override=environ.get(ENV_ALLOW_ENDPOINT_OVERRIDE) == "1",
                       domain_endpoint=(environ.get(ENV_DOMAIN_ENDPOINT) or "").strip(),
                       master_role_arn=(environ.get(ENV_MASTER_ROLE_ARN) or "").strip(),
                       writer_role_name=(environ.get(ENV_WRITER_ROLE_NAME) or "").strip(),
                       writer_backend_roles=_list(environ.get(ENV_WRITER_BACKEND_ROLES)),
                       index_patterns=_list(environ.get(ENV_INDEX_PATTERNS)),
                       admin_user=(environ.get(ENV_ADMIN_USER) or "").strip() or DEFAULT_ADMIN_USER,
                       admin_secret_arn=(environ.get(ENV_ADMIN_SECRET_ARN) or "").strip(),
                       index_setup=(environ.get(ENV_INDEX_SETUP) or "").strip(),
                       service=_service(environ.get(ENV_SERVICE)))
        except ValueError as error:
            raise ConfigError(f"opensearch set-up: {error} (variables {ENV_MAX_ATTEMPTS}, {ENV_BACKOFF_SECONDS}, "
                              f"{ENV_TIMEOUT_SECONDS})") from None


def _service(value: str | None) -> str:
    service = (value or "").strip() or "es"
    if service not in SERVICES:
        raise ConfigError(f"opensearch set-up: {ENV_SERVICE} must be one of {', '.join(SERVICES)}, got {service!r}")
    return service


def _list(value: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item.strip() for item in (value or "").split(",") if item.strip()))
