"""What a consumer trusts an attach point for: a name, in its own account and service.

Every value a consumer reads from a ``/log-constructs/`` SSM parameter is evaluated here with values an
SSM writer might put there (another account's destination, a wildcard, JSON that closes the string it
is written into): no resource, destination, grant or pattern of any consumer may then leave the
consumer's account and service.
"""
from __future__ import annotations

import json
from typing import Any, Callable, Iterator

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs

from log_constructs import ApplicationLogging, LogAlerts, LogGroupGovernor, LogPipeline

ACCOUNT, REGION, OTHER = "111122223333", "eu-west-1", "999999999999"
ENV = cdk.Environment(account=ACCOUNT, region=REGION)
SSM_TYPE = "AWS::SSM::Parameter::Value<String>"
# What someone with ssm:PutParameter on /log-constructs/* may write.
FORGED = [
    f"arn:aws:logs:{REGION}:{OTHER}:destination:collector",
    "*",
    f'x","DestinationArn":"arn:aws:logs:{REGION}:{OTHER}:destination:collector',
    f'x\\","DestinationArn":"arn:aws:logs:{REGION}:{OTHER}:destination:collector',
    f"x:{OTHER}:function:y",
]


def _function(stack: cdk.Stack) -> lambda_.Function:
    return lambda_.Function(stack, "Fn", runtime=lambda_.Runtime.PYTHON_3_13, handler="index.handler",
                            code=lambda_.Code.from_inline("def handler(event, context): pass"))


def _consume(stack: cdk.Stack, pipeline: Any, alerts: Any) -> None:
    """Every way an application or a governor uses the platform's attach points."""
    fn = _function(stack)
    fn.add_layers(pipeline.logship_layer(fn))
    ApplicationLogging(stack, "Logging", functions=[fn], ship_to=pipeline, alerts=alerts)
    pipeline.grant_put_records(fn)
    extra = logs.LogGroup(stack, "Extra", retention=logs.RetentionDays.ONE_WEEK)
    pipeline.add_log_group(extra)
    alerts.add_log_group(extra)
    LogGroupGovernor(stack, "PerGroup", ship_to=pipeline, include=["/team/"], sweep_at_deploy=False)
    LogGroupGovernor(stack, "AccountWide", ship_to=pipeline, subscription_mode="account-policy",
                     sweep_at_deploy=False)
    LogGroupGovernor(stack, "AlertsWide", ship_to=alerts, subscription_mode="account-policy", sweep_at_deploy=False)


def _same_app() -> dict:
    app = cdk.App()
    platform = cdk.Stack(app, "Platform", env=ENV)
    pipeline = LogPipeline(platform, "Logs", name="default")
    alerts = LogAlerts(platform, "Alerts", name="default")
    team = cdk.Stack(app, "Team", env=ENV)
    _consume(team, pipeline, alerts)
    return app.synth().get_stack_by_name("Team").template


def _other_app() -> dict:
    app = cdk.App()
    team = cdk.Stack(app, "Team", env=ENV)
    _consume(team, LogPipeline.from_name(team, "Pipeline", name="default"),
             LogAlerts.from_name(team, "Alerts", name="default"))
    return app.synth().get_stack_by_name("Team").template


@pytest.fixture(scope="module", params=["same app, other stack", "other app, by name"])
def consumer(request) -> dict:
    return _same_app() if request.param.startswith("same") else _other_app()


# --- a small evaluator of the intrinsics the templates use -------------------------------------------
def evaluate(value: Any, ref: Callable[[str], str]) -> Any:
    if isinstance(value, list):
        return [evaluate(v, ref) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        return ref(value["Ref"])
    if set(value) == {"Fn::Join"}:
        delimiter, parts = value["Fn::Join"]
        return delimiter.join(str(evaluate(p, ref)) for p in evaluate(parts, ref))
    if set(value) == {"Fn::Split"}:
        delimiter, source = value["Fn::Split"]
        return str(evaluate(source, ref)).split(delimiter)
    if set(value) == {"Fn::Select"}:
        index, items = value["Fn::Select"]
        return evaluate(items, ref)[int(index)]
    if set(value) == {"Fn::GetAtt"}:
        return f"arn:aws:iam::{ACCOUNT}:role/{value['Fn::GetAtt'][0]}"
    return {k: evaluate(v, ref) for k, v in value.items()}


def _ssm_parameters(template: dict) -> set[str]:
    return {name for name, p in template.get("Parameters", {}).items()
            if p["Type"] == SSM_TYPE and p.get("Default", "").startswith("/log-constructs/")}


def _uses(value: Any, names: set[str]) -> bool:
    return any(f'{{"Ref": "{n}"}}' in json.dumps(value) for n in names)


def _fed_by_ssm(template: dict) -> Iterator[tuple[str, str, Any]]:
    """(resource, property path, value) of every property that mentions a /log-constructs/ parameter."""
    names = _ssm_parameters(template)

    def walk(value: Any, path: str) -> Iterator[tuple[str, Any]]:
        if _uses(value, names):
            if isinstance(value, dict) and any(k.startswith("Fn::") or k == "Ref" for k in value):
                yield path, value
            elif isinstance(value, dict):
                for k, v in value.items():
                    yield from walk(v, f"{path}.{k}")
            elif isinstance(value, list):
                for i, v in enumerate(value):
                    yield from walk(v, f"{path}[{i}]")

    for logical_id, resource in template["Resources"].items():
        for path, value in walk(resource.get("Properties", {}), resource["Type"]):
            yield logical_id, path, value


def _arns_in(text: str) -> list[str]:
    return [word for word in text.replace('"', " ").replace(",", " ").split() if word.startswith("arn:")]


def test_no_ssm_value_leaves_the_consumers_account_and_service(consumer):
    # GIVEN a consumer of the platform's attach points (applications, grants, three governors)
    fed = list(_fed_by_ssm(consumer))
    assert fed, "the consumer reads attach points"
    names = _ssm_parameters(consumer)
    for forged in FORGED:
        # WHEN an SSM writer puts a forged value into every parameter
        def ref(name: str) -> str:
            pseudo = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT,
                      "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": "Team"}
            return forged if name in names else pseudo.get(name, name)

        for logical_id, path, value in fed:
            resolved = evaluate(value, ref)
            # THEN what the consumer deploys names only resources of its own account, region and service
            if path.endswith("LOG_DELIVERY_STREAM"):
                continue  # a stream name the application's SDK resolves in its own account (and its grant says which)
            text = resolved if isinstance(resolved, str) else json.dumps(resolved)
            if "PolicyDocument" in path and "AccountPolicy" in path:
                document = json.loads(text)
                arns = [document["DestinationArn"]]
            else:
                arns = _arns_in(text)
            assert arns, f"{logical_id} {path}: an SSM value used outside an ARN: {text[:200]}"
            for arn in arns:
                # (the forged text may follow as a resource name: it names nothing outside this prefix)
                assert arn.startswith((f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:",
                                       f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/",
                                       f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:",
                                       f"arn:aws:iam::{ACCOUNT}:role/")), f"{logical_id} {path} -> {arn}"


