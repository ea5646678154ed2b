"""The governor's account-level subscription filter policy: which log groups it leaves out."""
from __future__ import annotations

from typing import Sequence

import jsii
from aws_cdk import IAspect, Token
from aws_cdk import aws_logs as logs
from constructs import IConstruct

from .._private.log_groups import LIBRARY_LOG_GROUP_PREFIX


def _library_log_group_names(root: IConstruct) -> list[str]:
    """Literal names of every log group of this library in the app (for account-policy exclusions)."""
    names = []
    for node in root.node.find_all():
        if isinstance(node, logs.CfnLogGroup):
            name = node.log_group_name
            if isinstance(name, str) and not Token.is_unresolved(name) and name.startswith(LIBRARY_LOG_GROUP_PREFIX):
                names.append(name)
    return sorted(set(names))


def selection_criteria(names: Sequence[str]) -> str:
    """``LogGroupName NOT IN [...]``: the only selector a subscription filter account policy accepts."""
    return "LogGroupName NOT IN [" + ", ".join(f'"{n}"' for n in dict.fromkeys(names)) + "]"


@jsii.implements(IAspect)
class ExcludeLibraryLogGroups:
    """Before synthesis, adds every library log group of the app (even ones created after the governor)."""

    def __init__(self, policy: logs.CfnAccountPolicy, names: Sequence[str]) -> None:
        self._policy = policy
        self._names = list(names)

    def visit(self, node: IConstruct) -> None:
        if node is self._policy:
            self._policy.selection_criteria = selection_criteria(
                [*self._names, *_library_log_group_names(node.node.root)])
