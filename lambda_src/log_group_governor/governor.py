"""The governor's work against CloudWatch Logs: one log group, or a resumable sweep over all of them.

Every call goes through the :class:`~log_group_governor.ratelimit.RateLimiter`. A group that complies
costs no call beyond its share of the ``DescribeLogGroups`` page (plus one
``DescribeSubscriptionFilters`` when the governor subscribes: CloudWatch Logs shows filters nowhere else).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping, Optional

from botocore.exceptions import ClientError

from .planning import (
    SKIPPED_FOREIGN_FILTER,
    SKIPPED_NO_SLOT,
    Config,
    Counters,
    Cursor,
    exclusion_reason,
    retention_needed,
    subscription_needed,
)
from .opt_out import OPTED_OUT_REASON, is_opted_out
from .ratelimit import RateLimiter

PAGE_SIZE = 50  # the DescribeLogGroups maximum


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


@dataclass
class Governor:
    logs: Any  # a boto3 CloudWatch Logs client
    config: Config
    limiter: RateLimiter
    log: Any  # a logging.Logger-like object (Powertools Logger in Lambda)

    # --- one log group -----------------------------------------------------------------------
    def govern(self, group: Mapping[str, Any], counters: Counters) -> None:
        """Bring one log group (an entry of a DescribeLogGroups page) into compliance."""
        name = str(group["logGroupName"])
        counters.scanned += 1
        reason = exclusion_reason(name, self.config)
        if reason is not None:
            counters.excluded += 1
            self.log.debug("excluded", extra={"log_group": name, "reason": reason})
            return
        changed = skipped = False
        try:
            days = retention_needed(group, self.config)
            if days is not None:
                self._act("set retention", name, dict(current=group.get("retentionInDays"), target=days),
                          lambda: self.limiter.call("PutRetentionPolicy", self.logs.put_retention_policy,
                                                    logGroupName=name, retentionInDays=days))
                counters.retention_set += 1
                changed = True
            if self.config.subscribes:
                filters = self.limiter.call("DescribeSubscriptionFilters", self.logs.describe_subscription_filters,
                                            logGroupName=name)["subscriptionFilters"]
                decision = subscription_needed(filters, self.config)
                if decision.action == "subscribe" and is_opted_out(self.logs, self.limiter, group):
                    counters.opted_out += 1
                    skipped = True
                    self.log.info(f"skipped: {OPTED_OUT_REASON}", extra={"log_group": name, "outcome": "opted_out",
                                                                         "reason": OPTED_OUT_REASON})
                elif decision.action == "subscribe":
                    try:
                        self._act("subscribe", name, dict(destination=self.config.destination_arn,
                                                          filter_name=self.config.filter_name, note=decision.detail),
                                  lambda: self.limiter.call("PutSubscriptionFilter", self.logs.put_subscription_filter,
                                                            **self._filter_request(name)))
                        counters.subscribed += 1
                        changed = True
                    except ClientError as error:
                        if _code(error) != "LimitExceededException":
                            raise
                        # A filter was added between our look and our put: the slots are gone.
                        counters.skipped_no_slot += 1
                        skipped = True
                        self.log.warning("skipped: no free subscription slot", extra={"log_group": name})
                elif decision.outcome in (SKIPPED_NO_SLOT, SKIPPED_FOREIGN_FILTER):
                    setattr(counters, decision.outcome, getattr(counters, decision.outcome) + 1)
                    skipped = True
                    self.log.warning(f"skipped: {decision.detail}", extra={"log_group": name,
                                                                            "outcome": decision.outcome})
        except ClientError as error:
            if _code(error) == "ResourceNotFoundException":
                self.log.info("log group deleted while being governed", extra={"log_group": name})
                return
            counters.failed += 1
            self.log.error("failed to govern log group", extra={"log_group": name, "error_code": _code(error),
                                                                "error": str(error)})
            return
        if not changed and not skipped:
            counters.compliant += 1

    def _filter_request(self, name: str) -> dict[str, Any]:
        request = dict(logGroupName=name, filterName=self.config.filter_name,
                       filterPattern=self.config.filter_pattern, destinationArn=self.config.destination_arn)
        if self.config.role_arn:
            request["roleArn"] = self.config.role_arn
        return request

    def _act(self, what: str, name: str, details: Mapping[str, Any], call: Callable[[], Any]) -> None:
        if self.config.dry_run:
            self.log.info(f"dry run: would {what}", extra={"log_group": name, **details})
            return
        call()
        self.log.info(what, extra={"log_group": name, **details})

    def govern_by_name(self, name: str, counters: Counters) -> bool:
        """Govern the log group ``name`` (a new one); ``False`` when it no longer exists."""
        page = self.limiter.call("DescribeLogGroups", self.logs.describe_log_groups,
                                 logGroupNamePrefix=name, limit=PAGE_SIZE)
        counters.pages += 1
        group = next((g for g in page.get("logGroups", []) if g.get("logGroupName") == name), None)
        if group is None:
            self.log.info("log group no longer exists", extra={"log_group": name})
            return False
        self.govern(group, counters)
        return True

    # --- a resumable sweep -------------------------------------------------------------------
    def sweep(self, cursor: Cursor, *, time_left_ms: Callable[[], int], reserve_ms: int) -> tuple[Counters, Optional[Cursor]]:
        """Page through every log group from ``cursor``; stop with a new cursor when time runs short.

        Returns this invocation's counters and the cursor to continue from (``None`` when done).
        The cursor names the last group done, so a resumed sweep never governs a group twice.
        """
        run = Counters()
        token, last_done = cursor.page_token, cursor.last_done
        while True:
            if time_left_ms() < reserve_ms:
                return run, self._next(cursor, run, token, last_done)
            request: dict[str, Any] = {"limit": PAGE_SIZE}
            if token:
                request["nextToken"] = token
            page = self.limiter.call("DescribeLogGroups", self.logs.describe_log_groups, **request)
            run.pages += 1
            for group in page.get("logGroups", []):
                name = group["logGroupName"]
                if last_done is not None and name <= last_done:
                    continue  # done by an earlier invocation (pages are sorted by name)
                if time_left_ms() < reserve_ms:
                    return run, self._next(cursor, run, token, last_done)
                self.govern(group, run)
                last_done = name
            token = page.get("nextToken")
            if not token:
                return run, None

    @staticmethod
    def _next(cursor: Cursor, run: Counters, token: Optional[str], last_done: Optional[str]) -> Cursor:
        return replace(cursor, page_token=token, last_done=last_done, counters=cursor.counters.add(run),
                       invocation=cursor.invocation + 1)
