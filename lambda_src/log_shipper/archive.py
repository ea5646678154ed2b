"""Archive records of bulk mode: many documents per Firehose record, each record one gzip member (no I/O).

Firehose bills every record rounded up to 5 KB; one record per 200-byte event pays for 5 KB. Here
documents (one JSON line each) are joined into records of up to :data:`ARCHIVE_RECORD_BYTES` of
newline-delimited text, and each record is gzip-compressed on its own: Firehose bills the
compressed bytes, and its S3-only stream (no compression of its own) concatenates the records into
objects that are multi-member gzip files, which ``gzip``, ``zcat``, Athena and ``logops replay``
read as one stream of newline-delimited documents.
"""
from __future__ import annotations

import gzip
from typing import Iterator, Sequence

from logship.firehose import MAX_RECORD_BYTES

# Uncompressed text per record: gzip output is smaller than its input for text (JSON documents are
# text, escaped), and at most a few bytes per 32 KiB larger for anything else; the headroom covers both.
ARCHIVE_RECORD_BYTES = MAX_RECORD_BYTES - 16 * 1024
# Level 1: three times faster than the default for a slightly larger output (logs compress ~8-10x).
GZIP_LEVEL = 1


def aggregate(documents: Sequence[bytes], *, limit: int = ARCHIVE_RECORD_BYTES,
              level: int = GZIP_LEVEL) -> Iterator[tuple[bytes, range]]:
    """``(record, positions)``: gzip members of consecutive documents of at most ``limit`` bytes of text,
    and the positions in ``documents`` of those each holds. Documents keep their order."""
    start = 0
    size = 0
    for position, document in enumerate(documents):
        if position > start and size + len(document) > limit:
            yield gzip.compress(b"".join(documents[start:position]), compresslevel=level, mtime=0), range(start, position)
            start, size = position, 0
        size += len(document)
    if start < len(documents):
        yield gzip.compress(b"".join(documents[start:]), compresslevel=level, mtime=0), range(start, len(documents))
