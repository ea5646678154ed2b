"""The subscription-slot guard counts per stack in the construct tree: never across Apps or stacks."""
from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs

from log_constructs._private.validation import PropError
from log_constructs._private.subscriptions import subscribe_function


def _function(stack: cdk.Stack) -> lambda_.Function:
    return lambda_.Function(stack, "Fn", runtime=lambda_.Runtime.PYTHON_3_13, handler="index.handler",
                            code=lambda_.Code.from_inline("def handler(event, context): pass"))


def _subscribe(stack: cdk.Stack, group: logs.ILogGroup, function: lambda_.IFunction, name: str) -> None:
    subscribe_function(stack, f"Sub-{name}", construct_name="Test", log_group=group, function=function,
                       function_arn=function.function_arn, filter_name=name,
                       filter_pattern=logs.FilterPattern.all_events())


def test_a_third_filter_fails_in_its_app_and_not_in_the_next() -> None:
    for _ in range(2):
        # GIVEN a new App whose log group already has two filters
        stack = cdk.Stack(cdk.App(), "Stack")
        group, function = logs.LogGroup.from_log_group_name(stack, "Group", "/app/orders"), _function(stack)
        _subscribe(stack, group, function, "first")
        _subscribe(stack, group, function, "second")
        # WHEN a third is added THEN that App refuses it (and the next App starts empty)
        with pytest.raises(PropError, match=r"^Test: log_group '/app/orders' already has 2 subscription filters "
                           r"\(first, second\); CloudWatch Logs allows 2 per log group$"):
            _subscribe(stack, group, function, "third")


def test_stacks_of_other_regions_in_one_app_do_not_share_slots() -> None:
    app = cdk.App()
    for region in ("eu-west-1", "us-east-1"):
        # GIVEN a log group of the same name in stacks of two regions of one App
        stack = cdk.Stack(app, f"Stack-{region}", env=cdk.Environment(account="111111111111", region=region))
        group, function = logs.LogGroup.from_log_group_name(stack, "Group", "/app/orders"), _function(stack)
        # THEN each takes its own two filters
        _subscribe(stack, group, function, "first")
        _subscribe(stack, group, function, "second")
    app.synth()


def test_the_same_filter_name_twice_is_refused() -> None:
    stack = cdk.Stack(cdk.App(), "Stack")
    group, function = logs.LogGroup.from_log_group_name(stack, "Group", "/app/orders"), _function(stack)
    _subscribe(stack, group, function, "first")
    with pytest.raises(PropError, match="^Test: log_group '/app/orders' is already subscribed by a 'first' filter$"):
        subscribe_function(stack, "Again", construct_name="Test", log_group=group, function=function,
                           function_arn=function.function_arn, filter_name="first",
                           filter_pattern=logs.FilterPattern.all_events())


def test_a_function_is_never_subscribed_to_its_own_log_group() -> None:
    stack = cdk.Stack(cdk.App(), "Stack")
    function = _function(stack)
    with pytest.raises(PropError, match="is the log group of the function it would be subscribed to"):
        _subscribe(stack, function.log_group, function, "loop")


def test_stream_destinations_take_slots_too() -> None:
    from aws_cdk import aws_kinesis as kinesis

    from log_constructs import KinesisLogDestination
    # GIVEN a log group with two filters of the library
    stack = cdk.Stack(cdk.App(), "Stack")
    group, function = logs.LogGroup.from_log_group_name(stack, "Group", "/app/orders"), _function(stack)
    _subscribe(stack, group, function, "first")
    _subscribe(stack, group, function, "second")
    # WHEN a Kinesis destination subscribes it as well THEN the third filter is refused
    with pytest.raises(PropError, match=r"^KinesisLogDestination: log_group '/app/orders' already has 2 "):
        KinesisLogDestination(kinesis.Stream(stack, "Stream")).add_log_group(group)
