"""PutLogEvents batching (pure): limits, order and completeness for any mix of events."""
from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from logship.cloudwatch import (
    EVENT_OVERHEAD_BYTES,
    MAX_BATCH_SPAN_MS,
    iter_event_batches,
    log_event,
    rejected_indexes,
)

HOUR_MS = 3600 * 1000
events_strategy = st.lists(
    st.builds(log_event, st.integers(0, 72 * HOUR_MS), st.text(max_size=300)), max_size=300)


@settings(max_examples=200, deadline=None)
@given(events=events_strategy, max_events=st.integers(1, 50), max_bytes=st.integers(400, 5000))
def test_batches_respect_the_limits_keep_every_event_and_time_order(events, max_events, max_bytes) -> None:
    # GIVEN any events (each fits a batch on its own) WHEN batched
    assume(all(len(e["message"].encode()) + EVENT_OVERHEAD_BYTES <= max_bytes for e in events))
    batches = list(iter_event_batches(events, max_events=max_events, max_bytes=max_bytes))
    # THEN every batch holds at most max_events, max_bytes counting 26 per event, spans < 24 h
    for batch in batches:
        assert 1 <= len(batch) <= max_events
        assert sum(len(e["message"].encode()) + EVENT_OVERHEAD_BYTES for e in batch) <= max_bytes
        assert batch[-1]["timestamp"] - batch[0]["timestamp"] < MAX_BATCH_SPAN_MS
    # AND together they are all the events, in time order, equal timestamps in logging order
    assert [e for batch in batches for e in batch] == sorted(events, key=lambda e: e["timestamp"])


def test_rejected_indexes_from_the_api_answer() -> None:
    answer = {"rejectedLogEventsInfo": {"tooOldLogEventEndIndex": 1, "tooNewLogEventStartIndex": 4}}
    assert rejected_indexes(answer, 6) == {0, 1, 4, 5}
    assert rejected_indexes({}, 6) == set()
