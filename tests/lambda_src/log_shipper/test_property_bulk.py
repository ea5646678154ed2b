"""Property: for any interleaving of failures and retries, every event is delivered once or
dead-lettered with its reason (bulk mode, against the _bulk stand-in, the emulator's archive and queue)."""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from log_shipper import handler as shipper
import pytest

from tests.lambda_src.log_shipper.test_shipper import Context, attributes, env, events  # noqa: F401
from tests.support.opensearch_stub import OpenSearchStub
from tests.support.subscription import encode_payload

N_EVENTS = 8
# What the domain does to one document at its successive attempts: answer 429/503, or refuse it.
item_faults = st.lists(st.sampled_from([429, 503]), max_size=8)
scenario = st.fixed_dictionaries({
    "items": st.lists(item_faults, min_size=N_EVENTS, max_size=N_EVENTS),
    "refused": st.sets(st.integers(0, N_EVENTS - 1), max_size=3),
    "request_faults": st.lists(st.sampled_from([429, 500, 503, 0]), max_size=3),
    "new_environment": st.lists(st.booleans(), min_size=6, max_size=6),  # per Lambda retry
})


@pytest.fixture
def bulk_env(env, monkeypatch):  # noqa: F811
    # GIVEN the shipper in bulk mode against the stand-in (one for every example: ids never repeat)
    with OpenSearchStub(secret_keys={"testing": "testing"}) as domain:
        for name, value in {"DELIVERY_MODE": "bulk", "DOMAIN_ENDPOINT": domain.url, "INDEX_NAME": "app-logs",
                            "ALLOW_LOOPBACK_HTTP": "1"}.items():
            monkeypatch.setenv(name, value)
        yield env, domain


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(scenario=scenario)
def test_every_event_is_indexed_once_or_dead_lettered_with_its_reason(bulk_env, scenario):
    env, domain = bulk_env
    batch = events(N_EVENTS, prefix=f"p{len(domain.requests)}-")
    ids = [e["id"] for e in batch]
    for n, faults in enumerate(scenario["items"]):
        domain.fail_documents([ids[n]], faults)
    domain.refuse_documents([ids[n] for n in scenario["refused"]])
    for status in scenario["request_faults"]:
        domain.fail_next(1, status=status, path_prefix="/_bulk")
    payload = encode_payload("/g", "s", batch)
    # WHEN Lambda invokes and retries until the invocation succeeds (sometimes in a new environment)
    for fresh in scenario["new_environment"]:
        if fresh:
            shipper.forget_progress()
        try:
            shipper.handler(payload, Context())
            break
        except shipper.DeliveryError:
            continue
    else:
        raise AssertionError("still failing after Lambda's retries with every fault spent")
    # THEN each event is in the domain exactly once, or in the dead-letter queue with a reason, never both
    indexed = [source["id"] for source in domain.all_documents().values() if source["id"] in ids]
    letters = [m for m in env.dead_letters() if attributes(m)["kind"] == "refused"]
    refused = [d["document"]["id"] for m in letters for d in json.loads(m["Body"])["documents"]]
    assert all(d["reason"] for m in letters for d in json.loads(m["Body"])["documents"])
    assert sorted(indexed) == sorted(set(indexed))
    assert set(refused) == {ids[n] for n in scenario["refused"]}
    assert sorted(set(indexed) | set(refused)) == sorted(ids) and not set(indexed) & set(refused)
    assert domain.spec_violations == []
