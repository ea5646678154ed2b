"""Cost per GB of logs per delivery mode, from the shipper's measured rates and sizes (bench/results/bench_shipper.json).

Firehose mode: one Firehose record per event (each billed as at least 5 KB), Firehose indexes, its
S3 backup keeps every document (Firehose-compressed with GZIP). Bulk mode: the shipper indexes with
``_bulk`` itself and archives the documents as gzip records of up to ~1,000 KiB through an S3-only
stream: Firehose bills the compressed bytes, S3 stores them. Both backups are counted at the gzip
ratio the benchmark measured on the archive. The domain is the same fixed cost in both modes.

``python -m bench.cost`` prints the Markdown table the README's "Cost per GB" section carries.
Prices: us-east-1 list prices (on-demand, no free tier, first pricing tier) of Lambda, Amazon Data
Firehose, S3, Kinesis Data Streams and OpenSearch Service. The rounding rules (Firehose: each record
rounded up to 5 KB; Kinesis Data Streams on-demand: each record rounded up to 1 KB) and the Lambda
arm64 price were checked against the pricing pages on 2026-12-02; the other per-unit figures are the
long-standing published list prices, not re-read that day: check the pricing pages before budgeting.
"""
from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

GIB = 1024 ** 3
KIB = 1024

# us-east-1, USD.
LAMBDA_ARM_GB_SECOND = 0.0000133334
LAMBDA_REQUEST = 0.20 / 1_000_000
FIREHOSE_DIRECT_PUT_GB = 0.029  # first 500 TB / month
FIREHOSE_INCREMENT = 5 * KIB
S3_STANDARD_GB_MONTH = 0.023
S3_PUT = 0.005 / 1000
KDS_ON_DEMAND_IN_GB = 0.08
KDS_ON_DEMAND_OUT_GB = 0.04
KDS_ON_DEMAND_STREAM_HOUR = 0.04
KDS_INCREMENT = KIB
OPENSEARCH_R6G_LARGE_HOUR = 0.167
HOURS_PER_MONTH = 730
# OpenSearch Serverless, us-east-1: $0.24 per OCU-hour (indexing and search alike) and $0.024 per GB-month of
# managed storage. Source: the pricing page (aws.amazon.com/opensearch-service/pricing) as quoted by
# cloudburn.io "Amazon OpenSearch pricing" (US East rates as of March 2026) and c3x.dev's
# aws_opensearchserverless_collection estimate; read 2026-12-07. No separate NextGen rate was found then:
# check the pricing page before budgeting.
AOSS_OCU_HOUR = 0.24
AOSS_STORAGE_GB_MONTH = 0.024
# NextGen compute scales to zero after 10 minutes without requests and wakes one indexing worker for the
# first indexing request (docs.aws.amazon.com/opensearch-service/latest/developerguide/serverless-scale-to-zero.html,
# read 2026-12-07). Firehose delivers every buffer interval (60 s by default), so while anything logs the
# indexing side never idles: counted here as 1 OCU around the clock (an assumption: the worker's OCU size
# is not published).
AOSS_AWAKE_INDEXING_OCU = 1.0

SHIPPER_MEMORY_GB = 512 / 1024  # LogPipeline's shipper_memory_mib default
FIREHOSE_BUFFER_BYTES = 5 * 1024 ** 2  # LogPipeline's buffer_mib default: one S3 object per buffer
EVENTS_PER_INVOCATION = 1_000  # as in the benchmark's payloads
EVENT_SIZES = (200, 1 * KIB, 5 * KIB)
ARCHIVE_RECORD_BYTES = 1000 * KIB - 16 * KIB  # log_shipper.archive's bound (uncompressed text per record)


@dataclass(frozen=True)
class Measured:
    events_per_second: float  # the shipper, decode → transform → Firehose, modelled view
    message_bytes: float
    document_bytes: float
    bulk_events_per_second: float = 0.0  # bulk mode, decode → transform → _bulk + archive, modelled view
    archive_ratio: float = 1.0  # archived (gzip) bytes per document byte

    @property
    def overhead_bytes(self) -> float:
        """What a document adds to its message (metadata fields, JSON framing)."""
        return max(self.document_bytes - self.message_bytes, 0.0)


def billed(size: float, increment: int) -> float:
    """The bytes a per-record price counts: ``size`` rounded up to ``increment``."""
    return math.ceil(size / increment) * increment


@dataclass(frozen=True)
class CostPerGB:
    event_bytes: int
    record_bytes: float
    lambda_gb_seconds: float
    lambda_usd: float
    firehose_usd: float
    firehose_aggregated_usd: float
    s3_usd: float
    kinesis_usd: float
    bulk_lambda_usd: float = 0.0
    bulk_archive_usd: float = 0.0
    bulk_s3_usd: float = 0.0

    @property
    def firehose_rounding(self) -> float:
        return self.firehose_usd / self.firehose_aggregated_usd

    @property
    def firehose_mode_usd(self) -> float:
        return self.lambda_usd + self.firehose_usd + self.s3_usd

    @property
    def bulk_mode_usd(self) -> float:
        return self.bulk_lambda_usd + self.bulk_archive_usd + self.bulk_s3_usd


