"""The log shipper in bulk mode: _bulk requests to a local OpenSearch stand-in (SigV4 checked, requests
checked against the API specification, faults injected), the archive through a real Firehose stream
of the emulator (S3 only), the dead-letter queue in SQS."""
from __future__ import annotations

import gzip
import json
from collections import Counter

import pytest

from log_shipper import handler as shipper
from log_shipper.contract import ConfigurationError, ShipperConfig, endpoint_url
from opensearch_client.bulk import BulkTarget, BulkWriter
from opensearch_client.signed_http import SignedClient
from tests.lambda_src.log_shipper.test_shipper import (  # noqa: F401
    Context, attributes, env, events, log_lines, record_puts)
from tests.lambda_src.log_shipper.test_shipper_kinesis import Clock, TimedContext, kinesis, stream_arn  # noqa: F401
from tests.support.opensearch_stub import OpenSearchStub
from tests.support.subscription import encode_payload, kinesis_event

INDEX = "app-logs"
KEYS = {"testing": "testing"}


@pytest.fixture
def domain():
    with OpenSearchStub(secret_keys=KEYS) as stub:
        yield stub
    assert stub.spec_violations == []  # every _bulk request followed the API specification


@pytest.fixture
def bulk(env, domain, monkeypatch):  # noqa: F811
    # GIVEN the shipper in bulk mode: _bulk to the domain, the Firehose stream as the archive
    monkeypatch.setenv("DELIVERY_MODE", "bulk")
    monkeypatch.setenv("DOMAIN_ENDPOINT", domain.url)
    monkeypatch.setenv("INDEX_NAME", INDEX)
    monkeypatch.setenv("INDEX_ROTATION", "day")
    monkeypatch.setenv("ALLOW_LOOPBACK_HTTP", "1")
    record_puts(env)
    env.domain = domain
    return env


def bulk_requests(domain: OpenSearchStub) -> list:
    return [r for r in domain.requests if r.route == "/_bulk"]


def ids_in(domain: OpenSearchStub) -> Counter:
    return Counter(source["id"] for docs in domain.state.documents.values() for source in docs.values())


# --- shipping -----------------------------------------------------------------------------------

def test_documents_are_indexed_with_the_event_id_and_archived_in_few_records(bulk):
    batch = events(1000)
    # WHEN a payload of 1,000 events is shipped
    result = bulk.invoke(encode_payload("/aws/lambda/orders", "s", batch))
    # THEN one signed _bulk request indexed each event once, _id = event id, in the index of its day
    assert result["status"] == "shipped" and result["delivered"] == 1000 and result["bulk_requests"] == 1
    (request,) = bulk_requests(bulk.domain)
    assert request.signature_ok and request.signature_scope["service"] == "es"
    assert request.headers["content-type"] == "application/x-ndjson"
    assert set(bulk.domain.state.documents) == {"app-logs-2025-11-22"}
    stored = bulk.domain.state.documents["app-logs-2025-11-22"]
    assert set(stored) == {e["id"] for e in batch} and all(stored[i]["id"] == i for i in stored)
    actions = [json.loads(line) for line in request.body.split(b"\n")[0:-1:2]]
    assert {next(iter(a)) for a in actions} == {"create"}
    # AND the archive holds the same documents in one gzip record (not 1,000 records)
    assert [len(put) for put in bulk.puts] == [1] and bulk.puts[0][0][:2] == b"\x1f\x8b"
    assert Counter(d["id"] for d in bulk.documents()) == Counter(e["id"] for e in batch)


def test_a_retry_in_a_new_execution_environment_makes_no_second_document(bulk):
    payload = encode_payload("/g", "s", events(50))
    assert bulk.invoke(payload)["delivered"] == 50
    # WHEN Lambda retries the same payload where the progress cache is empty
    shipper.forget_progress()
    result = bulk.invoke(payload)
    # THEN every document answers 409 (a duplicate skipped): the count is unchanged
    assert result["delivered"] == 0 and result["duplicates"] == 50
    assert bulk.domain.document_count() == 50 and set(ids_in(bulk.domain).values()) == {1}


