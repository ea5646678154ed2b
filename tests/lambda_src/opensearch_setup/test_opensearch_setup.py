"""The OpenSearch set-up custom resource end to end: the handler, the admin secret in the AWS
emulator (Secrets Manager), and a stateful OpenSearch stand-in on 127.0.0.1 that verifies SigV4 and,
like a new domain whose master user is the internal user ``admin``, maps only ``admin`` at first."""
from __future__ import annotations

import base64
import copy
import json
import logging
from dataclasses import dataclass

import pytest

from opensearch_setup import handler as setup
from opensearch_setup.contract import ENV_INDEX_SETUP, SetupConfig
from opensearch_setup.props import ENDPOINT_OVERRIDE_ENV
from opensearch_setup.signed_http import SetupError
from tests.support.emulator import REGION
from tests.support.opensearch_stub import OpenSearchStub

MASTER_ROLE = "arn:aws:iam::123456789012:role/LoggingPlatform-OpenSearchSetupRole"
FIREHOSE_ROLE = "arn:aws:iam::123456789012:role/LoggingPlatform-FirehoseRole"
PASSWORD = "Adm1n-Pa55word!7zQ"
ENDPOINT = "search-logs-abc123.us-east-1.es.amazonaws.com"


@dataclass
class LambdaContext:
    function_name: str = "opensearch-setup"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:opensearch-setup"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"


# The index parts, as the construct writes them into the configuration and the event alike.
INDEX_PARTS = {
    "IndexTemplate": {"Name": "logs", "IndexPatterns": ["logs*"], "Shards": "1", "Replicas": "1", "FieldLimit": "2000"},
    "IsmPolicy": {"PolicyId": "logs-retention", "IndexPatterns": ["logs*"], "DeleteAfterDays": "30"},
    "Dashboards": {"IndexPattern": "logs*", "TimeField": "@timestamp"},
}


def configure(monkeypatch, secret_arn: str, parts: dict | None = None, **overrides) -> None:
    """The function's deploy-time configuration, as the construct writes it (``parts``: the index parts)."""
    config = SetupConfig(domain_endpoint=ENDPOINT, master_role_arn=MASTER_ROLE,
                         writer_role_name="log_constructs_firehose_writer", writer_backend_roles=(FIREHOSE_ROLE,),
                         index_patterns=("logs*",), admin_user="admin", admin_secret_arn=secret_arn,
                         index_setup=json.dumps(INDEX_PARTS if parts is None else parts))
    monkeypatch.delenv(ENV_INDEX_SETUP, raising=False)  # to_environment leaves out a configuration without parts
    for name, value in SetupConfig(**{**config.__dict__, **overrides}).to_environment().items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def secret_arn(aws, monkeypatch):
    client = aws.client("secretsmanager", direct=True)
    arn = client.create_secret(Name="opensearch-admin",
                               SecretString=json.dumps({"username": "admin", "password": PASSWORD}))["ARN"]
    configure(monkeypatch, arn)
    return arn


@pytest.fixture
def stub(monkeypatch):
    monkeypatch.setenv(ENDPOINT_OVERRIDE_ENV, "1")
    monkeypatch.setenv("OPENSEARCH_SETUP_BACKOFF_SECONDS", "0.01")
    # The emulator's credentials (access key "testing") are the set-up function's role.
    with OpenSearchStub(secret_keys={"testing": "testing"}, admin_password=PASSWORD,
                        key_roles={"testing": MASTER_ROLE}) as server:
        yield server


def properties(stub: OpenSearchStub, secret_arn: str, **overrides) -> dict:
    # Numbers as strings: this is how CloudFormation hands them over.
    props = {
        "DomainEndpoint": ENDPOINT,
        "Region": REGION,
        "Endpoint": stub.url,
        "Security": {"WriterRoleName": "log_constructs_firehose_writer", "WriterBackendRoles": [FIREHOSE_ROLE],
                     "IndexPatterns": ["logs*"], "AdminUser": "admin", "AdminSecretArn": secret_arn,
                     "MasterRoleArn": MASTER_ROLE},
        **copy.deepcopy(INDEX_PARTS),
    }
    props.update(overrides)
    return props


