"""LogPipeline's redaction props: on by default, extra patterns and secret key names, rule sets per log group
prefix, off with a warning naming the construct; the dashboard's redaction row."""
from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import cx_api
from aws_cdk.assertions import Template

from log_constructs import LogPipeline, PropError

ENV = cdk.Environment(account="111122223333", region="eu-west-1")


def _build(**props):
    app = cdk.App()
    stack = cdk.Stack(app, "Logs", env=ENV)
    pipeline = LogPipeline(stack, "Pipeline", **props)
    template = Template.from_stack(stack)
    (shipper,) = [f for f in template.find_resources("AWS::Lambda::Function").values()
                  if f["Properties"]["Handler"] == "log_shipper.handler.handler"]
    return pipeline, shipper["Properties"]["Environment"]["Variables"], stack


def _warnings(stack: cdk.Stack) -> list[str]:
    return [str(m.entry.data) for m in cdk.App.of(stack).synth().get_stack_by_name(stack.stack_name).messages
            if m.level == cx_api.SynthesisMessageLevel.WARNING]


def test_redaction_is_on_by_default_with_nothing_to_configure():
    # GIVEN a pipeline with no redaction prop / THEN the shipper's environment turns nothing off
    _, variables, stack = _build()
    assert not {"REDACT", "REDACT_PATTERNS", "REDACT_SECRET_KEYS", "REDACT_RULE_SETS"} & set(variables)
    assert not any("redact" in w for w in _warnings(stack))


def test_patterns_secret_keys_and_rule_sets_reach_the_shipper():
    pipeline, variables, _ = _build(redaction_patterns={"customer_id": r"CUST-\d{6}"},
                                    redaction_secret_keys=["ssn", "pin"],
                                    redaction_rule_sets={"/security/": "audit"})
    assert json.loads(variables["REDACT_PATTERNS"]) == {"customer_id": r"CUST-\d{6}"}
    assert json.loads(variables["REDACT_SECRET_KEYS"]) == ["ssn", "pin"]
    assert json.loads(variables["REDACT_RULE_SETS"]) == {"/security/": "audit"}
    # AND the dashboard has a redaction row with a metric per rule that can fire
    (row,) = [r for r in pipeline.dashboard_widgets(period=cdk.Duration.minutes(5)) if r.title == "Redaction"]
    assert pipeline.metric_redactions("customer_id").metric_name == "Redactions_customer_id"
    assert pipeline.metric_redactions("custom_key").metric_name == "Redactions_custom_key"
    assert pipeline.metric_documents_redacted().metric_name == "DocumentsRedacted"
    assert len(row.widgets) == 2


def test_turning_redaction_off_warns_naming_the_construct():
    pipeline, variables, stack = _build(redact=False)
    assert variables["REDACT"] == "false"
    assert any("Logs/Pipeline: redact=False" in w for w in _warnings(stack))
    assert not [r for r in pipeline.dashboard_widgets(period=cdk.Duration.minutes(5)) if r.title == "Redaction"]


@pytest.mark.parametrize("props, message", [
    ({"redaction_patterns": {"Bad Name": "x"}}, "LogPipeline: redaction_patterns names must be lower-case identifiers"),
    ({"redaction_patterns": {"email": "x"}}, "LogPipeline: redaction_patterns 'email' is a built-in rule"),
    ({"redaction_patterns": {"x": "("}}, "LogPipeline: redaction_patterns['x'] is not a valid regex"),
    ({"redaction_patterns": {"x": "a*"}}, "LogPipeline: redaction_patterns['x'] matches the empty string"),
    ({"redaction_secret_keys": ["a b"]}, "LogPipeline: redaction_secret_keys entries must be key names"),
    ({"redaction_rule_sets": {"/a": "lenient"}},
     "LogPipeline: redaction_rule_sets['/a'] must be one of 'default', 'audit', got 'lenient'"),
    ({"redaction_rule_sets": {"": "audit"}}, "LogPipeline: redaction_rule_sets keys must be non-empty"),
    ({"redact": False, "redaction_secret_keys": ["ssn"]}, "LogPipeline: redact is False; redaction_patterns"),
])
def test_bad_redaction_props_are_refused_by_name(props, message):
    with pytest.raises(PropError) as raised:
        LogPipeline(cdk.Stack(cdk.App(), "Bad", env=ENV), "Logs", **props)
    assert str(raised.value).startswith(message), str(raised.value)


def test_metric_redactions_refuses_a_rule_that_cannot_fire():
    pipeline, _, _ = _build()
    with pytest.raises(PropError, match="LogPipeline: rule must be one of private_key, .*, card, got 'ssn'"):
        pipeline.metric_redactions("ssn")
