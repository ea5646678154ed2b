"""The ``_bulk`` writer on its own, over the signed client: a connection that hangs, ids off, time bounds."""
from __future__ import annotations

from logship.retry import Backoff
from opensearch_client.bulk import BulkTarget, BulkWriter, Document
from opensearch_client.signed_http import SignedClient
from tests.support.opensearch_stub import OpenSearchStub

INDEX = "app-logs"
KEYS = {"testing": "testing"}


def credentials():
    from botocore.credentials import Credentials
    return Credentials("testing", "testing")


def test_a_connection_that_hangs_times_out_and_is_retried():
    with OpenSearchStub(secret_keys=KEYS) as domain:
        # GIVEN the first request never answers
        domain.hang_next(1, seconds=2.0, path_prefix="/_bulk")
        client = SignedClient(domain.url, "us-east-1", credentials, timeout=0.3)
        writer = BulkWriter(client, BulkTarget(INDEX), backoff=Backoff(max_attempts=3, base_s=0.01, max_s=0.01))
        # WHEN written
        result = writer.write([Document("a", b'{"@timestamp":"2026-01-01T00:00:00.000Z","id":"a"}\n',
                                        "2026-01-01T00:00:00.000Z")])
        # THEN the attempt timed out, the next delivered
        assert result.delivered == ["a"] and result.requests == 2 and "timed out" in result.errors[0]
        assert domain.spec_violations == []


def test_without_ids_the_service_assigns_them_and_the_collection_signature_is_aoss():
    with OpenSearchStub(secret_keys=KEYS) as domain:
        client = SignedClient(domain.url, "us-east-1", credentials, service="aoss")
        writer = BulkWriter(client, BulkTarget("logs", ids=False))
        result = writer.write([Document(f"k{i}", b'{"@timestamp":"2026-01-01T00:00:00.000Z"}', "2026-01-01T00:00:00.000Z")
                               for i in range(3)])
        assert result.delivered == ["k0", "k1", "k2"]
        (request,) = domain.requests
        assert request.signature_scope["service"] == "aoss" and b"_id" not in request.body
        assert domain.document_count() == 3 and domain.spec_violations == []


def test_each_request_gets_a_third_of_the_time_left_as_its_socket_timeout_and_the_end_as_its_deadline():
    import time

    seen = []

    class Transport:
        def send(self, method, path, body, headers, **bounds):
            seen.append(bounds)
            raise TimeoutError("timed out")

    writer = BulkWriter(Transport(), BulkTarget(INDEX), backoff=Backoff(max_attempts=2, base_s=0.0, max_s=0.0))
    before = time.monotonic()
    result = writer.write([Document("a", b'{"id":"a"}', "2026-01-01T00:00:00.000Z")], budget_s=lambda: 30.0)
    # THEN both attempts share the end of the budget; the first has a third of it per operation
    assert len(seen) == 2 and seen[0]["deadline"] == seen[1]["deadline"]
    assert before + 30 <= seen[0]["deadline"] <= time.monotonic() + 30
    assert 9.9 <= seen[0]["timeout"] <= 10.0 and seen[1]["timeout"] <= seen[0]["timeout"]
    # AND without a clock nothing changes for the transport; a request left unanswered with time to spare fails
    assert result.failed == ["a"] and result.late == []