def per_gb(event_bytes: int, m: Measured) -> CostPerGB:
    """The cost of shipping 1 GiB of log messages of ``event_bytes`` each."""
    events = GIB / event_bytes
    record = event_bytes + m.overhead_bytes
    documents_gb = events * record / GIB
    gb_seconds = SHIPPER_MEMORY_GB * events / m.events_per_second
    lambda_usd = gb_seconds * LAMBDA_ARM_GB_SECOND + events / EVENTS_PER_INVOCATION * LAMBDA_REQUEST
    firehose = events * billed(record, FIREHOSE_INCREMENT) / GIB * FIREHOSE_DIRECT_PUT_GB
    # The same documents joined into records of up to 1,000 KiB: the rounding vanishes.
    aggregated = documents_gb * FIREHOSE_DIRECT_PUT_GB
    # Firehose compresses the backup (GZIP) before S3; it buffers 5 MiB of incoming documents per object.
    stored_gb = documents_gb * m.archive_ratio
    s3 = stored_gb * S3_STANDARD_GB_MONTH + documents_gb * GIB / FIREHOSE_BUFFER_BYTES * S3_PUT
    # CloudWatch Logs writes one gzip record per delivery (many events): 1 KiB rounding is noise. Counted
    # uncompressed (an upper bound); written once, read once by the shipper.
    kinesis = KDS_ON_DEMAND_IN_GB + KDS_ON_DEMAND_OUT_GB
    # Bulk mode: an invocation's documents (EVENTS_PER_INVOCATION, at most one record's worth) make one
    # gzip archive record, billed on its compressed bytes rounded up to 5 KB; S3 objects of 5 MiB of records.
    bulk_rate = m.bulk_events_per_second or m.events_per_second
    bulk_lambda = (SHIPPER_MEMORY_GB * events / bulk_rate * LAMBDA_ARM_GB_SECOND
                   + events / EVENTS_PER_INVOCATION * LAMBDA_REQUEST)
    per_record = min(EVENTS_PER_INVOCATION * record, ARCHIVE_RECORD_BYTES)
    records = events * record / per_record
    archive = records * billed(per_record * m.archive_ratio, FIREHOSE_INCREMENT) / GIB * FIREHOSE_DIRECT_PUT_GB
    bulk_s3 = stored_gb * S3_STANDARD_GB_MONTH + stored_gb * GIB / FIREHOSE_BUFFER_BYTES * S3_PUT
    return CostPerGB(event_bytes, record, gb_seconds, lambda_usd, firehose, aggregated, s3, kinesis,
                     bulk_lambda, archive, bulk_s3)


def measured(results: Path) -> Measured:
    rows = {r["metric"]: r for r in json.loads((results / "bench_shipper.json").read_text())["rows"]}
    rate = next(r["ours"] for m, r in rows.items()
                if m.startswith("events/s, decode → transform → Firehose") and "modelled" in m)
    bulk_rate = next((r["ours"] for m, r in rows.items()
                      if m.startswith("events/s, decode → transform → _bulk") and "modelled" in m), 0.0)
    ratio = rows.get("archive bytes per document byte (gzip members)", {}).get("ours", 1.0)
    return Measured(rate, rows["bytes per event, log message"]["ours"],
                    rows["bytes per Firehose record, document"]["ours"], bulk_rate, ratio)


