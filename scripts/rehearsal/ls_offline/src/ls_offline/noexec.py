"""A Lambda runtime executor that prepares nothing and refuses to run: functions exist, never execute."""
from __future__ import annotations

from localstack.services.lambda_.invocation.runtime_executor import LambdaRuntimeException, RuntimeExecutor

REFUSAL = "the deploy rehearsal's emulator does not execute functions (LAMBDA_RUNTIME_EXECUTOR=noexec)"


class NoExecRuntimeExecutor(RuntimeExecutor):
    def start(self, env_vars):
        raise LambdaRuntimeException(REFUSAL)

    def stop(self):
        return None

    def get_address(self):
        return "127.0.0.1"

    def get_endpoint_from_executor(self):
        return "127.0.0.1"

    def get_runtime_endpoint(self):
        return "http://127.0.0.1"

    def invoke(self, payload):
        raise LambdaRuntimeException(REFUSAL)

    def get_logs(self):
        return ""

    @classmethod
    def prepare_version(cls, function_version):
        return None

    @classmethod
    def cleanup_version(cls, function_version):
        return None
