"""An application team's stack: the demo shop, logging into one application log group that the
platform ships to its pipeline and watches for alerts."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from log_constructs import LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME, ApplicationLogging, ILogDestination, LoggingDashboard
from log_constructs import compliance
from log_constructs.compliance import (
    alarm_topic,
    dead_letter_queue,
    encryption_key,
    invoked_synchronously,
    managed_policy_role,
    send_failures_to,
)

# The demo shop's function code (the demo_app package): the example's own code, not the library's.
DEMO_SHOP_CODE = Path(__file__).resolve().parents[1] / "examples" / "demo_shop"
DEMO_SHOP_EXCLUDES = ["**/__pycache__", "**/*.pyc"]
RUNTIME_REASON = "Pinned to Python 3.13 like log_constructs' functions: the runtime our Powertools layer and tests cover."
OUTSIDE_VPC_REASON = ("The shop's functions call only Lambda and CloudWatch over TLS with SigV4, scoped by their roles; "
                      "they serve no network endpoint and reach nothing inside a VPC.")
UNRESERVED_REASON = ("No reserved concurrency: a reservation can fail a new account's first deploy (Lambda keeps the "
                     "account's unreserved concurrency at its minimum; see docs/deploy.md).")


class ShopStack(cdk.Stack):
    """Three functions of one service (orders, checkout, payments) with ApplicationLogging.

    ``ship_to`` and ``alerts`` are the platform's constructs of the same app: the subscription filters
    and grants land in this stack, which depends on the platform's (never the reverse).
    """

    def __init__(self, scope: Construct, id: str, *, settings: Mapping[str, Any], ship_to: ILogDestination,
                 alerts: ILogDestination, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        cfg = dict(settings)
        name = cfg.pop("name", id)
        payment_limit_cents = cfg.pop("payment_limit_cents", 100_000)
        shop = Construct(self, "Shop")
        self.key = encryption_key(shop, "Key", description="Encrypts the demo shop's function environments and "
                                  "failed payment events")
        self.orders = self._function(shop, "Orders", "demo_app.handler.handler",
                                     "Demo shop: writes structured order logs, some of them [CRITICAL]", {})
        self.payments = self._function(shop, "Payments", "demo_app.payments.handler",
                                       "Demo shop: authorizes payments, [CRITICAL] when the provider is down",
                                       {"PAYMENT_LIMIT_CENTS": str(payment_limit_cents)})
        self.checkout = self._function(shop, "Checkout", "demo_app.checkout.handler",
                                       "Demo shop: accepts orders and requests their payment",
                                       {"PAYMENTS_FUNCTION": self.payments.function_name})
        self._wire_payments(shop)
        if "log_retention" in cfg:
            cfg["log_retention"] = logs.RetentionDays[cfg["log_retention"]]
        self.logging = ApplicationLogging(self, "ShopLogging", application_name=name, scopes=[shop],
                                          ship_to=ship_to, alerts=alerts, **cfg)
        # The shop's own dashboard lives here; the platform's shows every application through metric search.
        self.dashboard = LoggingDashboard(self, "Dashboard", sources=[self.logging], applications_overview=False)

    def _function(self, scope: Construct, id: str, handler: str, description: str,
                  environment: Mapping[str, str]) -> lambda_.Function:
        """A plain application function: logging, layer, tracing and log permissions come from
        ApplicationLogging, so its role starts empty."""
        role = managed_policy_role(scope, f"{id}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                                   description=f"Execution role of the demo shop's {id.lower()} function")
        function = lambda_.Function(
            scope,
            id,
            role=role,
            description=description,
            runtime=LAMBDA_RUNTIME,
            architecture=LAMBDA_ARCHITECTURE,
            handler=handler,
            code=lambda_.Code.from_asset(str(DEMO_SHOP_CODE), exclude=DEMO_SHOP_EXCLUDES),
            timeout=cdk.Duration.seconds(10),
            memory_size=256,
            environment=dict(environment),
            environment_encryption=self.key,
        )
        self.key.grant(function, "kms:Decrypt")
        compliance.acknowledge_function(function, runtime=RUNTIME_REASON, outside_vpc=OUTSIDE_VPC_REASON,
                                        unreserved_concurrency=UNRESERVED_REASON)
        return function

    def _wire_payments(self, shop: Construct) -> None:
        """Checkout invokes payments asynchronously: what still fails after Lambda's retries is kept."""
        self.payments.grant_invoke(self.checkout)
        self.payment_failures = dead_letter_queue(shop, "PaymentFailures", encryption_key=self.key)
        # A failed payment event Lambda cannot put into the queue is lost: the shop's on-call hears of it.
        self.alarm_topic = alarm_topic(shop, "AlarmTopic", display_name="Demo shop alarms")
        self.payment_delivery_alarm = send_failures_to(self.payments, self.payment_failures)
        self.payment_delivery_alarm.add_alarm_action(cw_actions.SnsAction(self.alarm_topic))
        for function in (self.orders, self.checkout):
            invoked_synchronously(function, by="the person running the demo (aws lambda invoke)")
        assert self.checkout.role is not None
        compliance.acknowledge(
            self.checkout.role,
            "IAM5",
            "lambda:InvokeFunction on the payments function and its versions/aliases (ARN:*), nothing else.",
            findings=[compliance.arn_finding(self.payments, ":*")],
        )