def table(m: Measured) -> str:
    lines = [
        f"Inputs (from `bench/results/bench_shipper.json`): shipper {m.events_per_second:,.0f} events/s "
        f"(modelled view), document overhead {m.overhead_bytes:,.0f} B per event "
        f"({m.message_bytes:,.0f} B messages → {m.document_bytes:,.0f} B documents), "
        f"{SHIPPER_MEMORY_GB * 1024:.0f} MB arm64; bulk mode {m.bulk_events_per_second:,.0f} events/s (modelled), "
        f"archive and backups stored at {m.archive_ratio:.3f} of the document bytes (gzip, measured).",
        "",
        "| per GiB of log messages | 200 B events | 1 KiB events | 5 KiB events |",
        "| --- | ---: | ---: | ---: |",
    ]
    costs = [per_gb(size, m) for size in EVENT_SIZES]

    def row(label: str, values: list[str]) -> None:
        lines.append(f"| {label} | " + " | ".join(values) + " |")

    row("Firehose record (message + metadata)", [f"{c.record_bytes:,.0f} B" for c in costs])
    row("Lambda GB-seconds (shipper)", [f"{c.lambda_gb_seconds:,.1f}" for c in costs])
    row("Lambda (GB-s + requests)", [f"${c.lambda_usd:.4f}" for c in costs])
    row("Firehose ingestion, one record per event (5 KB rounding)", [f"${c.firehose_usd:.3f}" for c in costs])
    row("Firehose ingestion, records aggregated", [f"${c.firehose_aggregated_usd:.3f}" for c in costs])
    row("rounding penalty (per event / aggregated)", [f"{c.firehose_rounding:.1f}×" for c in costs])
    row("S3 backup, gzip (1 month Standard + PUTs)", [f"${c.s3_usd:.3f}" for c in costs])
    row("**Firehose mode: Lambda + Firehose per event + S3 backup**", [f"**${c.firehose_mode_usd:.3f}**" for c in costs])
    row("bulk mode: Lambda (GB-s + requests)", [f"${c.bulk_lambda_usd:.4f}" for c in costs])
    row("bulk mode: Firehose archive, gzip records of ~1,000 KiB", [f"${c.bulk_archive_usd:.4f}" for c in costs])
    row("bulk mode: S3 archive (1 month Standard + PUTs)", [f"${c.bulk_s3_usd:.4f}" for c in costs])
    row("**bulk mode: Lambda + archive + S3**", [f"**${c.bulk_mode_usd:.3f}**" for c in costs])
    row("**bulk mode cheaper by**", [f"**{c.firehose_mode_usd / c.bulk_mode_usd:.1f}×**" for c in costs])
    row("Kinesis Data Streams on-demand (cross-account, in + out; either mode)", [f"${c.kinesis_usd:.3f}" for c in costs])
    stream_month = KDS_ON_DEMAND_STREAM_HOUR * HOURS_PER_MONTH
    domain_month = 3 * OPENSEARCH_R6G_LARGE_HOUR * HOURS_PER_MONTH
    lines += [
        "",
        f"Fixed, not per GB: one on-demand stream per source region ${stream_month:,.2f}/month "
        f"(${KDS_ON_DEMAND_STREAM_HOUR}/stream-hour); an OpenSearch domain of 3 r6g.large.search data nodes "
        f"${domain_month:,.0f}/month (${OPENSEARCH_R6G_LARGE_HOUR}/hour each) before storage.",
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class SinkFloor:
    """What a sink costs per month whatever the volume, and per GiB stored for a month."""

    name: str
    idle_usd_month: float  # nobody logs, nobody searches
    logging_usd_month: float  # something logs at least every 10 minutes, nobody searches
    storage_usd_per_gib_month: float  # 0: included in the provisioned volumes


def sink_floors() -> list[SinkFloor]:
    """The domain sink (3 r6g.large.search data nodes, the README's production example) and the serverless
    sink with its defaults (minimum OCUs 0)."""
    domain = 3 * OPENSEARCH_R6G_LARGE_HOUR * HOURS_PER_MONTH
    awake = AOSS_AWAKE_INDEXING_OCU * AOSS_OCU_HOUR * HOURS_PER_MONTH
    return [SinkFloor("domain, 3 × r6g.large.search", domain, domain, 0.0),
            SinkFloor("serverless, NextGen, minimum OCUs 0", 0.0, awake, AOSS_STORAGE_GB_MONTH)]


def sink_per_gb(c: CostPerGB, floor: SinkFloor) -> float:
    """Delivery (Firehose mode, the same for both sinks) plus a month of the sink's storage for the documents."""
    documents_gib = c.record_bytes / c.event_bytes
    return c.firehose_mode_usd + floor.storage_usd_per_gib_month * documents_gib


def sinks_table(m: Measured) -> str:
    """Both sinks side by side: the fixed floors, and per GiB of messages (delivery + a month of storage)."""
    lines = ["| sink | idle (nobody logs or searches) | while logs flow | per GiB, 200 B events | "
             "per GiB, 1 KiB events | per GiB, 5 KiB events |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    costs = [per_gb(size, m) for size in EVENT_SIZES]
    for floor in sink_floors():
        lines.append(f"| {floor.name} | ${floor.idle_usd_month:,.2f}/month | ${floor.logging_usd_month:,.2f}/month | "
                     + " | ".join(f"${sink_per_gb(c, floor):.3f}" for c in costs) + " |")
    lines += ["", f"Serverless: ${AOSS_OCU_HOUR}/OCU-hour, ${AOSS_STORAGE_GB_MONTH}/GB-month of storage; indexing "
              f"counted as {AOSS_AWAKE_INDEXING_OCU:g} OCU while logs flow (more at higher rates, up to "
              "max_indexing_ocu), search OCUs only while someone searches. Domain: storage is in its EBS volumes; "
              "per GiB is the Firehose-mode delivery plus, for a collection, a month of its storage."]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    results = Path(argv[0]) if argv else Path(__file__).resolve().parent / "results"
    print(table(measured(results)))
    print()
    print(sinks_table(measured(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
