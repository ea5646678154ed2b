"""Where the shipper takes an invocation from: its own streams by whole ARN, direct payloads of its own account."""
from __future__ import annotations

import json

from log_shipper import handler as shipper
from tests.lambda_src.log_shipper.test_shipper import Context, attributes, env, events  # noqa: F401
from tests.lambda_src.log_shipper.test_shipper_bulk import bulk, domain, ids_in  # noqa: F401
from tests.support.subscription import encode_payload, kinesis_event

OWN = "123456789012"  # Context.invoked_function_arn: us-east-1, this account
STREAM = "log-constructs-central-eu-west-1"


def test_a_record_of_a_stream_with_the_right_name_elsewhere_is_dead_lettered_not_shipped(env, monkeypatch):  # noqa: F811
    # GIVEN the shipper's ingestion stream, and a stream of the same name in another region and another account
    monkeypatch.setenv("INGESTION_STREAM_REGIONS", json.dumps({STREAM: "eu-west-1"}))
    forged = encode_payload("/aws/cloudtrail/org", "s", events(1, prefix="f"), owner="444455556666")
    for arn in (f"arn:aws:kinesis:us-west-2:{OWN}:stream/{STREAM}", f"arn:aws:kinesis:us-east-1:444455556666:stream/{STREAM}"):
        # WHEN a batch of it reaches the shipper
        result = shipper.handler(kinesis_event([forged], arn), Context())
        # THEN nothing is shipped: the record is kept as it came, naming the stream, and not reported
        assert result == {"batchItemFailures": []}
    assert env.documents() == []
    letters = env.dead_letters()
    assert [attributes(m)["stage"] for m in letters] == ["unknown stream"] * 2
    assert all("is not an ingestion stream of this pipeline" in attributes(m)["reason"] for m in letters)
    # AND the genuine stream still ships
    genuine = encode_payload("/aws/lambda/orders", "s", events(1, prefix="g"), owner="222222222222")
    assert shipper.handler(kinesis_event([genuine], f"arn:aws:kinesis:us-east-1:{OWN}:stream/{STREAM}"),
                           Context()) == {"batchItemFailures": []}
    assert [d["account"] for d in env.documents()] == ["222222222222"]


def test_a_direct_payload_of_another_owner_is_dead_lettered_with_its_reason(env, capsys):  # noqa: F811
    # GIVEN a payload made up by someone who may invoke the shipper, owner another account
    forged = encode_payload("/aws/lambda/payments", "s", events(3, prefix="x"), owner="999999999999")
    # WHEN it is invoked directly
    result = shipper.handler(forged, Context())
    # THEN the invocation succeeds, nothing is shipped, the payload waits in the dead-letter queue with its reason
    assert result["status"] == "dead-lettered" and result["stage"] == "foreign owner"
    assert env.documents() == []
    (letter,) = env.dead_letters()
    assert attributes(letter)["kind"] == "payload" and "owner '999999999999'" in attributes(letter)["reason"]
    assert json.loads(letter["Body"]) == forged
    assert '"ForeignPayloads"' in capsys.readouterr().out


def test_bulk_a_forged_id_cannot_take_a_genuine_events_place_and_a_first_delivery_409_is_counted(bulk, capsys):  # noqa: F811
    # GIVEN a forged payload of another owner carrying a genuine event's id, sent before the genuine one
    genuine_events = events(1, prefix="g")
    forged = encode_payload("/aws/lambda/payments", "s", [{**genuine_events[0], "message": "[INFO] payment 42 ok"}],
                            owner="999999999999")
    assert shipper.handler(forged, Context())["status"] == "dead-lettered"
    # WHEN the genuine payload arrives
    genuine = encode_payload("/aws/lambda/payments", "s", genuine_events)
    assert shipper.handler(genuine, Context())["delivered"] == 1
    # THEN the genuine document is the one indexed
    (stored,) = [doc for docs in bulk.domain.state.documents.values() for doc in docs.values()]
    assert stored["account"] == OWN and stored["message"] == genuine_events[0]["message"]
    capsys.readouterr()
    # AND when an id is already taken on a first delivery (a writer of this account got there first), it is counted
    shipper.forget_progress()
    again = shipper.handler(encode_payload("/aws/lambda/payments", "s2", genuine_events), Context())
    assert again["duplicates"] == 1 and set(ids_in(bulk.domain).values()) == {1}
    assert '"FirstDeliveryDuplicates"' in capsys.readouterr().out
