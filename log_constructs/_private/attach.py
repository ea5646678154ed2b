"""Attach points: how a consumer in another stack, or another CDK app, reaches a platform construct.

A platform construct (``LogPipeline``, ``LogAlerts``) publishes what consumers need (function and
stream ARNs, a filter pattern) as SSM String parameters under ``/log-constructs/<kind>/<name>/``.
A consumer in another stack reads them through SSM parameter types, resolved at deploy time: no
``Fn::ImportValue`` (exports lock the exporting stack until every importer is gone), and nothing of
the consumer ever enters the platform's template. In one app the consumer's stack also depends on
the platform's, so the platform deploys first.
"""
from __future__ import annotations

import re
from typing import Callable, Mapping, Optional, TypeVar

from aws_cdk import Stack, Token
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from .validation import PropError

PARAMETER_PREFIX = "/log-constructs"
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
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
