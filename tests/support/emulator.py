"""The AWS emulator (moto in server mode) on 127.0.0.1, behind the fault proxy."""
from __future__ import annotations

import os
import urllib.request
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

from .fault_proxy import FaultProxy

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account

TEST_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
    "POWERTOOLS_TRACE_DISABLED": "1",
    "POWERTOOLS_METRICS_NAMESPACE": "LogConstructsTest",
    "POWERTOOLS_SERVICE_NAME": "test",
    "POWERTOOLS_DEV": "false",
}


@dataclass
class Emulator:
    """moto's server and the proxy in front of it; ``url`` is what boto3 talks to."""

    server: Any
    proxy: FaultProxy
    direct_url: str

    @property
    def url(self) -> str:
        return self.proxy.url

    def client(self, service: str, *, direct: bool = False, **config: Any) -> Any:
        """A boto3 client; ``direct=True`` bypasses the proxy (set-up and assertions)."""
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=self.direct_url if direct else self.url,
            config=Config(retries={"max_attempts": 1, "mode": "standard"}, **config),
        )

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.direct_url}/moto-api/reset", method="POST")
        urllib.request.urlopen(request, timeout=10).read()
        self.proxy.clear()


def start_emulator() -> Emulator:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    direct_url = f"http://{host}:{port}"
    proxy = FaultProxy(direct_url).start()
    os.environ.update(TEST_ENVIRONMENT)
    # Module-level boto3 clients in the Lambda code pick the endpoint up from the environment.
    os.environ["AWS_ENDPOINT_URL"] = proxy.url
    return Emulator(server=server, proxy=proxy, direct_url=direct_url)