def run(request_type: str, props: dict, old: dict | None = None, physical_id: str | None = None) -> dict:
    event = {"RequestType": request_type, "ResourceProperties": props, "ServiceToken": "arn:token",
             "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/LoggingPlatform/1",
             "RequestId": "req-1", "LogicalResourceId": "OpenSearchSetup", "ResourceType": "Custom::OpenSearchSetup"}
    if old is not None:
        event["OldResourceProperties"] = old
    if physical_id is not None:
        event["PhysicalResourceId"] = physical_id
    return setup.handler(event, LambdaContext())


def writes(stub: OpenSearchStub) -> list[str]:
    return [f"{r.method} {r.route}" for r in stub.changing_requests()]


def basic_auth(stub: OpenSearchStub) -> list[str]:
    return [f"{r.method} {r.route} {r.status}" for r in stub.requests if r.basic_auth]


ADMIN_MAPPINGS = ("/_plugins/_security/api/rolesmapping/all_access",
                  "/_plugins/_security/api/rolesmapping/security_manager")


def test_create_sets_up_everything_with_signed_requests(aws, stub, secret_arn):
    # GIVEN a new domain whose all_access/security_manager map only the internal master user admin
    # WHEN the custom resource is created
    result = run("Create", properties(stub, secret_arn))
    # THEN every request but the role-mapping bootstrap was SigV4-signed for es in the region, dated
    signed = [r for r in stub.requests if not r.basic_auth]
    assert signed and all(r.signature_ok for r in signed)
    assert {r.signature_scope["service"] for r in signed} == {"es"}
    assert {r.signature_scope["region"] for r in signed} == {REGION}
    assert all("x-amz-date" in r.headers for r in signed)
    assert {r.route for r in stub.requests if r.basic_auth} == set(ADMIN_MAPPINGS)
    # AND the template and the policy were written before the Firehose role was mapped
    order = writes(stub)
    assert order.index("PUT /_index_template/logs") < order.index(
        "PUT /_plugins/_security/api/rolesmapping/log_constructs_firehose_writer")
    assert order.index("PUT /_plugins/_ism/policies/logs-retention") < order.index(
        "PUT /_plugins/_security/api/rolesmapping/log_constructs_firehose_writer")
    # AND the writer role may bulk-write, monitor and manage the pattern; Firehose's role is mapped
    state = stub.state
    assert state.roles["log_constructs_firehose_writer"] == {
        "cluster_permissions": ["cluster_composite_ops", "cluster_monitor"],
        "index_permissions": [{"index_patterns": ["logs*"], "allowed_actions": ["crud", "create_index", "manage"]}]}
    assert state.mappings["log_constructs_firehose_writer"]["backend_roles"] == [FIREHOSE_ROLE]
    # AND the admin user has the secret's password and the function's role is mapped next to it
    assert state.passwords["admin"] == PASSWORD
    for role in ("all_access", "security_manager"):
        assert state.mappings[role]["backend_roles"] == [MASTER_ROLE]
        assert state.mappings[role]["users"] == ["admin"]
    # AND the index template, the ISM policy (created without seq_no) and the saved objects exist
    template = state.templates["logs"]
    assert template["template"]["settings"]["index"]["mapping"]["total_fields"]["limit"] == 2000
    assert template["template"]["mappings"]["properties"]["message"]["fields"]["keyword"]["type"] == "keyword"
    ism_put = next(r for r in stub.requests if r.route == "/_plugins/_ism/policies/logs-retention" and r.method == "PUT")
    assert ism_put.query == {}
    assert state.policies["logs-retention"]["policy"]["ism_template"][0]["index_patterns"] == ["logs*"]
    saved = next(r for r in stub.requests if r.route.endswith("/_bulk_create"))
    assert saved.headers["osd-xsrf"] == "true" and saved.query == {"overwrite": ["true"]}
    assert {t for (_, t, _) in state.saved_objects} == {"index-pattern", "search", "visualization", "dashboard"}
    # AND the result is the stable physical id with the written parts
    assert result["PhysicalResourceId"] == f"{ENDPOINT}/opensearch-setup"
    changed = result["Data"]["Changed"].split(",")
    assert "internal_user:admin" in changed and "ism_policy:logs-retention" in changed and len(changed) == 14


