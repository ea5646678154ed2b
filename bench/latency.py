"""The latency model: one round-trip time per service, added to every call of the latency-modelled view.

In AWS a call costs a network round trip and almost no client CPU; against the emulator it is the
other way round. The modelled view adds these round trips (in the proxy in front of the emulator,
in the local webhook server, or in the in-process clients of the logship benchmark) so that the
number of calls, not the emulator's CPU per call, decides the result.

Each figure says where it comes from; ``assumption`` marks a figure that is ours, not measured by
AWS or a published study.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RoundTrip:
    service: str
    milliseconds: float
    source: str


ROUND_TRIPS: tuple[RoundTrip, ...] = (
    RoundTrip("dynamodb", 5.0, "AWS: 'single-digit millisecond performance at any scale' (product page); the knowledge "
                               "center (dynamodb-high-latency) expects single-digit ms averages for GetItem/PutItem in "
                               "SuccessfulRequestLatency, which excludes the network: 5 ms is an assumption within it"),
    RoundTrip("firehose", 20.0, "assumption: no published PutRecordBatch latency; a regional HTTPS call with a 500-record body"),
    RoundTrip("opensearch", 20.0, "assumption: no published _bulk latency; a request of a few MiB to a domain in the "
                                   "same region, indexing included (the domain's IndexingLatency is a few ms per request)"),
    RoundTrip("logs", 10.0, "assumption: no published PutLogEvents / DescribeLogGroups latency; a regional HTTPS call"),
    RoundTrip("secretsmanager", 10.0, "assumption: a regional HTTPS call; the function caches the secret, so it counts once"),
    RoundTrip("sns", 10.0, "assumption: a regional HTTPS call (Publish)"),
    RoundTrip("slack", 150.0, "assumption: Slack incoming webhooks, 100–300 ms from AWS regions as commonly reported"),
)

ROUND_TRIP_MS: dict[str, float] = {r.service: r.milliseconds for r in ROUND_TRIPS}


def round_trip_seconds(service: str) -> float:
    """The modelled round trip of one call to ``service`` (a key of :data:`ROUND_TRIP_MS`)."""
    return ROUND_TRIP_MS[service] / 1000.0
