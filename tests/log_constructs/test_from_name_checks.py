"""from_name refuses at synth time what it can; a wrong name fails at deploy on the SSM parameter type."""
from __future__ import annotations

import re

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template

from log_constructs import LogAlerts, LogPipeline, PropError

ENV = cdk.Environment(account="111122223333", region="eu-west-1")
# What the consumer's deployment answers for a well-formed name nobody published ("defualt"), captured from
# the rehearsal's emulator (LocalStack, CreateStack): it names the SSM parameter type, whose id holds the path.
DEPLOY_MESSAGE = ("An error occurred (ValidationError) when calling the CreateStack operation: Parameter "
                  "SsmParameterValuelogconstructspipelinedefualtdeliverystreamnameC96584B6F00A464EAD1953AFF4B05118"
                  "Parameter should either have input value or default value")


@pytest.mark.parametrize("from_name, construct", [(LogPipeline.from_name, "LogPipeline"),
                                                  (LogAlerts.from_name, "LogAlerts")])
@pytest.mark.parametrize("name", ["team/a", "", "x" * 65, "default name"])
def test_a_malformed_name_is_refused_with_what_is_valid(from_name, construct: str, name: str) -> None:
    stack = cdk.Stack(cdk.App(), "Team", env=ENV)
    with pytest.raises(PropError) as raised:
        from_name(stack, "Attached", name=name)
    assert str(raised.value) == (f"{construct}: name must be 1-64 letters, digits, '_', '.' or '-' (it names SSM "
                                 f"parameters under /log-constructs/), got {name!r}")


@pytest.mark.parametrize("env, missing", [(None, "account and no region"),
                                          (cdk.Environment(region="eu-west-1"), "account"),
                                          (cdk.Environment(account="111122223333"), "region")])
@pytest.mark.parametrize("from_name, construct", [(LogPipeline.from_name, "LogPipeline"),
                                                  (LogAlerts.from_name, "LogAlerts")])
def test_a_stack_without_a_concrete_account_and_region_is_refused_with_the_advice(from_name, construct, env,
                                                                                  missing) -> None:
    stack = cdk.Stack(cdk.App(), "Team", env=env)
    with pytest.raises(PropError) as raised:
        from_name(stack, "Attached", name="default")
    assert str(raised.value) == (
        f"{construct}: from_name(name='default') needs a stack with a concrete account and region, and Team has no "
        f"{missing} (attach points are SSM parameters of one account and region). Give the stack "
        "env=cdk.Environment(account=..., region=...): from context (app.node.try_get_context(...)) so that "
        "synthesis needs no credentials, or from CDK_DEFAULT_ACCOUNT and CDK_DEFAULT_REGION, which the CDK CLI "
        "sets from your credentials")


def test_a_wrong_but_well_formed_name_synthesizes_and_deploy_names_its_parameter() -> None:
    # GIVEN a consumer that misspells the platform's name
    stack = cdk.Stack(cdk.App(), "Team", env=ENV)
    pipeline = LogPipeline.from_name(stack, "Pipeline", name="defualt")
    fn = lambda_.Function(stack, "Fn", runtime=lambda_.Runtime.PYTHON_3_13, handler="index.handler",
                          code=lambda_.Code.from_inline("def handler(event, context): pass"),
                          environment={"STREAM": pipeline.delivery_stream_name})
    parameters = Template.from_stack(stack).to_json()["Parameters"]
    # THEN synthesis cannot know; the template reads the parameter by a type whose id the deploy message names
    (logical_id,) = [k for k, p in parameters.items() if p.get("Default", "").endswith("/delivery-stream-name")]
    assert parameters[logical_id]["Default"] == "/log-constructs/pipeline/defualt/delivery-stream-name"
    assert re.search(r"Parameter (\w+) should either have input value or default value", DEPLOY_MESSAGE)[1] \
        == logical_id
    assert fn is not None