def test_a_second_run_that_changes_nothing_sends_no_changing_request(aws, stub, secret_arn):
    # GIVEN a domain already set up
    props = properties(stub, secret_arn)
    first = run("Create", props)
    stub.clear_requests()
    # WHEN the same properties are applied again (an Update of something else in the stack)
    result = run("Update", props, old=props, physical_id=first["PhysicalResourceId"])
    # THEN only reads went out (GETs and the read-only _bulk_get), all signed: no password was sent
    assert writes(stub) == []
    assert basic_auth(stub) == [] and all(r.signature_ok for r in stub.requests)
    assert {r.method for r in stub.requests} <= {"GET", "POST"}
    assert [r.route for r in stub.requests if r.method == "POST"] == ["/_dashboards/api/saved_objects/_bulk_get"]
    assert result == {"PhysicalResourceId": first["PhysicalResourceId"], "Data": {"Changed": "none"}}


def test_an_update_writes_only_what_differs_and_updates_the_policy_with_its_seq_no(aws, stub, secret_arn,
                                                                                    monkeypatch):
    # GIVEN a domain set up with 30 days retention and 1 replica, with one index under the policy
    props = properties(stub, secret_arn)
    stub.state.indices["logs-2026-11-20"] = None
    run("Create", props)
    policy_before = stub.state.policies["logs-retention"]
    stub.clear_requests()
    # WHEN the retention and the replicas change (a deployment changes the configuration and the event alike)
    new = properties(stub, secret_arn,
                     IsmPolicy={**props["IsmPolicy"], "DeleteAfterDays": "90", "WarmAfterDays": "7"},
                     IndexTemplate={**props["IndexTemplate"], "Replicas": "2"})
    configure(monkeypatch, secret_arn, {name: new[name] for name in INDEX_PARTS})
    result = run("Update", new, old=props, physical_id=f"{ENDPOINT}/opensearch-setup")
    # THEN exactly the template and the policy were written, the policy conditionally, and the
    # index already managed was switched to the new version
    assert writes(stub) == ["PUT /_index_template/logs", "PUT /_plugins/_ism/policies/logs-retention",
                            "POST /_plugins/_ism/change_policy/logs*"]
    assert stub.changing_requests()[-1].json() == {"policy_id": "logs-retention"}
    ism_put = next(r for r in stub.changing_requests() if "_ism" in r.route)
    assert ism_put.query == {"if_seq_no": [str(policy_before["_seq_no"])],
                             "if_primary_term": [str(policy_before["_primary_term"])]}
    states = stub.state.policies["logs-retention"]["policy"]["states"]
    assert [s["name"] for s in states] == ["hot", "warm", "delete"]
    assert stub.state.templates["logs"]["template"]["settings"]["index"]["number_of_replicas"] == 2
    assert result["Data"]["Changed"] == "index_template:logs,ism_policy:logs-retention,ism_change_policy:1"


def test_a_new_policy_is_attached_to_indices_that_exist_already(aws, stub, secret_arn):
    # GIVEN an index Firehose created before the policy existed, and one managed by another policy
    stub.state.policies["other"] = {"_version": 1, "_seq_no": 0, "_primary_term": 1, "policy": {}}
    stub.state.indices.update({"logs-2026-11-21": None, "logs-archive": "other", "metrics-1": None})
    # WHEN the resource is created
    result = run("Create", properties(stub, secret_arn))
    # THEN the unmanaged log index got the policy; the other one and non-matching indices are left alone
    assert stub.state.indices == {"logs-2026-11-21": "logs-retention", "logs-archive": "other", "metrics-1": None}
    add = next(r for r in stub.requests if r.route.startswith("/_plugins/_ism/add/"))
    assert add.route == "/_plugins/_ism/add/logs*" and add.signature_ok
    assert "ism_add:1" in result["Data"]["Changed"].split(",")


def test_5xx_answers_are_retried_and_the_setup_completes(aws, stub, secret_arn):
    # GIVEN a domain whose security API answers 503 twice and drops one connection
    stub.fail_next(2, status=503, path_prefix="/_plugins/_security/api/roles/")
    stub.fail_next(1, status=0, path_prefix="/_index_template/")
    # WHEN the resource is created
    run("Create", properties(stub, secret_arn))
    # THEN the failed attempts were repeated and the state is complete
    role_calls = [r.status for r in stub.requests if r.route.startswith("/_plugins/_security/api/roles/")]
    assert role_calls[:3] == [503, 503, 404]
    template_calls = [r.status for r in stub.requests if r.route.startswith("/_index_template/")]
    assert template_calls[:2] == [0, 404]
    assert "log_constructs_firehose_writer" in stub.state.roles and "logs" in stub.state.templates


