"""LogPipeline's redaction props (validated here, written into the shipper's environment), its metrics and its
dashboard row. The values the shipper reads (variable names, rule-set names, metric names) are its contract's."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Sequence

from aws_cdk import Annotations, Duration, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from .._lambda_src.log_shipper import contract
from .._lambda_src.redaction.names import BUILTIN_RULE_NAMES, CUSTOM_KEY_RULE
from .._private.metrics import graph_row
from .._private.redaction import check_patterns
from .._private.validation import check
from ..protocols import DashboardRow

NAME = "LogPipeline"
SECRET_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
# The redaction variables share Lambda's 4 KB of environment with the others.
MAX_REDACTION_ENV_CHARS = 2048
WARNING_OFF = "log-constructs:pipeline-redaction-off"


@dataclass(frozen=True)
class RedactionSettings:
    """What the shipper is told (``ShipperConfig``'s redaction fields) and which rules can fire."""

    redact: bool = True
    patterns: Mapping[str, str] = field(default_factory=dict)
    secret_keys: tuple[str, ...] = ()
    rule_sets: Mapping[str, str] = field(default_factory=dict)

    def config_fields(self) -> dict[str, Any]:
        return {"redact": self.redact, "redact_patterns": dict(self.patterns),
                "redact_secret_keys": self.secret_keys, "redact_rule_sets": dict(self.rule_sets)}

    @property
    def rule_names(self) -> tuple[str, ...]:
        """Every rule that can mask something: the built-in ones, ``custom_key`` with secret keys, the patterns."""
        if not self.redact:
            return ()
        return (*BUILTIN_RULE_NAMES, *((CUSTOM_KEY_RULE,) if self.secret_keys else ()), *self.patterns)


def redaction_settings(scope: Construct, *, redact: Optional[bool], patterns: Optional[Mapping[str, str]],
                       secret_keys: Optional[Sequence[str]], rule_sets: Optional[Mapping[str, str]]) -> RedactionSettings:
    """Validate the props (every problem a :class:`PropError` naming the prop); warn when redaction is off."""
    patterns = dict(patterns or {})
    keys = tuple(secret_keys or ())
    sets = dict(rule_sets or {})
    check_patterns(NAME, patterns, (*BUILTIN_RULE_NAMES, CUSTOM_KEY_RULE))
    for key in keys:
        check(NAME, "redaction_secret_keys", isinstance(key, str) and bool(SECRET_KEY_PATTERN.match(key)),
              f"entries must be key names of 1-64 letters, digits, '_', '.', '-', got {key!r}")
    for prefix, rule_set in sets.items():
        check(NAME, "redaction_rule_sets", isinstance(prefix, str) and (Token.is_unresolved(prefix) or prefix != ""),
              f"keys must be non-empty log group name prefixes, got {prefix!r}")
        check(NAME, f"redaction_rule_sets[{prefix!r}]", rule_set in contract.RULE_SETS,
              f"must be one of {', '.join(map(repr, contract.RULE_SETS))}, got {rule_set!r}")
    off = redact is False
    check(NAME, "redact", not (off and (patterns or keys or sets)),
          "is False; redaction_patterns, redaction_secret_keys and redaction_rule_sets need it on")
    size = len(json.dumps([patterns, keys, sets]))
    check(NAME, "redaction_patterns", size <= MAX_REDACTION_ENV_CHARS,
          f"with redaction_secret_keys and redaction_rule_sets take {size} characters of JSON; at most "
          f"{MAX_REDACTION_ENV_CHARS} fit the shipper's environment")
    if off:
        Annotations.of(scope).add_warning_v2(
            WARNING_OFF, f"{scope.node.path}: redact=False: the shipper indexes and archives log lines as the "
            "applications wrote them, secrets and personal data included")
    return RedactionSettings(not off, patterns, keys, sets)


class PipelineRedactionMetrics:
    """``metric_redactions`` / ``metric_documents_redacted`` and the dashboard's redaction row (a mixin)."""

    redaction: RedactionSettings
    metric_shipper: Callable[..., cloudwatch.Metric]  # LogPipelineMetrics'

    def metric_redactions(self, rule: str, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                          label: Optional[str] = None) -> cloudwatch.Metric:
        """Values the shipper masked with ``rule`` (a built-in rule, ``custom_key`` or a pattern's name). Default: Sum."""
        check(NAME, "rule", rule in self.redaction.rule_names,
              f"must be one of {', '.join(self.redaction.rule_names) or '- none (redaction is off)'}, got {rule!r}")
        return self.metric_shipper(contract.redaction_metric(rule), period=period, statistic=statistic,
                                   label=label or rule)

    def metric_documents_redacted(self, *, period: Optional[Duration] = None, statistic: Optional[str] = None,
                                  label: Optional[str] = None) -> cloudwatch.Metric:
        """Documents in which the shipper masked at least one value (they carry ``redacted``). Default: Sum."""
        return self.metric_shipper(contract.METRIC_DOCUMENTS_REDACTED, period=period, statistic=statistic,
                                   label=label)

    def dashboard_widgets(self, *, period: Duration) -> list[DashboardRow]:
        """The pipeline's rows, with the redaction row before the shipper function's."""
        rows: list[DashboardRow] = super().dashboard_widgets(period=period)  # type: ignore[misc]
        at = next((n for n, row in enumerate(rows) if "shipper" in row.title.lower()), len(rows))
        return [*rows[:at], *self.redaction_rows(period), *rows[at:]]

    def redaction_rows(self, period: Duration) -> list[DashboardRow]:
        """One row: documents redacted, and values masked per rule (none when redaction is off)."""
        if not self.redaction.redact:
            return []
        p = {"period": period}
        return [graph_row("Redaction", [
            ("Documents redacted", [self.metric_documents_redacted(**p)]),
            ("Values masked per rule", [self.metric_redactions(rule, **p) for rule in self.redaction.rule_names]),
        ])]
