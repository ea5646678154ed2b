"""The set-up function against an OpenSearch Serverless collection: requests signed for ``aoss`` (with the
payload hash header the service requires), only the index template, no settings the service manages,
every request checked against the OpenSearch API specification; parts a collection lacks refused."""
from __future__ import annotations

import json
import pytest

from opensearch_setup import handler as setup
from opensearch_setup.contract import ENV_INDEX_SETUP, SetupConfig
from opensearch_setup.props import ENDPOINT_OVERRIDE_ENV
from opensearch_setup.signed_http import SetupError
from tests.support.alerts import FakeContext
from tests.support.emulator import REGION
from tests.support.opensearch_stub import OpenSearchStub
from tests.support.opensearch_template_spec import check_request

HOST = "abc123xyz.eu-west-1.aoss.amazonaws.com"
TEMPLATE = {"Name": "logs", "IndexPatterns": ["logs*"]}


def configure(monkeypatch, parts: dict) -> None:
    """The environment the construct writes for a collection (see LogPipeline's serverless sink)."""
    monkeypatch.delenv(ENV_INDEX_SETUP, raising=False)
    for name, value in SetupConfig(domain_endpoint=HOST, service="aoss",
                                   index_setup=json.dumps(parts)).to_environment().items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def stub(aws, monkeypatch):
    monkeypatch.setenv(ENDPOINT_OVERRIDE_ENV, "1")
    monkeypatch.setenv("OPENSEARCH_SETUP_BACKOFF_SECONDS", "0.01")
    configure(monkeypatch, {"IndexTemplate": TEMPLATE})
    with OpenSearchStub(secret_keys={"testing": "testing"}) as server:
        yield server


def run(stub: OpenSearchStub, **parts) -> dict:
    props = {"DomainEndpoint": HOST, "Region": REGION, "Endpoint": stub.url, "IndexTemplate": TEMPLATE, **parts}
    event = {"RequestType": "Create", "ResourceProperties": props, "ServiceToken": "arn:token",
             "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/LoggingPlatform/1",
             "RequestId": "req-1", "LogicalResourceId": "CollectionSetup", "ResourceType": "Custom::OpenSearchSetup"}
    return setup.handler(event, FakeContext(function_name="opensearch-setup"))


def test_the_index_template_is_put_signed_for_aoss_with_mappings_only(stub):
    # GIVEN an empty collection / WHEN the custom resource is created
    result = run(stub)
    # THEN every request was signed for aoss in the region, with the payload hash the service requires
    assert stub.requests and all(r.signature_ok for r in stub.requests)
    assert {r.signature_scope["service"] for r in stub.requests} == {"aoss"}
    assert {r.signature_scope["region"] for r in stub.requests} == {REGION}
    assert all("x-amz-content-sha256" in r.headers for r in stub.requests)
    # AND only the index template was written: no security plugin, ISM or Dashboards path was touched
    assert [f"{r.method} {r.route}" for r in stub.requests] == ["GET /_index_template/logs",
                                                                "PUT /_index_template/logs"]
    template = stub.state.templates["logs"]
    assert "settings" not in template["template"]
    assert template["template"]["mappings"]["properties"]["@timestamp"] == {"type": "date"}
    assert result["Data"]["Changed"] == "index_template:logs"


def test_every_request_follows_the_api_specification(stub):
    run(stub)
    run(stub)  # the second run reads and finds nothing to change
    problems = [p for r in stub.requests
                for p in check_request(r.method, r.route, r.query, r.body, serverless=True)]
    assert problems == []
    assert [r.method for r in stub.requests] == ["GET", "PUT", "GET"]


def test_the_spec_check_would_catch_a_domain_template_sent_to_a_collection():
    # GIVEN the domain's template (with shards, replicas and a field limit) / THEN the check names the settings
    from opensearch_setup import documents
    from opensearch_setup.props import IndexTemplateSettings
    body = json.dumps(documents.index_template(IndexTemplateSettings("logs", ("logs*",), 1, 1, 2000))).encode()
    assert check_request("PUT", "/_index_template/logs", {}, body, serverless=True) == [
        "PUT /_index_template/logs: OpenSearch Serverless manages shards, replicas and field limits; "
        "template.settings is refused"]


def test_an_unsigned_payload_hash_is_refused_by_the_stand_in(stub):
    # GIVEN a client signing for aoss without the payload hash header (what plain SigV4Auth sends)
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    import urllib.request
    request = AWSRequest(method="GET", url=f"{stub.url}/_index_template/logs")
    SigV4Auth(Credentials("testing", "testing"), "aoss", REGION).add_auth(request)
    # WHEN it is sent / THEN the stand-in answers 403 as the service would
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(urllib.request.Request(request.url, headers=dict(request.headers.items())))
    assert refused.value.code == 403


@pytest.mark.parametrize("part", ["IsmPolicy", "Dashboards"])
def test_parts_a_collection_lacks_are_refused_before_any_request(stub, monkeypatch, part):
    # GIVEN a configuration that asks a collection for ISM or Dashboards objects
    extra = {"IsmPolicy": {"PolicyId": "p", "IndexPatterns": ["logs*"], "DeleteAfterDays": "30"},
             "Dashboards": {"IndexPattern": "logs*"}}[part]
    configure(monkeypatch, {"IndexTemplate": TEMPLATE, part: extra})
    # WHEN the custom resource runs / THEN it fails naming the part, and sent nothing
    with pytest.raises(SetupError, match=f"{part} cannot be set up on an OpenSearch Serverless collection"):
        run(stub)
    assert stub.requests == []


def test_an_unknown_signing_service_is_a_configuration_error(monkeypatch):
    from opensearch_setup.contract import ConfigError, ENV_SERVICE
    with pytest.raises(ConfigError, match="OPENSEARCH_SETUP_SERVICE must be one of es, aoss, got 'es2'"):
        SetupConfig.from_environment({ENV_SERVICE: "es2"})