def test_a_domain_that_keeps_failing_fails_the_deployment_with_a_clear_reason(aws, stub, secret_arn, monkeypatch):
    # GIVEN a domain that answers 500 to every index-template request
    monkeypatch.setenv("OPENSEARCH_SETUP_MAX_ATTEMPTS", "3")
    stub.fail_next(100, status=500, path_prefix="/_index_template/")
    # WHEN the resource is created THEN the reason names the request, the attempts and the answer
    with pytest.raises(SetupError, match=r"^GET /_index_template/logs still failing after 3 attempts; last: HTTP 500"):
        run("Create", properties(stub, secret_arn))


def test_the_admin_password_never_reaches_the_logs(aws, stub, secret_arn, capsys, caplog, monkeypatch):
    # GIVEN captured logs at every level
    caplog.set_level(logging.DEBUG)
    # WHEN the set-up fails after signing in as admin (a new domain), then runs through successfully
    monkeypatch.setenv("OPENSEARCH_SETUP_MAX_ATTEMPTS", "3")
    stub.fail_next(3, status=503, path_prefix="/_plugins/_security/api/rolesmapping/security_manager")
    with pytest.raises(SetupError) as raised:
        run("Create", properties(stub, secret_arn))
    assert any(r.basic_auth for r in stub.requests)  # the password was used
    result = run("Create", properties(stub, secret_arn))
    # THEN the password went to the domain, but into no log line, no result and no error message
    assert stub.state.passwords["admin"] == PASSWORD
    captured = capsys.readouterr()
    logged = captured.out + captured.err + caplog.text
    assert "opensearch set-up" in logged  # the logs were captured at all
    token = base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
    for secret in (PASSWORD, token):
        assert secret not in logged
        assert secret not in json.dumps(result) and secret not in str(raised.value)


def test_a_new_domain_refuses_the_function_until_it_maps_its_role_as_admin(aws, stub, secret_arn):
    # GIVEN a new domain: the function's role is mapped to nothing
    # WHEN the custom resource is created
    run("Create", properties(stub, secret_arn))
    # THEN the first signed read of a mapping was refused (403: the bootstrap is needed), then only the two
    # admin mappings were read and merged as admin (basic auth), and everything after was signed and allowed
    assert stub.requests[0].route == ADMIN_MAPPINGS[0] and stub.requests[0].status == 403
    assert basic_auth(stub) == [f"GET {ADMIN_MAPPINGS[0]} 200", f"GET {ADMIN_MAPPINGS[1]} 200",
                                f"PUT {ADMIN_MAPPINGS[0]} 200", f"PUT {ADMIN_MAPPINGS[1]} 200"]
    last_basic = max(i for i, r in enumerate(stub.requests) if r.basic_auth)
    after = stub.requests[last_basic + 1:]
    assert after and all(r.signature_ok and r.principal == f"role:{MASTER_ROLE}" and r.status not in (401, 403)
                     for r in after)


def test_without_the_bootstrap_a_new_domain_refuses_the_signed_set_up(aws, stub):
    # GIVEN a new domain WHEN the function's role signs a template or ISM call before it is mapped
    from opensearch_setup.signed_http import SignedClient
    import boto3

    client = SignedClient(stub.url, REGION, boto3.Session().get_credentials)
    # THEN fine-grained access control refuses it
    for path in ("/_index_template/logs", "/_plugins/_ism/policies/logs", ADMIN_MAPPINGS[0]):
        with pytest.raises(SetupError, match=f"GET {path} failed with HTTP 403"):
            client.get_json(path)
    # AND basic auth passes only on the paths the access policy opens, and only with the right password
    with pytest.raises(SetupError, match="HTTP 401"):
        client.with_basic_auth("admin", "wrong-Pa55word!").get_json(ADMIN_MAPPINGS[0])
    with pytest.raises(SetupError, match="GET /_index_template/logs failed with HTTP 403: .*anonymous"):
        client.with_basic_auth("admin", PASSWORD).get_json("/_index_template/logs")
    assert client.with_basic_auth("admin", PASSWORD).get_json(ADMIN_MAPPINGS[0])["all_access"]["users"] == ["admin"]


