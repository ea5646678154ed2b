"""Property-based tests of the OpenSearch set-up custom resource's event decoding and document building.

Any ``ResourceProperties`` are parsed into settings or refused with a ``SetupError`` (a clear
CloudFormation failure), never another exception; valid settings become JSON documents the domain
accepts, and a document always matches itself (so a second run changes nothing).
"""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opensearch_setup import contract, documents, props
from opensearch_setup.signed_http import SetupError

PROPERTY = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
words = st.from_regex(r"[a-z][a-z0-9_-]{0,20}", fullmatch=True)
number = lambda low, high: st.integers(low, high).flatmap(lambda n: st.sampled_from([n, str(n)]))  # noqa: E731
valid_properties = st.fixed_dictionaries({
    "DomainEndpoint": st.just("search-logs-abc.eu-west-1.es.amazonaws.com"),
    "Region": st.just("eu-west-1"),
}, optional={
    "Security": st.fixed_dictionaries({
        "WriterRoleName": words, "WriterBackendRoles": st.lists(words.map(lambda w: f"arn:aws:iam::1:role/{w}"),
                                                                min_size=1, max_size=3),
        "IndexPatterns": st.lists(words.map(lambda w: f"{w}*"), min_size=1, max_size=3), "AdminUser": words,
        "AdminSecretArn": st.just("arn:aws:secretsmanager:eu-west-1:1:secret:s"), "MasterRoleArn": st.just("arn:aws:iam::1:role/m")}),
    "IndexTemplate": st.fixed_dictionaries({
        "Name": words, "IndexPatterns": st.lists(words.map(lambda w: f"{w}*"), min_size=1, max_size=3),
        "Shards": number(1, 1024), "Replicas": number(0, 15), "FieldLimit": number(100, 100_000)}),
    "IsmPolicy": st.tuples(st.integers(1, 100), st.integers(1, 100), st.integers(1, 100)).map(sorted).filter(
        lambda d: d[0] < d[1] < d[2]).flatmap(lambda d: st.fixed_dictionaries({
            "PolicyId": words, "IndexPatterns": st.lists(words.map(lambda w: f"{w}*"), min_size=1, max_size=2),
            "DeleteAfterDays": st.just(str(d[2]))}, optional={"WarmAfterDays": st.just(d[0]), "ColdAfterDays": st.just(d[1])})),
    "Dashboards": st.fixed_dictionaries({"IndexPattern": words.map(lambda w: f"{w}*")}),
})
sections = ["DomainEndpoint", "Region", "Endpoint", "Security", "IndexTemplate", "IsmPolicy", "Dashboards"]


@PROPERTY
@given(properties=st.dictionaries(st.sampled_from(sections), json_values, max_size=7)
       | valid_properties.flatmap(lambda p: st.sampled_from(sections).flatmap(
           lambda key: json_values.map(lambda v: {**p, key: v}))))
def test_any_resource_properties_parse_or_fail_with_a_setup_error(properties):
    # GIVEN ResourceProperties of any shape (sections of the wrong type, numbers as anything)
    try:
        parsed = props.parse(properties, {})
    except SetupError as error:
        # THEN a refusal names what is wrong ...
        assert "invalid ResourceProperties" in str(error)
        return
    # ... or the settings are typed
    assert isinstance(parsed, props.SetupSettings) and parsed.base_url.startswith("https://")


def configured_as(properties) -> dict[str, str]:
    """The function's environment holding the same values as the event (as the construct writes it)."""
    security = properties.get("Security")
    parts = {name: properties[name] for name in ("IndexTemplate", "IsmPolicy", "Dashboards") if name in properties}
    index_setup = json.dumps(parts) if parts else ""
    if security is None:
        return contract.SetupConfig(index_setup=index_setup).to_environment()
    return contract.SetupConfig(
        master_role_arn=security["MasterRoleArn"], writer_role_name=security["WriterRoleName"],
        writer_backend_roles=tuple(security["WriterBackendRoles"]), index_patterns=tuple(security["IndexPatterns"]),
        admin_user=security["AdminUser"], admin_secret_arn=security["AdminSecretArn"],
        index_setup=index_setup).to_environment()


@PROPERTY
@given(properties=valid_properties)
def test_valid_properties_become_documents_that_match_themselves(properties):
    # GIVEN valid ResourceProperties / WHEN parsed and turned into the documents the domain receives
    parsed = props.parse(properties, configured_as(properties))
    # THEN each is JSON, and matches itself: a second run would send no changing request
    if parsed.index_template is not None:
        body = documents.index_template(parsed.index_template)
        assert documents.template_matches(json.loads(json.dumps(body)), body)
        assert body["template"]["settings"] if "template" in body else body
    if parsed.ism is not None:
        policy = documents.ism_policy(parsed.ism)
        assert documents.policy_matches(json.loads(json.dumps(policy)), policy)
    if parsed.security is not None:
        role = documents.writer_role(parsed.security)
        assert documents.role_matches(json.loads(json.dumps(role)), role)
        mapping = documents.exact_mapping(parsed.security.writer_backend_roles)
        assert documents.mapping_matches(json.loads(json.dumps(mapping)), mapping)


@PROPERTY
@given(secret=st.text(max_size=200) | json_values.map(json.dumps))
def test_any_secret_value_gives_a_password_or_a_setup_error(secret):
    # GIVEN whatever the admin secret holds / THEN a password, or an error saying the secret is unusable
    try:
        password = documents.password_from_secret(secret)
    except (SetupError, ValueError) as error:
        assert "secret" in str(error)
        return
    assert isinstance(password, str) and password
