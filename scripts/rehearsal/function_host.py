"""Run one deployed function's code on the host, as the Lambda Python runtime would, and list its AWS calls.

Runs inside the functions' virtualenv (the runtime's Python with the Powertools release the
template pins). Arguments: the unpacked code folder, the handler (``module.function``) and a JSON
file with the event, or ``-`` to import only. The function's environment is this process's
environment (the deployer sets it from what the emulator deployed). Prints one JSON object:
``{"imported", "invoked", "result", "error", "calls"}``; ``calls`` are IAM actions
(``service:Operation``), taken from every API call botocore makes.
"""
from __future__ import annotations

import importlib
import json
import sys
import traceback
from dataclasses import dataclass


@dataclass
class FakeContext:
    """What handlers read of the Lambda context object."""

    function_name: str
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = ""
    aws_request_id: str = "rehearsal-request"
    log_group_name: str = ""
    log_stream_name: str = "rehearsal"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def record_calls(calls: list[str]) -> None:
    """Observe (never change) every API call: the IAM action is the signing name and the operation."""
    from botocore.client import BaseClient

    original = BaseClient._make_api_call

    def observed(self, operation_name, api_params):
        model = self.meta.service_model
        prefix = model.signing_name or model.endpoint_prefix
        calls.append(f"{prefix}:{operation_name}")
        return original(self, operation_name, api_params)

    BaseClient._make_api_call = observed


def main() -> int:
    code, handler, event_file = sys.argv[1:4]
    import os

    calls: list[str] = []
    record_calls(calls)
    sys.path.insert(0, code)
    outcome = {"imported": False, "invoked": False, "result": None, "error": None, "calls": calls}
    module_name, _, function_name = handler.rpartition(".")
    try:
        module = importlib.import_module(module_name)
        function = getattr(module, function_name)
        outcome["imported"] = True
        if event_file != "-":
            with open(event_file) as source:
                event = json.load(source)
            name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "function")
            context = FakeContext(function_name=name, invoked_function_arn=os.environ.get("REHEARSAL_FUNCTION_ARN", ""))
            outcome["result"] = function(event, context)
            outcome["invoked"] = True
    except BaseException:  # report everything, the deployer decides
        outcome["error"] = traceback.format_exc(limit=8)
    print("REHEARSAL-OUTCOME " + json.dumps(outcome, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