def test_a_secret_that_differs_from_the_new_domains_password_fails_with_a_clear_reason(aws, stub, secret_arn):
    # GIVEN a new domain whose admin password is not the secret's
    stub.state.passwords["admin"] = "0ther-Pa55word!x"
    # WHEN created THEN the reason says the login was refused, names the secret, and shows no password
    with pytest.raises(SetupError, match=r"refused the login of its master user 'admin' \(HTTP 401\)") as raised:
        run("Create", properties(stub, secret_arn))
    assert secret_arn in str(raised.value) and PASSWORD not in str(raised.value)
    assert writes(stub) == []


def test_a_rotated_secret_updates_the_admin_user_once(aws, stub, secret_arn):
    # GIVEN a set-up domain, then a rotated secret
    props = properties(stub, secret_arn)
    run("Create", props)
    aws.client("secretsmanager", direct=True).put_secret_value(
        SecretId=secret_arn, SecretString=json.dumps({"username": "admin", "password": "N3w-Pa55word!x"}))
    stub.clear_requests()
    # WHEN the resource is updated twice
    run("Update", props, old=props)
    first_writes = writes(stub)
    stub.clear_requests()
    run("Update", props, old=props)
    # THEN the first run wrote the user with the new password, the second nothing
    assert first_writes == ["PUT /_plugins/_security/api/internalusers/admin"]
    assert stub.state.passwords["admin"] == "N3w-Pa55word!x"
    assert writes(stub) == []


def test_mappings_people_added_are_kept_and_a_stale_firehose_role_is_replaced(aws, stub, secret_arn):
    # GIVEN all_access also mapped to a person's user, and the writer mapped to an old Firehose role
    stub.state.mappings["all_access"]["users"] = ["admin", "alice"]
    stub.state.mappings["log_constructs_firehose_writer"] = {"backend_roles": ["arn:aws:iam::123456789012:role/old"],
                                                             "hosts": [], "users": []}
    # WHEN the resource is created
    run("Create", properties(stub, secret_arn))
    # THEN alice and the master role stay on all_access; the writer is mapped to the current role only
    assert stub.state.mappings["all_access"]["users"] == ["admin", "alice"]
    assert stub.state.mappings["all_access"]["backend_roles"] == [MASTER_ROLE]
    assert stub.state.mappings["log_constructs_firehose_writer"]["backend_roles"] == [FIREHOSE_ROLE]


def test_an_unreadable_secret_fails_before_the_user_is_touched(aws, stub, monkeypatch):
    # GIVEN a secret ARN that does not exist
    missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:absent-AbCdEf"
    configure(monkeypatch, missing)
    # WHEN the resource is created THEN the reason names the secret and no user was written
    with pytest.raises(SetupError, match="cannot read the admin secret arn:aws:secretsmanager:.*absent"):
        run("Create", properties(stub, missing))
    assert not any("internalusers" in w for w in writes(stub))


def test_optional_parts_can_be_left_out(aws, stub, secret_arn, monkeypatch):
    # GIVEN a function configured with only the security part
    configure(monkeypatch, secret_arn, {})
    props = properties(stub, secret_arn)
    for part in ("IndexTemplate", "IsmPolicy", "Dashboards"):
        props.pop(part)
    # WHEN created THEN no template, policy or saved-object request was sent
    run("Create", props)
    assert all(r.route.startswith("/_plugins/_security/") for r in stub.requests)


def test_delete_leaves_the_domain_alone(aws, stub, secret_arn):
    # GIVEN a set-up domain
    props = properties(stub, secret_arn)
    run("Create", props)
    stub.clear_requests()
    # WHEN the resource is deleted THEN no request is sent and the same id is returned
    result = run("Delete", props, physical_id=f"{ENDPOINT}/opensearch-setup")
    assert stub.requests == []
    assert result["PhysicalResourceId"] == f"{ENDPOINT}/opensearch-setup"


def test_the_endpoint_override_is_refused_in_production(aws, stub, secret_arn, monkeypatch):
    # GIVEN the test switch is off (as in every deployed function)
    monkeypatch.delenv(ENDPOINT_OVERRIDE_ENV)
    # WHEN properties carry an Endpoint THEN the deployment fails and nothing is sent
    with pytest.raises(SetupError, match="Endpoint is a test-only override"):
        run("Create", properties(stub, secret_arn))
    assert stub.requests == []


