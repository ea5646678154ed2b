"""Where an invocation may come from: the function's own account and region, read from its context.

* A Kinesis record is shipped only when its ``eventSourceARN`` (set by Lambda) is an ingestion
  stream of this pipeline as a whole: ``arn:<partition>:kinesis:<the function's region>:<the
  function's account>:stream/<a configured name>``. A stream of the same name in another region or
  account is unknown (:mod:`log_shipper.kinesis` dead-letters its records).
* A direct payload (``{"awslogs": ...}``) is what a subscription filter of the function's own account
  sends: one whose ``owner`` is another account can only come from someone invoking the function
  directly with a payload of their making. It is dead-lettered as received (``kind=payload``,
  ``stage=foreign owner``) and counted (:data:`~log_shipper.contract.METRIC_FOREIGN_PAYLOADS`); the
  invocation succeeds. Another account's logs arrive through the ingestion streams, never directly.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional

from . import contract as c
from .dead_letter import payload_letters
from .delivery import Deadline, Shipper, Unit


@dataclass(frozen=True)
class Home:
    """The function's partition, region and account (from ``context.invoked_function_arn``)."""

    partition: str
    region: str
    account: str

    @classmethod
    def of(cls, context: Any) -> Optional["Home"]:
        """``None`` when the context names no function ARN (a local run): nothing can be compared then."""
        parts = str(getattr(context, "invoked_function_arn", "") or "").split(":")
        if len(parts) < 7 or parts[0] != "arn" or parts[2] != "lambda":
            return None
        return cls(parts[1], parts[3], parts[4])

    @property
    def stream_prefix(self) -> str:
        """``arn:<partition>:kinesis:<region>:<account>:stream/``: every ingestion stream's ARN starts so."""
        return f"arn:{self.partition}:kinesis:{self.region}:{self.account}:stream/"


def stream_name(record: Mapping[str, Any], home: Optional[Home]) -> str:
    """The record's stream name when its ``eventSourceARN`` is a stream of ``home``, else ``""``."""
    arn = str(record.get("eventSourceARN", ""))
    if home is not None:
        return arn[len(home.stream_prefix):] if arn.startswith(home.stream_prefix) else ""
    return arn.split(":stream/", 1)[1] if ":stream/" in arn else ""


class ForeignOwner(ValueError):
    stage = "foreign owner"


def ship_direct(shipper: Shipper, event: Mapping[str, Any], deadline: Deadline, home: Optional[Home]) -> dict[str, Any]:
    """Ship a direct subscription payload, unless its ``owner`` is not the function's own account."""
    unit = shipper.prepare(event)
    if not isinstance(unit, Unit):
        return unit
    owner = unit.batch.owner
    if home is not None and owner != home.account:
        error = ForeignOwner(f"owner {owner!r} is not this function's account {home.account}: a direct payload "
                             "comes only from a subscription filter of the function's own account")
        letters = payload_letters(event, stage=error.stage, reason=str(error))
        for letter in letters:
            shipper.sqs.send_message(**letter.send_message_kwargs(shipper.config.dead_letter_queue_url))
        shipper.log.error("Direct payload of another account: sent as received to the dead-letter queue",
                          extra={"owner": owner, "dead_letter_messages": len(letters)})
        shipper.add_count(c.METRIC_FOREIGN_PAYLOADS, 1)
        return {"status": "dead-lettered", "stage": error.stage, "dead_letter_messages": len(letters)}
    result = shipper.finish(unit, shipper.deliver([unit], deadline))
    if result.get("duplicates") and not result.get("retry"):
        shipper.log.warning("Events already indexed on their first delivery (409): another writer used their ids",
                            extra={"duplicates": result["duplicates"]})
        shipper.add_count(c.METRIC_FIRST_DELIVERY_DUPLICATES, int(result["duplicates"]))
    return result
