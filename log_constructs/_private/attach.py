"""Attach points: how a consumer in another stack, or another CDK app, reaches a platform construct.

A platform construct (``LogPipeline``, ``LogAlerts``) publishes what consumers need (function and
stream *names*) as SSM String parameters under ``/log-constructs/<kind>/<name>/``. A consumer in
another stack reads them through SSM parameter types, resolved at deploy time: no ``Fn::ImportValue``
(exports lock the exporting stack until every importer is gone), and nothing of the consumer ever
enters the platform's template. In one app the consumer's stack also depends on the platform's, so
the platform deploys first.

What the consumer trusts a parameter for: a name only. Every ARN is rebuilt in the consumer's
template with its own partition, region and account (:func:`read_arn`), so whoever can write the
parameter can at most name another resource of the same service in the consumer's own account; the
library's own log group names (:func:`library_log_group_name`) and the alerts' filter pattern are
computed by the consumer, never read.
"""
from __future__ import annotations

import re
from typing import Callable, Mapping, Optional, TypeVar

from aws_cdk import ArnFormat, Fn, Stack, Token
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from .._lambda_src.logship.attach_point import NAME_PATTERN as _NAME
from .._lambda_src.logship.attach_point import PARAMETER_PREFIX
from .log_groups import LIBRARY_LOG_GROUP_PREFIX, is_library_log_group
from .validation import PropError

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_REGISTRY = "_log_constructs_attach_names"

T = TypeVar("T", bound=Construct)


def parameter_name(kind: str, name: str, attribute: str) -> str:
    """``/log-constructs/<kind>/<name>/<attribute>``."""
    return f"{PARAMETER_PREFIX}/{kind}/{name}/{attribute}"


def check_name(construct: str, name: object) -> str:
    """A name given by the user: 1-64 letters, digits, ``_``, ``.``, ``-``."""
    if not isinstance(name, str) or Token.is_unresolved(name) or not _NAME.match(name):
        raise PropError(f"{construct}: name must be 1-64 letters, digits, '_', '.' or '-' (it names SSM "
                        f"parameters under {PARAMETER_PREFIX}/), got {name!r}")
    return name


# A wrong but well-formed name passes synthesis; the consumer's CreateStack/UpdateStack is then refused
# (ValidationError) on the SSM parameter type, whose id holds the parameter's path. Captured from the
# rehearsal's emulator (LocalStack) for name="defualt":
#   Parameter SsmParameterValuelogconstructspipelinedefualtdeliverystreamnameC96584B6F00A464EAD1953AFF4B05118Parameter
#   should either have input value or default value
# (tests/log_constructs/test_from_name_checks.py keeps it; AWS words it "Unable to fetch parameters [...]").
def check_from_name(construct: str, scope: Construct, name: object) -> str:
    """What ``from_name`` can refuse at synth time: a malformed name, and a stack without a concrete
    account and region (attach points are SSM parameters of one account and region)."""
    checked = check_name(construct, name)
    stack = Stack.of(scope)
    missing = [part for part, value in (("account", stack.account), ("region", stack.region))
               if Token.is_unresolved(value)]
    if missing:
        raise PropError(
            f"{construct}: from_name(name={checked!r}) needs a stack with a concrete account and region, and "
            f"{stack.node.path} has no {' and no '.join(missing)} (attach points are SSM parameters of one account "
            "and region). Give the stack env=cdk.Environment(account=..., region=...): from context "
            "(app.node.try_get_context(...)) so that synthesis needs no credentials, or from CDK_DEFAULT_ACCOUNT "
            "and CDK_DEFAULT_REGION, which the CDK CLI sets from your credentials")
    return checked


def default_name(scope: Construct) -> str:
    """``<stack name>/<path of the construct in its stack>``: unique per account and region, since
    CloudFormation stack names are; never equal to a user's name (those have no ``/``)."""
    stack = Stack.of(scope)
    relative = scope.node.path[len(stack.node.path):].strip("/")
    return "/".join(_UNSAFE.sub("-", part) for part in (stack.stack_name, *relative.split("/")))


def register(scope: Construct, construct: str, kind: str, name: str) -> None:
    """Refuse a second ``kind`` construct named ``name`` in one app (both would publish the same parameters)."""
    root = scope.node.root
    names: dict[tuple[str, str], str] = root.__dict__.setdefault(_REGISTRY, {})
    other = names.get((kind, name))
    if other is not None and other != scope.node.path:
        raise PropError(f"{construct}: name {name!r} is already used by {other}; each {construct} of an app "
                        f"needs its own name (its attach points are SSM parameters under "
                        f"{parameter_name(kind, name, '')})")
    names[(kind, name)] = scope.node.path


