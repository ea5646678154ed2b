"""The example platform: one stack that composes every construct with realistic settings."""
from __future__ import annotations

from typing import Any, Mapping

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from log_constructs._private.functions import library_function

# --- ApplicationLogging demo (issue 6) ---
from aws_cdk import Duration
from aws_cdk import aws_iam as iam

from log_constructs import ApplicationLogging
from log_constructs._private import nag
from log_constructs._private.functions import _ASSET_EXCLUDES, ARCHITECTURE, LAMBDA_SRC, RUNTIME


class LoggingPlatformStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, *, settings: Mapping[str, Any], **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        self.settings = settings
        self.demo_function = self._demo_function(settings.get("demo", {}))
        # Keep last: ships to self.pipeline and alerts with self.alerts when those exist.
        self.application = self._application(settings.get("application", {}))

    def _demo_function(self, cfg: Mapping[str, Any]) -> lambda_.Function:
        """A small function whose logs travel the whole path (shipper, alerts)."""
        return library_function(
            self,
            "DemoOrders",
            handler="demo_app.handler.handler",
            description="Demo: writes structured order logs, some of them [CRITICAL]",
            service="orders-demo",
            log_retention=logs.RetentionDays(cfg.get("log_retention", "ONE_WEEK")),
        )

    # --- ApplicationLogging demo (issue 6) ---------------------------------------------------
    def _application(self, cfg: Mapping[str, Any]) -> ApplicationLogging:
        """A demo shop: two functions of one service logging into one application log group,
        shipped to the pipeline and watched by the alerts when the stack has them."""
        name = cfg.get("name", "shop")
        shop = Construct(self, "ShopApp")
        payments = self._shop_function(shop, "Payments", "demo_app.payments.handler",
                                       "Demo shop: authorizes payments, [CRITICAL] when the provider is down",
                                       {"PAYMENT_LIMIT_CENTS": str(cfg.get("payment_limit_cents", 100000))})
        checkout = self._shop_function(shop, "Checkout", "demo_app.checkout.handler",
                                       "Demo shop: accepts orders and requests their payment",
                                       {"PAYMENTS_FUNCTION": payments.function_name})
        payments.grant_invoke(checkout)
        nag.acknowledge(
            checkout.role,  # type: ignore[arg-type]
            "IAM5",
            "lambda:InvokeFunction on the payments function and its versions/aliases (ARN:*), nothing else.",
            findings=[nag.arn_of(payments, ":*")],
        )
        return ApplicationLogging(
            self,
            "ShopLogging",
            application_name=name,
            retention=logs.RetentionDays(cfg.get("log_retention", "ONE_MONTH")),
            application_log_level=cfg.get("application_log_level", "INFO"),
            system_log_level=cfg.get("system_log_level", "WARN"),
            scopes=[shop],
            ship_to=getattr(self, "pipeline", None),
            alerts=getattr(self, "alerts", None),
        )

    def _shop_function(self, scope: Construct, id: str, handler: str, description: str,
                       environment: Mapping[str, str]) -> lambda_.Function:
        """A plain application function: logging, layer, tracing and log permissions come from
        ApplicationLogging, so its role starts empty."""
        role = iam.Role(scope, f"{id}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                        description=f"Execution role of the demo shop's {id.lower()} function")
        fn = lambda_.Function(
            scope,
            id,
            role=role,
            description=description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=handler,
            code=lambda_.Code.from_asset(str(LAMBDA_SRC), exclude=_ASSET_EXCLUDES),
            timeout=Duration.seconds(10),
            memory_size=256,
            environment=dict(environment),
        )
        nag.acknowledge(
            fn,
            "L1",
            "Pinned to Python 3.13 like the library's functions: the runtime the pinned Powertools layer "
            "and the tests cover.",
        )
        return fn