def _as_cloudformation_passes_it(value, resolve):
    """Resolve intrinsic functions with ``resolve`` and turn every scalar into a string, as CloudFormation does."""
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("Ref", "Fn::GetAtt"):
        return resolve(value)
    if isinstance(value, dict):
        return {k: _as_cloudformation_passes_it(v, resolve) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_cloudformation_passes_it(v, resolve) for v in value]
    return value if isinstance(value, str) else json.dumps(value)


def test_the_properties_logpipeline_synthesizes_drive_the_handler(aws, stub, monkeypatch):
    # GIVEN the custom resource properties of a synthesized LogPipeline (plain generated password secret)
    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    from log_constructs import LogPipeline

    stack = cdk.Stack(cdk.App(), "Contract", env=cdk.Environment(account="123456789012", region=REGION))
    LogPipeline(stack, "Logs", index="app-logs", index_delete_after_days=14)
    (resource,) = Template.from_stack(stack).find_resources("Custom::OpenSearchSetup").values()
    secret = aws.client("secretsmanager", direct=True).create_secret(Name="generated", SecretString=PASSWORD)["ARN"]

    def resolve(intrinsic: dict) -> str:
        (fn, arg), = intrinsic.items()
        target = arg if fn == "Ref" else arg[0]
        if target == "AWS::Region":
            return REGION
        if "Secret" in target:
            return secret
        if fn == "Fn::GetAtt" and arg[1] == "DomainEndpoint":
            return ENDPOINT
        return f"arn:aws:iam::123456789012:role/{target}"

    props = _as_cloudformation_passes_it(
        {k: v for k, v in resource["Properties"].items() if k != "ServiceToken"}, resolve)
    props["Endpoint"] = stub.url
    # AND the set-up function's environment as synthesized (the security values' only source)
    (function,) = [f for f in Template.from_stack(stack).find_resources("AWS::Lambda::Function").values()
                   if "OPENSEARCH_SETUP_MASTER_ROLE_ARN" in f["Properties"].get("Environment", {}).get("Variables", {})]
    for name, value in _as_cloudformation_passes_it(function["Properties"]["Environment"]["Variables"],
                                                    resolve).items():
        monkeypatch.setenv(name, value)
    # AND the function signs as the synthesized role (what the new domain knows nothing of yet)
    stub.key_roles["testing"] = setup.os.environ["OPENSEARCH_SETUP_MASTER_ROLE_ARN"]
    # WHEN CloudFormation creates it
    result = run("Create", props)
    # THEN every part was applied from those properties
    assert set(result["Data"]["Changed"].split(",")) >= {
        "index_template:app-logs", "ism_policy:app-logs-lifecycle", "internal_user:admin",
        "role:log_constructs_firehose_writer", "role_mapping:log_constructs_firehose_writer"}
    assert stub.state.passwords["admin"] == PASSWORD
    assert stub.state.templates["app-logs"]["index_patterns"] == ["app-logs*"]
    delete = stub.state.policies["app-logs-lifecycle"]["policy"]["states"][0]["transitions"][0]
    assert delete["conditions"]["min_index_age"] == "14d"
    assert stub.state.mappings["log_constructs_firehose_writer"]["backend_roles"][0].startswith(
        "arn:aws:iam::123456789012:role/LogsDeliveryRole")
    assert stub.state.mappings["all_access"]["backend_roles"] == [stub.key_roles["testing"]]


def test_an_answer_of_an_unexpected_shape_fails_with_a_named_reason(aws, stub, secret_arn, monkeypatch):
    # GIVEN an ISM policy whose GET answer lacks _seq_no (a domain answering in another shape)
    props = properties(stub, secret_arn)
    run("Create", props)
    del stub.state.policies["logs-retention"]["_seq_no"]
    changed = properties(stub, secret_arn, IsmPolicy={**props["IsmPolicy"], "DeleteAfterDays": "60"})
    configure(monkeypatch, secret_arn, {name: changed[name] for name in INDEX_PARTS})
    # WHEN the policy is updated THEN the deployment fails with the error's type and message
    with pytest.raises(SetupError, match="opensearch set-up failed unexpectedly: KeyError: '_seq_no'"):
        run("Update", changed, old=props)


ATTACKER_ROLE = "arn:aws:iam::123456789012:role/SomeoneWhoMayInvokeTheFunction"


