"""The SigV4-signed client of the OpenSearch set-up against a real HTTP server on 127.0.0.1."""
from __future__ import annotations

import pytest
from botocore.credentials import Credentials

from logship.retry import Backoff
from opensearch_setup.signed_http import SetupError, SignedClient
from tests.support.opensearch_stub import OpenSearchStub

KEYS = {"AKIDEXAMPLE": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}


@pytest.fixture
def stub():
    with OpenSearchStub(secret_keys=KEYS) as server:
        yield server


def client_for(stub: OpenSearchStub, *, secret: str = KEYS["AKIDEXAMPLE"], attempts: int = 4,
               sleeps: list | None = None) -> SignedClient:
    credentials = Credentials("AKIDEXAMPLE", secret, "session-token")
    return SignedClient(stub.url, "eu-west-1", lambda: credentials,
                        retry=Backoff(max_attempts=attempts, base_s=0.5, max_s=2.0),
                        sleep=(sleeps.append if sleeps is not None else lambda s: None), timeout=5)


def test_requests_are_signed_for_the_es_service_and_the_region(stub):
    # GIVEN a client with credentials the server knows
    client = client_for(stub)
    # WHEN it writes and reads a role
    client.request("PUT", "/_plugins/_security/api/roles/writer", {"cluster_permissions": ["cluster_monitor"]})
    answer = client.get_json("/_plugins/_security/api/roles/writer")
    # THEN the server verified both signatures, scoped to es in eu-west-1, with the session token
    assert answer["writer"]["cluster_permissions"] == ["cluster_monitor"]
    assert [r.signature_ok for r in stub.requests] == [True, True]
    for request in stub.requests:
        assert request.signature_scope["service"] == "es"
        assert request.signature_scope["region"] == "eu-west-1"
        assert request.headers["x-amz-date"].startswith(request.signature_scope["date"])
        assert request.headers["x-amz-security-token"] == "session-token"
    assert stub.requests[0].headers["content-type"] == "application/json"


def test_a_wrong_signature_is_refused_and_not_retried(stub):
    # GIVEN a client signing with a secret key the server does not know
    client = client_for(stub, secret="not-the-key")
    # WHEN it calls THEN the 403 becomes a clear error naming the request, after one attempt
    with pytest.raises(SetupError, match=r"^GET /_index_template/t failed with HTTP 403: .*signature"):
        client.get_json("/_index_template/t")
    assert len(stub.requests) == 1


def test_5xx_and_429_are_retried_with_growing_bounded_backoff(stub):
    # GIVEN a domain that answers 503, 502 and 429 before it recovers
    sleeps: list[float] = []
    client = client_for(stub, attempts=4, sleeps=sleeps)
    stub.fail_next(1, status=503)
    stub.fail_next(1, status=502)
    stub.fail_next(1, status=429)
    # WHEN a request is made
    answer = client.get_json("/_index_template/absent")
    # THEN it succeeded on the fourth attempt, with full-jitter waits within 0.5, 1 and 2 seconds
    assert answer is None  # 404: absent
    assert [r.status for r in stub.requests] == [503, 502, 429, 404]
    assert len(sleeps) == 3
    assert all(0 <= s <= cap for s, cap in zip(sleeps, (0.5, 1.0, 2.0)))


def test_dropped_connections_are_retried(stub):
    # GIVEN a domain that drops the connection twice
    client = client_for(stub)
    stub.fail_next(2, status=0)
    # WHEN a document is written THEN the third attempt lands it
    client.request("PUT", "/_index_template/t", {"index_patterns": ["logs*"]})
    assert [r.status for r in stub.requests] == [0, 0, 200]
    assert stub.state.templates["t"] == {"index_patterns": ["logs*"]}


def test_giving_up_names_the_request_the_attempts_and_the_last_answer(stub):
    # GIVEN a domain that keeps answering 503
    client = client_for(stub, attempts=3)
    stub.fail_next(10, status=503)
    # WHEN a request is made THEN the error says what failed and how often
    with pytest.raises(SetupError) as raised:
        client.request("PUT", "/_plugins/_ism/policies/p", {"policy": {}})
    assert str(raised.value).startswith("PUT /_plugins/_ism/policies/p still failing after 3 attempts; last: HTTP 503")
    assert len(stub.requests) == 3


def test_client_errors_are_not_retried_and_request_bodies_stay_out_of_the_message(stub):
    # GIVEN a user without password (the stub answers 400 like OpenSearch)
    client = client_for(stub)
    # WHEN the PUT is refused THEN the error carries the domain's answer, not what was sent
    with pytest.raises(SetupError) as raised:
        client.request("PUT", "/_plugins/_security/api/internalusers/bob", {"attributes": {"hint": "topsecret"}})
    assert "HTTP 400" in str(raised.value) and "specify either 'hash' or 'password'" in str(raised.value)
    assert "topsecret" not in str(raised.value)
    assert len(stub.requests) == 1


def test_an_endpoint_that_is_not_http_is_refused():
    with pytest.raises(SetupError, match="not an http\\(s\\) URL"):
        SignedClient("ftp://example.com", "eu-west-1", lambda: None)


def test_a_basic_auth_copy_retries_like_the_signed_client_and_leaves_it_signing():
    # GIVEN a new domain (internal master user admin) that answers 503 once on the role mappings
    with OpenSearchStub(secret_keys=KEYS, admin_password="Adm1n-Pa55word!7zQ") as domain:
        domain.fail_next(1, status=503, path_prefix="/_plugins/_security/api/rolesmapping/")
        client = client_for(domain)
        # WHEN a basic-auth copy reads a mapping, then the original reads it
        as_admin = client.with_basic_auth("admin", "Adm1n-Pa55word!7zQ")
        mapping = as_admin.get_json("/_plugins/_security/api/rolesmapping/all_access")
        with pytest.raises(SetupError, match="HTTP 403"):
            client.get_json("/_plugins/_security/api/rolesmapping/all_access")
    # THEN the copy retried the 503 with basic auth and got the mapping; the original still signs
    assert mapping["all_access"]["users"] == ["admin"]
    assert [(r.basic_auth, r.status) for r in domain.requests] == [(True, 503), (True, 200), (False, 403)]
    assert domain.requests[-1].signature_ok


def test_basic_auth_is_refused_over_plain_http_to_another_host():
    # GIVEN a client for a plain-HTTP endpoint that is not this machine
    client = SignedClient("http://search-logs.example.com", "eu-west-1", lambda: None)
    # WHEN basic auth is asked for THEN it is refused: a password never crosses a network in clear text
    with pytest.raises(SetupError, match=r"basic authentication needs HTTPS, not http://search-logs\.example\.com"):
        client.with_basic_auth("admin", "secret")
