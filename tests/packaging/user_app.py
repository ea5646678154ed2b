"""A user's CDK app: only `log_constructs` from the installed wheel, two Apps in one process.

Run by test_wheel.py with the wheel's install folder on PYTHONPATH and the checkout off sys.path;
prints one JSON line: where log_constructs came from and each App's cloud assembly folder.
"""
import json
import sys

import aws_cdk as cdk
from aws_cdk import aws_logs as logs

import log_constructs
from log_constructs import AuditTrail, LogAlerts, LogGroupGovernor, LogPipeline


def build(outdir: str) -> None:
    app = cdk.App(outdir=outdir)
    stack = cdk.Stack(app, "UserStack")
    orders = logs.LogGroup(stack, "OrdersLogs")
    pipeline = LogPipeline(stack, "Logs", index="app-logs")
    pipeline.add_log_group(orders)
    LogAlerts(stack, "Alerts", log_groups=[orders])
    LogGroupGovernor(stack, "Governor", ship_to=pipeline)
    AuditTrail(stack, "Audit")
    app.synth()


outdirs = sys.argv[1:]
for outdir in outdirs:
    build(outdir)
print(json.dumps({"log_constructs": log_constructs.__file__, "version": log_constructs.__version__,
                  "outdirs": outdirs}))
