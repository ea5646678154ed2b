"""What the LogPipeline construct and the OpenSearch set-up custom resource agree on (standard library only).

The function's environment: :class:`SetupConfig` (:meth:`~SetupConfig.to_environment` /
:meth:`~SetupConfig.from_environment`). The custom resource's properties are documented in the
package docstring; their names are here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

ENV_MAX_ATTEMPTS = "OPENSEARCH_SETUP_MAX_ATTEMPTS"
ENV_BACKOFF_SECONDS = "OPENSEARCH_SETUP_BACKOFF_SECONDS"
ENV_TIMEOUT_SECONDS = "OPENSEARCH_SETUP_TIMEOUT_SECONDS"
# Tests only: honour the ``Endpoint`` property. Never written by the construct.
ENV_ALLOW_ENDPOINT_OVERRIDE = "OPENSEARCH_SETUP_ALLOW_ENDPOINT_OVERRIDE"

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
    """Retries of the signed requests to the domain (environment variable in brackets).

    :param max_attempts: (``OPENSEARCH_SETUP_MAX_ATTEMPTS``). Default: 8
    :param backoff_seconds: base of the full-jitter backoff (``OPENSEARCH_SETUP_BACKOFF_SECONDS``). Default: 1.0
    :param timeout_seconds: per-request socket timeout (``OPENSEARCH_SETUP_TIMEOUT_SECONDS``). Default: 20
    :param allow_endpoint_override: tests only (``OPENSEARCH_SETUP_ALLOW_ENDPOINT_OVERRIDE=1``).
    """

    max_attempts: int = 8
    backoff_seconds: float = 1.0
    timeout_seconds: float = 20.0
    allow_endpoint_override: bool = False

    def to_environment(self) -> dict[str, str]:
        return {ENV_MAX_ATTEMPTS: str(self.max_attempts), ENV_BACKOFF_SECONDS: f"{self.backoff_seconds:g}",
                ENV_TIMEOUT_SECONDS: f"{self.timeout_seconds:g}"}

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> "SetupConfig":
        try:
            return cls(max_attempts=int(environ.get(ENV_MAX_ATTEMPTS) or 8),
                       backoff_seconds=float(environ.get(ENV_BACKOFF_SECONDS) or 1.0),
                       timeout_seconds=float(environ.get(ENV_TIMEOUT_SECONDS) or 20.0),
                       allow_endpoint_override=environ.get(ENV_ALLOW_ENDPOINT_OVERRIDE) == "1")
        except ValueError as error:
            raise ConfigError(f"opensearch set-up: {error} (variables {ENV_MAX_ATTEMPTS}, {ENV_BACKOFF_SECONDS}, "
                              f"{ENV_TIMEOUT_SECONDS})") from None