@pytest.mark.parametrize("status", [429, 503, 0])
def test_a_whole_request_refused_for_load_or_a_dropped_connection_is_retried(bulk, status):
    # GIVEN the domain answers the next two _bulk requests with 429 / 503, or drops them
    bulk.domain.fail_next(2, status=status, path_prefix="/_bulk")
    # WHEN shipped / THEN delivered on the third attempt, each once
    result = bulk.invoke(encode_payload("/g", "s", events(20)))
    assert result["delivered"] == 20 and result["bulk_requests"] == 3
    assert bulk.domain.document_count() == 20


def test_per_document_failures_are_sent_again_alone(bulk):
    batch = events(10)
    # GIVEN three documents rejected (429, then 503) at their first two attempts
    bulk.domain.fail_documents([e["id"] for e in batch[:3]], [429, 503])
    # WHEN shipped
    result = bulk.invoke(encode_payload("/g", "s", batch))
    # THEN the later requests carry only those three; every event is in the domain once
    assert result["delivered"] == 10
    sizes = [len(r.body.split(b"\n")) // 2 for r in bulk_requests(bulk.domain)]
    assert sizes == [10, 3, 3]
    assert set(ids_in(bulk.domain).values()) == {1} and len(ids_in(bulk.domain)) == 10


def test_documents_refused_for_their_content_go_to_the_dead_letter_queue_with_the_reason(bulk):
    batch = events(5)
    # GIVEN the domain refuses two documents for their content
    bulk.domain.refuse_documents([batch[1]["id"], batch[3]["id"]])
    # WHEN shipped
    result = bulk.invoke(encode_payload("/aws/lambda/orders", "s", batch))
    # THEN the invocation succeeds, the others are indexed, the two wait in the dead-letter queue
    assert result["status"] == "shipped" and result["delivered"] == 3 and result["refused"] == 2
    (letter,) = bulk.dead_letters()
    attrs = attributes(letter)
    assert attrs["kind"] == "refused" and attrs["reason"].startswith("mapper_parsing_exception: failed to parse")
    body = json.loads(letter["Body"])
    assert body["logGroup"] == "/aws/lambda/orders"
    assert [d["document"]["id"] for d in body["documents"]] == [batch[1]["id"], batch[3]["id"]]
    assert all(d["reason"].startswith("mapper_parsing_exception") for d in body["documents"])
    # AND only one request was made: a refusal is never retried
    assert len(bulk_requests(bulk.domain)) == 1


def test_a_domain_that_keeps_failing_fails_the_invocation_and_the_retry_sends_only_the_rest(bulk, log_lines):
    batch = events(30)
    # GIVEN ten documents refused with 503 at every one of the writer's attempts
    bulk.domain.fail_documents([e["id"] for e in batch[:10]], [503] * 6)
    payload = encode_payload("/g", "s", batch)
    # WHEN shipped / THEN the invocation fails (Lambda retries it), naming the domain
    with pytest.raises(shipper.DeliveryError, match="10 of 30 records not delivered to http://127.0.0.1"):
        bulk.invoke(payload)
    assert bulk.domain.document_count() == 20
    (error,) = [line for line in log_lines() if line["level"] == "ERROR"]
    assert error["domain"] == bulk.domain.url and error["failed"] == 10
    # WHEN Lambda retries after the domain recovered
    bulk.domain.clear_requests()
    result = bulk.invoke(payload)
    # THEN only the ten are sent, and archived once
    assert result["delivered"] == 10 and result["already_delivered"] == 20 and result["retry"] is True
    assert [len(r.body.split(b"\n")) // 2 for r in bulk_requests(bulk.domain)] == [10]
    assert set(ids_in(bulk.domain).values()) == {1} and len(ids_in(bulk.domain)) == 30
    assert Counter(d["id"] for d in bulk.documents()) == Counter(e["id"] for e in batch)


def test_requests_are_bounded_in_bytes(bulk, monkeypatch):
    # GIVEN requests of at most 64 KiB and 200 events of about 1 KiB
    monkeypatch.setenv("BULK_MAX_BYTES", str(64 * 1024))
    result = bulk.invoke(encode_payload("/g", "s", events(200, size=1000)))
    # THEN several requests, none above the bound, every event once
    sizes = [len(r.body) for r in bulk_requests(bulk.domain)]
    assert result["delivered"] == 200 and len(sizes) >= 4 and max(sizes) <= 64 * 1024
    assert bulk.domain.document_count() == 200


def test_time_running_short_between_retries_defers_nothing_it_sent_and_fails_for_a_retry(bulk):
    # GIVEN the domain answers 503 to everything and time runs short after the first attempt
    bulk.domain.fail_next(100, status=503, path_prefix="/_bulk")
    clock = Clock(remaining_ms=60_000, step_ms=30_000)
    # WHEN shipped / THEN the writer stops retrying at the margin and the invocation fails
    with pytest.raises(shipper.DeliveryError):
        shipper.handler(encode_payload("/g", "s", events(5)), TimedContext(clock=clock))
    assert len(bulk_requests(bulk.domain)) == 1


# --- Kinesis batches share _bulk requests --------------------------------------------------------

def test_a_kinesis_batch_shares_requests_and_names_only_the_records_not_delivered(bulk, monkeypatch):
    monkeypatch.setenv("INGESTION_STREAM_REGIONS", json.dumps({"log-constructs-central-eu-west-1": "eu-west-1"}))
    payloads = [encode_payload("/g", f"s{n}", events(50, prefix=f"k{n:03d}-")) for n in range(100)]
    event = kinesis_event(payloads, stream_arn("eu-west-1"))
    # GIVEN record 40's events keep failing
    bulk.domain.fail_documents([f"k040-{i:06d}" for i in range(50)], [503] * 6)
    # WHEN shipped
    result = shipper.handler(event, Context())
    # THEN 5,000 documents went in one request per round (not per record), one archive call
    assert len(bulk_requests(bulk.domain)) == 6 and len(bulk.puts) == 1
    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == [event["Records"][40]["kinesis"]["sequenceNumber"]]
    assert bulk.domain.document_count() == 4950
    # WHEN Lambda re-delivers from record 40 in a new execution environment
    shipper.forget_progress()
    retry = {"Records": event["Records"][40:]}
    assert shipper.handler(retry, Context()) == {"batchItemFailures": []}
    # THEN nothing is indexed twice
    assert bulk.domain.document_count() == 5000 and set(ids_in(bulk.domain).values()) == {1}


def credentials():
    from botocore.credentials import Credentials
    return Credentials("testing", "testing")


# --- configuration -------------------------------------------------------------------------------

@pytest.mark.parametrize("endpoint, loopback, expected", [
    ("search-logs-abc.eu-west-1.es.amazonaws.com", False, "https://search-logs-abc.eu-west-1.es.amazonaws.com"),
    ("https://search-logs-abc.eu-west-1.es.amazonaws.com/", False, "https://search-logs-abc.eu-west-1.es.amazonaws.com"),
    ("http://127.0.0.1:9200", True, "http://127.0.0.1:9200"),
])
def test_endpoints_are_https_or_a_loopback_in_tests(endpoint, loopback, expected):
    assert endpoint_url(endpoint, allow_loopback_http=loopback) == expected


@pytest.mark.parametrize("endpoint, loopback", [
    ("http://127.0.0.1:9200", False), ("http://search-logs.es.amazonaws.com", True), ("https://", False),
])
def test_plain_http_is_refused_outside_tests(endpoint, loopback):
    with pytest.raises(ConfigurationError, match="DOMAIN_ENDPOINT"):
        endpoint_url(endpoint, allow_loopback_http=loopback)


def test_bulk_mode_without_its_settings_fails_clearly():
    environ = {"DELIVERY_STREAM_NAME": "s", "DEAD_LETTER_QUEUE_URL": "q", "DELIVERY_MODE": "bulk"}
    with pytest.raises(ConfigurationError, match="bulk mode needs DOMAIN_ENDPOINT, INDEX_NAME"):
        ShipperConfig.from_environment(environ)
    with pytest.raises(ConfigurationError, match="BULK_MAX_BYTES is '12'"):
        ShipperConfig.from_environment({**environ, "DOMAIN_ENDPOINT": "h", "INDEX_NAME": "i", "BULK_MAX_BYTES": "12"})
    with pytest.raises(ConfigurationError, match="DELIVERY_MODE is 'fast'; valid: firehose, bulk"):
        ShipperConfig.from_environment({**environ, "DELIVERY_MODE": "fast"})


def test_the_configuration_round_trips_through_the_environment():
    config = ShipperConfig("s", "q", mode="bulk", domain_endpoint="https://h", index="i", rotation="hour",
                           bulk_max_bytes=1 << 20)
    assert ShipperConfig.from_environment(config.to_environment()) == config
    assert "ALLOW_LOOPBACK_HTTP" not in config.to_environment()


def test_archive_records_are_gzip_members_of_newline_delimited_documents():
    from log_shipper.archive import aggregate
    documents = [json.dumps({"id": str(i), "m": "x" * 300}).encode() + b"\n" for i in range(2000)]
    members = list(aggregate(documents, limit=200_000))
    # THEN records of at most 200,000 bytes of text, in order, each document in exactly one
    assert len(members) == 4 and [p for _, r in members for p in r] == list(range(2000))
    assert all(sum(len(documents[p]) for p in r) <= 200_000 for _, r in members)
    assert gzip.decompress(b"".join(m for m, _ in members)) == b"".join(documents)


# --- archived before indexed, under faults -------------------------------------------------------

@pytest.mark.parametrize("fault", ["throttle", "outage"])
def test_no_document_is_indexed_before_it_is_archived(bulk, fault):
    # GIVEN the archive stream refuses every PutRecordBatch: throttling, or an outage (503)
    bulk.aws.proxy.clear()  # (the fixture's recording rule would answer first)
    if fault == "throttle":
        bulk.aws.proxy.throttle("PutRecordBatch")
    else:
        bulk.aws.proxy.server_error("PutRecordBatch", status=503, code="ServiceUnavailableException")
    batch = events(300)
    payload = encode_payload("/g", "s", batch)
    # WHEN shipped / THEN the invocation fails (Lambda retries it) and nothing reached the domain
    with pytest.raises(shipper.DeliveryError, match="300 of 300 records not delivered"):
        bulk.invoke(payload)
    assert bulk.domain.document_count() == 0 and bulk_requests(bulk.domain) == []
    assert bulk.documents() == []
    # WHEN Lambda retries once the stream recovered / THEN each event is archived, then indexed, once
    bulk.aws.proxy.clear()
    record_puts(bulk)
    result = bulk.invoke(payload)
    assert result["delivered"] == 300 and bulk.domain.document_count() == 300
    assert Counter(d["id"] for d in bulk.documents()) == Counter(e["id"] for e in batch)


# --- a _bulk request is bounded by the time left --------------------------------------------------

def test_a_slow_domain_answer_ends_before_the_deadline_and_the_rest_is_deferred(env, monkeypatch):  # noqa: F811
    import os
    import time

    from log_shipper.delivery import Deadline, Shipper
    from tests.support.trickle_server import TrickleServer

    with TrickleServer(interval_s=0.2) as server:
        # GIVEN a domain that answers 200 and then trickles its body, a byte every 0.2 s (each read is far
        # within the 10 s per-operation timeout), and an invocation with 4 s left (a 2 s margin, 1 s kept
        # back for the dead-letter queue: the request may take 3 s)
        monkeypatch.setenv("DELIVERY_MODE", "bulk")
        monkeypatch.setenv("DOMAIN_ENDPOINT", server.url)
        monkeypatch.setenv("INDEX_NAME", INDEX)
        monkeypatch.setenv("ALLOW_LOOPBACK_HTTP", "1")
        config = ShipperConfig.from_environment(os.environ)
        writer = BulkWriter(SignedClient(server.url, "us-east-1", credentials, timeout=10.0), BulkTarget(INDEX))
        ship = Shipper(shipper.firehose, shipper.sqs, config, bulk=writer, firehose_for=shipper.firehose_for)
        ends = time.monotonic() + 4
        deadline = Deadline(lambda: int((ends - time.monotonic()) * 1000), margin_ms=2000, reserve_ms=1000)
        batch = events(3)
        # WHEN a direct subscription's payload is shipped
        result = ship.ship(encode_payload("/aws/lambda/x", "s", batch), deadline=deadline)
    # THEN the request ended before the invocation would have, and the events took the deferral path:
    # archived, and in the dead-letter queue for redrive (not a Lambda timeout)
    assert time.monotonic() < ends
    assert server.requests == 1
    assert result["status"] == "deferred" and result["deferred"] == 3
    (letter,) = env.dead_letters()
    assert attributes(letter)["kind"] == "deferred" and attributes(letter)["reason"] == "deadline"
    assert Counter(d["id"] for d in env.documents()) == Counter(e["id"] for e in batch)