def publish(scope: Construct, kind: str, name: str, values: Mapping[str, str]) -> list[ssm.StringParameter]:
    """One SSM String parameter per attach point, children of ``scope``'s ``AttachPoints``."""
    holder = Construct(scope, "AttachPoints")
    return [ssm.StringParameter(holder, attribute, parameter_name=parameter_name(kind, name, attribute),
                                string_value=value, description=f"log_constructs {kind} {name}: {attribute}")
            for attribute, value in values.items()]


def read(scope: Construct, kind: str, name: str, attribute: str) -> str:
    """The attach point's value, resolved when ``scope``'s stack deploys (an SSM parameter type)."""
    return ssm.StringParameter.value_for_string_parameter(scope, parameter_name(kind, name, attribute))


def read_arn(scope: Construct, kind: str, name: str, attribute: str, *, service: str, resource: str,
             arn_format: ArnFormat = ArnFormat.SLASH_RESOURCE_NAME) -> str:
    """The ARN of the resource the attach point names, in ``scope``'s own partition, region and account.

    The parameter's value only fills the resource name: ``arn:<partition>:<service>:<region>:<account>:``
    is fixed by the consumer's template, whatever the parameter holds. The value is cut at its first
    ``\\`` or ``"`` (:func:`name_only`), so where the ARN is written into JSON text (an account policy's
    document) the value cannot close the string and add keys of its own.
    """
    return Stack.of(scope).format_arn(service=service, resource=resource, arn_format=arn_format,
                                      resource_name=name_only(read(scope, kind, name, attribute)))


def name_only(value: str) -> str:
    """``value`` up to its first backslash or double quote (``Fn::Select``/``Fn::Split``, at deploy time).

    No AWS resource name holds either; JSON text built around a deploy-time value cannot escape it.
    """
    for stop in ("\\", '"'):
        value = Fn.select(0, Fn.split(stop, value))
    return value


def library_log_group_name(kind: str, name: str, part: str) -> str:
    """``/log-constructs/<kind>/<name>/<part>``: a library log group's name, computed from the construct's name
    (a consumer knows it without reading anything)."""
    return f"{LIBRARY_LOG_GROUP_PREFIX}{kind}/{name}/{part}"


def name_log_groups(scope: Construct, kind: str, name: str, parts: Mapping[str, str]) -> list[str]:
    """Give every library log group below ``scope`` its :func:`library_log_group_name`.

    ``parts`` maps the id of the log group's construct (a child of ``scope``) to its part. A library
    log group missing from ``parts`` is a programming error: consumers compute the names from
    ``parts`` alone, so an unnamed one could be subscribed to its own function.
    """
    named = []
    for node in scope.node.find_all():
        if not is_library_log_group(node):
            continue
        assert isinstance(node, logs.CfnLogGroup)
        child = node.node.scope
        assert child is not None
        relative = child.node.path[len(scope.node.path):].strip("/")
        if relative not in parts:
            raise AssertionError(f"{scope.node.path}: library log group {relative!r} has no fixed name; add it to "
                                 "the construct's log group parts so consumers can exclude it")
        node.log_group_name = library_log_group_name(kind, name, parts[relative])
        named.append(node.log_group_name)
    return named


def _concrete_env_differs(a: Stack, b: Stack) -> bool:
    return any(not Token.is_unresolved(x) and not Token.is_unresolved(y) and x != y
               for x, y in ((a.account, b.account), (a.region, b.region)))


def consumer_stack(target: object, owner: Construct) -> Stack:
    """The stack a consumer's resources belong to: ``target``'s, or ``owner``'s when ``target`` is no construct."""
    return Stack.of(target) if isinstance(target, Construct) else Stack.of(owner)


def view_in(owner: Construct, target: object, *, construct: str, kind: str, name: str,
            factory: Callable[[Construct, str], T], depend: bool = True) -> Optional[T]:
    """``owner`` as seen from ``target``'s stack: ``None`` in ``owner``'s own stack, else one view per
    stack that reads the attach points. With ``depend`` (``owner`` is the construct itself, not a
    view), the consumer's stack depends on ``owner``'s, so the platform deploys first."""
    home, stack = Stack.of(owner), consumer_stack(target, owner)
    if stack is home:
        return None
    if _concrete_env_differs(home, stack):
        raise PropError(f"{construct}: {owner.node.path} is in {home.account}/{home.region}, the consumer "
                        f"{stack.node.path} in {stack.account}/{stack.region}; attach points are per account and "
                        "region. Across accounts or regions use a CloudWatch Logs destination "
                        "(LogPipeline(source_accounts=...) and LogForwarder / CrossAccountLogDestination)")
    view_id = f"LogConstructs-{kind}-{_UNSAFE.sub('-', name)}"
    existing = stack.node.try_find_child(view_id)
    if existing is None:
        existing = factory(stack, view_id)
        if depend:
            stack.add_stack_dependency(home, f"attaches to {owner.node.path} by name (SSM parameters)")
    return existing  # type: ignore[return-value]
