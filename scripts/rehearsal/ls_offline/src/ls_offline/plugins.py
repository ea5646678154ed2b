"""The two plugins; see the package docstring."""
from __future__ import annotations

from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin
from localstack.services.plugins import aws_provider


@aws_provider(api="dynamodb", name="moto")
def dynamodb_moto():
    from localstack.aws.api.dynamodb import DynamodbApi
    from localstack.services.moto import MotoFallbackDispatcher
    from localstack.services.plugins import Service

    class MotoDynamoDBProvider(DynamodbApi):
        """Every operation falls through to moto's DynamoDB backend."""

        def accept_state_visitor(self, visitor):
            from moto.dynamodb.models import dynamodb_backends

            visitor.visit(dynamodb_backends)

    return Service.for_provider(MotoDynamoDBProvider(), dispatch_table_factory=MotoFallbackDispatcher)


class NoExecRuntimeExecutorPlugin(RuntimeExecutorPlugin):
    name = "noexec"

    def load(self, *args, **kwargs):
        from .noexec import NoExecRuntimeExecutor

        return NoExecRuntimeExecutor