@pytest.mark.parametrize("forged", [
    {"MasterRoleArn": ATTACKER_ROLE},
    {"WriterBackendRoles": [ATTACKER_ROLE]},
    {"WriterBackendRoles": []},
    {"WriterRoleName": "all_access"},
    {"IndexPatterns": ["*"]},
    {"AdminUser": "mallory"},
    {"AdminSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:mine-AbCdEf"},
], ids=lambda forged: next(iter(forged)))
def test_a_forged_update_event_changes_no_role_mapping(aws, stub, secret_arn, forged):
    # GIVEN a set-up domain
    props = properties(stub, secret_arn)
    run("Create", props)
    before = copy.deepcopy(stub.state)
    stub.clear_requests()
    # WHEN someone who may invoke the function sends an Update whose Security differs from the configuration
    forged_props = properties(stub, secret_arn, Security={**props["Security"], **forged})
    with pytest.raises(SetupError) as refused:
        run("Update", forged_props, old=props, physical_id=f"{ENDPOINT}/opensearch-setup")
    # THEN it is refused with a clear reason that names the field, before any request
    field = next(iter(forged))
    assert f"Security.{field}" in str(refused.value)
    assert "differ from the function's deploy-time configuration" in str(refused.value)
    assert stub.requests == []
    # AND no mapping, role or user changed: the attacker is not an admin, Firehose keeps its writer mapping
    assert stub.state == before
    assert ATTACKER_ROLE not in json.dumps(stub.state.mappings)
    assert stub.state.mappings["log_constructs_firehose_writer"]["backend_roles"] == [FIREHOSE_ROLE]


def test_an_event_cannot_add_security_to_a_function_configured_without_it(aws, stub, secret_arn, monkeypatch):
    # GIVEN a function whose configuration holds no security values
    for name in ("MASTER_ROLE_ARN", "WRITER_ROLE_NAME", "WRITER_BACKEND_ROLES", "INDEX_PATTERNS", "ADMIN_USER",
                 "ADMIN_SECRET_ARN"):
        monkeypatch.delenv(f"OPENSEARCH_SETUP_{name}")
    # WHEN an event brings its own Security THEN it is refused and nothing is sent
    with pytest.raises(SetupError, match="security values come only from the deploy-time configuration"):
        run("Create", properties(stub, secret_arn))
    assert stub.requests == []


def test_an_event_for_another_domain_is_refused(aws, stub, secret_arn):
    # GIVEN a function configured for one domain
    # WHEN an event names another domain (where the admin password would go) THEN it is refused, nothing is sent
    with pytest.raises(SetupError, match="DomainEndpoint 'search-evil.*' differs from the function's configuration"):
        run("Create", properties(stub, secret_arn, DomainEndpoint="search-evil.us-east-1.es.amazonaws.com"))
    assert stub.requests == []


def test_the_security_part_follows_the_configuration_when_the_event_omits_it(aws, stub, secret_arn):
    # GIVEN an event without Security
    props = properties(stub, secret_arn)
    props.pop("Security")
    # WHEN created THEN the configured roles are mapped all the same
    run("Create", props)
    assert stub.state.mappings["log_constructs_firehose_writer"]["backend_roles"] == [FIREHOSE_ROLE]
    assert stub.state.mappings["all_access"]["backend_roles"] == [MASTER_ROLE]


def test_the_security_plugin_audit_logging_is_switched_on_without_request_bodies(aws, stub, secret_arn):
    # GIVEN a new domain whose security plugin writes no audit events (its published audit log stays empty)
    assert stub.state.audit["enabled"] is False
    # WHEN the resource is created
    result = run("Create", properties(stub, secret_arn))
    # THEN audit logging is on for REST and transport, without request bodies (a user PUT holds a password)
    audit = stub.state.audit
    assert audit["enabled"] is True
    assert audit["audit"]["enable_rest"] is True and audit["audit"]["enable_transport"] is True
    assert audit["audit"]["log_request_body"] is False
    # AND the rest of the configuration is kept, read-only fields untouched
    assert audit["audit"]["ignore_users"] == ["kibanaserver"] and audit["compliance"]["internal_config"] is True
    assert "audit_config" in result["Data"]["Changed"].split(",")
    put = [r for r in stub.changing_requests() if r.route == "/_plugins/_security/api/audit/config"]
    assert len(put) == 1 and put[0].method == "PUT" and put[0].signature_ok
    # AND a second run leaves it alone
    stub.clear_requests()
    run("Update", properties(stub, secret_arn), old=properties(stub, secret_arn))
    assert writes(stub) == []


