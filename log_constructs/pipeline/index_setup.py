"""What LogPipeline's set-up custom resource applies to the index: template, ISM policy, Dashboards objects."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from aws_cdk import Token

from .._private.validation import check, check_range

NAME = "LogPipeline"


@dataclass(frozen=True)
class IndexSetup:
    """What the set-up custom resource applies to the index: template, ISM policy, Dashboards objects.

    ``None`` for a part that is off. Properties follow ``lambda_src/opensearch_setup``'s contract.
    """

    template: Optional[dict] = None
    lifecycle: Optional[dict] = None
    dashboards: bool = False

    @staticmethod
    def from_props(*, own_domain: bool, data_nodes: int, template: Optional[bool], shards: Optional[int],
                   replicas: Optional[int], field_limit: Optional[int], lifecycle: Optional[bool],
                   delete_after_days: Optional[int], warm_after_days: Optional[int],
                   cold_after_days: Optional[int], dashboards: Optional[bool]) -> "IndexSetup":
        given = {"index_template": template, "index_shards": shards, "index_replicas": replicas,
                 "index_field_limit": field_limit, "index_lifecycle": lifecycle,
                 "index_delete_after_days": delete_after_days, "index_warm_after_days": warm_after_days,
                 "index_cold_after_days": cold_after_days, "dashboards_saved_objects": dashboards}
        if own_domain:
            chosen = sorted(name for name, value in given.items() if value not in (None, False))
            check(NAME, chosen[0] if chosen else "domain", not chosen,
                  f"applies only to a domain this construct creates (its set-up function is the master user); "
                  f"with your own domain, leave {', '.join(chosen)} unset")
            return IndexSetup()
        shards = 1 if shards is None else shards
        replicas = min(1, data_nodes - 1) if replicas is None else replicas
        field_limit = 2000 if field_limit is None else field_limit
        delete_after_days = 30 if delete_after_days is None else delete_after_days
        check_range(NAME, "index_shards", shards, 1, 1024)
        check_range(NAME, "index_replicas", replicas, 0, 15)
        if not Token.is_unresolved(replicas) and not Token.is_unresolved(data_nodes):
            check(NAME, "index_replicas", replicas <= data_nodes - 1,
                  f"must be at most data_nodes - 1 ({data_nodes - 1}): a replica never shares a node with its "
                  f"primary, so {replicas} would stay unassigned and keep the cluster yellow")
        check_range(NAME, "index_field_limit", field_limit, 100, 100_000)
        check_range(NAME, "index_delete_after_days", delete_after_days, 1, 36500, " days")
        if warm_after_days is not None:
            check_range(NAME, "index_warm_after_days", warm_after_days, 1, 36500, " days")
        check(NAME, "index_cold_after_days", cold_after_days is None or warm_after_days is not None,
              "needs index_warm_after_days: cold storage takes indices from UltraWarm")
        ages = [d for d in (warm_after_days, cold_after_days, delete_after_days) if d is not None]
        check(NAME, "index_delete_after_days", ages == sorted(set(ages)),
              f"must come after the warm and cold transitions (warm < cold < delete), got "
              f"warm={warm_after_days}, cold={cold_after_days}, delete={delete_after_days}")
        template_props = None if template is False else {
            "Shards": shards, "Replicas": replicas, "FieldLimit": field_limit}
        lifecycle_props = None if lifecycle is False else {
            "DeleteAfterDays": delete_after_days,
            **({"WarmAfterDays": warm_after_days} if warm_after_days is not None else {}),
            **({"ColdAfterDays": cold_after_days} if cold_after_days is not None else {}),
        }
        return IndexSetup(template_props, lifecycle_props, dashboards is not False)

    def properties(self, index: str) -> dict:
        """The custom resource's ``IndexTemplate``, ``IsmPolicy`` and ``Dashboards`` properties."""
        pattern = f"{index}*"
        props: dict = {}
        if self.template is not None:
            props["IndexTemplate"] = {"Name": index, "IndexPatterns": [pattern], **self.template}
        if self.lifecycle is not None:
            props["IsmPolicy"] = {"PolicyId": f"{index}-lifecycle", "IndexPatterns": [pattern], **self.lifecycle}
        if self.dashboards:
            props["Dashboards"] = {"IndexPattern": pattern, "TimeField": "@timestamp"}
        return props