def test_every_ssm_value_sits_inside_an_arn_the_consumer_builds(consumer):
    # GIVEN every property fed by an attach point
    for logical_id, path, value in _fed_by_ssm(consumer):
        if path.endswith("LOG_DELIVERY_STREAM"):
            continue
        # THEN the parameter is always cut at quotes and backslashes and preceded by the consumer's own ARN prefix
        text = json.dumps(value)
        assert '"Fn::Split": ["\\"", ' in text and '"Fn::Split": ["\\\\", ' in text, f"{logical_id} {path}"
        assert any(f":{REGION}:{ACCOUNT}:{kind}" in text for kind in ("function:", "deliverystream/", "layer:")), \
            f"{logical_id} {path}: {text[:300]}"


def test_the_alerts_filter_pattern_is_built_by_the_consumer(consumer):
    # THEN every alerts subscription's pattern is a literal of the consumer's template, never a parameter
    patterns = [r["Properties"]["FilterPattern"] for r in consumer["Resources"].values()
                if r["Type"] == "AWS::Logs::SubscriptionFilter" and r["Properties"]["FilterName"] == "log-constructs-alerts"]
    assert patterns and all(isinstance(p, str) and "CRITICAL" in p for p in patterns)
    read = {p["Default"] for p in consumer.get("Parameters", {}).values() if p["Type"] == SSM_TYPE}
    assert not any(name.endswith(("filter-pattern", "-arn")) for name in read)


def test_custom_markers_of_an_attached_alerts_build_their_own_pattern():
    app = cdk.App()
    team = cdk.Stack(app, "Team", env=ENV)
    alerts = LogAlerts.from_name(team, "Alerts", name="default", markers=["PAGE"])
    alerts.add_log_group(logs.LogGroup(team, "Group", retention=logs.RetentionDays.ONE_WEEK))
    template = app.synth().get_stack_by_name("Team").template
    (pattern,) = [r["Properties"]["FilterPattern"] for r in template["Resources"].values()
                  if r["Type"] == "AWS::Logs::SubscriptionFilter"]
    assert pattern == "%\\[PAGE\\]|level.{3,4}PAGE%"


def test_the_platform_publishes_names_and_for_one_minor_version_the_previous_arns():
    # GIVEN a platform with a pipeline and alerts
    app = cdk.App()
    platform = cdk.Stack(app, "Platform", env=ENV)
    LogPipeline(platform, "Logs", name="default")
    LogAlerts(platform, "Alerts", name="default")
    template = app.synth().get_stack_by_name("Platform").template
    published = {r["Properties"]["Name"]: r["Properties"]["Value"] for r in template["Resources"].values()
                 if r["Type"] == "AWS::SSM::Parameter"}
    # THEN the names this release reads, and the ARNs (and pattern) the previous release read, are all there
    assert set(published) == {
        "/log-constructs/pipeline/default/shipper-function-name", "/log-constructs/pipeline/default/delivery-stream-name",
        "/log-constructs/pipeline/default/shipper-function-arn", "/log-constructs/pipeline/default/delivery-stream-arn",
        "/log-constructs/pipeline/default/logship-layer-name", "/log-constructs/pipeline/default/logship-layer-version",
        "/log-constructs/alerts/default/function-name",
        "/log-constructs/alerts/default/function-arn", "/log-constructs/alerts/default/filter-pattern"}
    assert "Ref" in published["/log-constructs/pipeline/default/shipper-function-name"]
    assert "Fn::GetAtt" in published["/log-constructs/pipeline/default/shipper-function-arn"]