def test_audit_logging_switched_off_by_hand_is_switched_on_again(aws, stub, secret_arn):
    # GIVEN a set-up domain whose audit logging someone turned off
    run("Create", properties(stub, secret_arn))
    stub.state.audit["enabled"] = False
    stub.clear_requests()
    # WHEN the resource is updated THEN only the audit configuration is written, and it is on
    run("Update", properties(stub, secret_arn), old=properties(stub, secret_arn))
    assert writes(stub) == ["PUT /_plugins/_security/api/audit/config"]
    assert stub.state.audit["enabled"] is True


@pytest.mark.parametrize("part, forged", [
    ("IsmPolicy", {"IndexPatterns": ["*"], "DeleteAfterDays": "1", "Priority": "1000000"}),
    ("IndexTemplate", {"IndexPatterns": ["*"], "Priority": "1000000"}),
    ("Dashboards", {"Tenant": "admin_tenant"}),
    ("Dashboards", {"IndexPattern": "*"}),
], ids=["ism-delete-everything", "template-everything", "dashboards-tenant", "dashboards-pattern"])
def test_a_forged_event_changes_no_index_setting(aws, stub, secret_arn, part, forged):
    # GIVEN a set-up domain with indices of the pipeline and of other teams
    stub.state.indices.update({"logs-2026-11-21": None, "orders-2026-11-21": None, ".kibana_1": None})
    props = properties(stub, secret_arn)
    run("Create", props)
    before = copy.deepcopy(stub.state)
    stub.clear_requests()
    # WHEN someone who may invoke the function sends an event whose index part differs from the configuration
    with pytest.raises(SetupError) as refused:
        run("Update", properties(stub, secret_arn, **{part: {**props[part], **forged}}), old=props)
    # THEN it is refused before any request, naming each field that differs
    for field in forged:
        assert f"{part}.{field}" in str(refused.value)
    assert "differ from the function's deploy-time configuration" in str(refused.value)
    assert stub.requests == []
    # AND no index got a policy, no template or saved object changed
    assert stub.state == before
    assert stub.state.indices["orders-2026-11-21"] is None


def test_an_event_cannot_add_an_index_part_the_configuration_leaves_out(aws, stub, secret_arn, monkeypatch):
    # GIVEN a function configured without a lifecycle policy
    configure(monkeypatch, secret_arn, {name: INDEX_PARTS[name] for name in ("IndexTemplate", "Dashboards")})
    # WHEN an event brings one THEN it is refused and nothing is sent
    with pytest.raises(SetupError, match="IsmPolicy is given, but the function's configuration has no IsmPolicy"):
        run("Create", properties(stub, secret_arn))
    assert stub.requests == []


def test_the_index_parts_follow_the_configuration_when_the_event_omits_them(aws, stub, secret_arn):
    # GIVEN an event with no index parts
    props = {k: v for k, v in properties(stub, secret_arn).items() if k not in INDEX_PARTS}
    # WHEN created THEN the configured template, policy and saved objects are written all the same
    result = run("Create", props)
    assert {"index_template:logs", "ism_policy:logs-retention"} <= set(result["Data"]["Changed"].split(","))
    assert "logs" in stub.state.templates and stub.state.saved_objects


def test_index_patterns_are_url_quoted_in_paths(aws, stub, secret_arn, monkeypatch):
    # GIVEN a configured policy whose patterns hold characters that mean something in a URL
    patterns = ["logs*", "audit#1*", "a?b*"]
    configure(monkeypatch, secret_arn, {**INDEX_PARTS, "IsmPolicy": {**INDEX_PARTS["IsmPolicy"], "IndexPatterns": patterns}})
    stub.state.indices.update({"audit#1-x": None, "a?b-x": None})
    props = properties(stub, secret_arn)
    props["IsmPolicy"]["IndexPatterns"] = patterns
    # WHEN created
    run("Create", props)
    # THEN the attach request names every pattern in its path, quoted, with nothing cut off as a query or fragment
    add = next(r for r in stub.requests if r.route.startswith("/_plugins/_ism/add/"))
    assert add.path == "/_plugins/_ism/add/logs*,audit%231*,a%3Fb*"
    assert stub.state.indices["audit#1-x"] == stub.state.indices["a?b-x"] == "logs-retention"
