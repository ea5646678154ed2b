"""The cost model's arithmetic (bench/cost.py)."""
from __future__ import annotations

import pytest

from bench import cost


def test_records_are_billed_in_whole_increments():
    # GIVEN record sizes around the 5 KiB increment / WHEN billed / THEN each rounds up to a whole increment
    assert cost.billed(200, cost.FIREHOSE_INCREMENT) == 5 * 1024
    assert cost.billed(5 * 1024, cost.FIREHOSE_INCREMENT) == 5 * 1024
    assert cost.billed(5 * 1024 + 1, cost.FIREHOSE_INCREMENT) == 10 * 1024


def test_a_200_byte_record_costs_as_much_as_5_kib():
    # GIVEN 200 B events whose documents add nothing, shipped at 1,000 events/s
    m = cost.Measured(events_per_second=1_000, message_bytes=200, document_bytes=200)

    # WHEN the cost of 1 GiB is computed
    c = cost.per_gb(200, m)

    # THEN Firehose bills every record as 5 KiB (25.6× the aggregated price) and Lambda runs events / rate seconds
    assert c.firehose_rounding == pytest.approx(5 * 1024 / 200)
    assert c.firehose_aggregated_usd == pytest.approx(cost.FIREHOSE_DIRECT_PUT_GB)
    events = cost.GIB / 200
    assert c.lambda_gb_seconds == pytest.approx(cost.SHIPPER_MEMORY_GB * events / 1_000)


def test_the_serverless_sink_costs_nothing_idle_and_adds_its_storage_per_gib():
    # GIVEN 1 KiB events whose documents double in size
    m = cost.Measured(events_per_second=1_000, message_bytes=1024, document_bytes=2048)
    domain, serverless = cost.sink_floors()
    c = cost.per_gb(1024, m)
    # THEN the domain's floor is its instance hours, whether or not anyone logs
    assert domain.idle_usd_month == domain.logging_usd_month == pytest.approx(3 * 0.167 * 730)
    # AND the serverless floor is zero idle, one indexing OCU around the clock while logs flow
    assert serverless.idle_usd_month == 0
    assert serverless.logging_usd_month == pytest.approx(cost.AOSS_OCU_HOUR * 730)
    # AND per GiB, the collection adds a month of storage for the documents (2 GiB here) to the same delivery
    assert cost.sink_per_gb(c, domain) == pytest.approx(c.firehose_mode_usd)
    assert cost.sink_per_gb(c, serverless) - cost.sink_per_gb(c, domain) == pytest.approx(2 * cost.AOSS_STORAGE_GB_MONTH)
    assert "| serverless, NextGen, minimum OCUs 0 | $0.00/month | $175.20/month |" in cost.sinks_table(m)
