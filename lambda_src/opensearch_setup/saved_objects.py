"""OpenSearch Dashboards saved objects for the log index (pure): stable ids, so a re-run overwrites.

The index pattern, a saved search for ERROR and CRITICAL events, three visualizations (events over
time by level, top log groups, latest errors as a table) and one dashboard that shows them.
"""
from __future__ import annotations

import json
import re
from typing import Any, Mapping, Optional

from .props import DashboardsSettings

SEARCH_SOURCE_INDEX_REF = "kibanaSavedObjectMeta.searchSourceJSON.index"
ERROR_QUERY = "level:(ERROR or CRITICAL or error or critical)"


def _slug(pattern: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", pattern.lower()).strip("-") or "logs"


def object_ids(settings: DashboardsSettings) -> dict[str, str]:
    base = f"log-constructs-{_slug(settings.index_pattern)}"
    return {
        "index-pattern": base,
        "search": f"{base}-errors",
        "events-by-level": f"{base}-events-by-level",
        "top-log-groups": f"{base}-top-log-groups",
        "latest-errors": f"{base}-latest-errors",
        "dashboard": f"{base}-overview",
    }


def _search_source(query: str = "", *, with_index: bool = True) -> dict[str, Any]:
    source: dict[str, Any] = {"query": {"query": query, "language": "kuery"}, "filter": []}
    if with_index:
        source["indexRefName"] = SEARCH_SOURCE_INDEX_REF
    return {"searchSourceJSON": json.dumps(source, sort_keys=True)}


def _index_reference(index_pattern_id: str) -> list[dict[str, str]]:
    return [{"name": SEARCH_SOURCE_INDEX_REF, "type": "index-pattern", "id": index_pattern_id}]


def _visualization(title: str, vis_type: str, params: Mapping[str, Any], aggs: list[dict[str, Any]],
                   query: str = "") -> dict[str, Any]:
    return {
        "title": title,
        "description": "",
        "version": 1,
        "uiStateJSON": "{}",
        "visState": json.dumps({"title": title, "type": vis_type, "params": params, "aggs": aggs}, sort_keys=True),
        "kibanaSavedObjectMeta": _search_source(query),
    }


def _count() -> dict[str, Any]:
    return {"id": "1", "enabled": True, "type": "count", "schema": "metric", "params": {}}


def _terms(agg_id: str, field: str, size: int, schema: str) -> dict[str, Any]:
    return {"id": agg_id, "enabled": True, "type": "terms", "schema": schema,
            "params": {"field": field, "size": size, "order": "desc", "orderBy": "1",
                       "otherBucket": False, "missingBucket": False}}


def saved_objects(settings: DashboardsSettings) -> list[dict[str, Any]]:
    """The objects in ``_bulk_create`` form: ``{"type", "id", "attributes", "references"}``."""
    ids = object_ids(settings)
    pattern = ids["index-pattern"]
    date_histogram = {"id": "2", "enabled": True, "type": "date_histogram", "schema": "segment",
                      "params": {"field": settings.time_field, "interval": "auto", "min_doc_count": 1,
                                 "extended_bounds": {}}}
    histogram_params = {
        "type": "histogram", "addLegend": True, "addTooltip": True, "legendPosition": "right",
        "times": [], "addTimeMarker": False,
        "seriesParams": [{"data": {"id": "1", "label": "Count"}, "mode": "stacked", "show": True,
                          "type": "histogram", "valueAxis": "ValueAxis-1"}],
    }
    table_params = {"perPage": 10, "showPartialRows": False, "showMetricsAtAllLevels": False,
                    "showTotal": False, "totalFunc": "sum", "percentageCol": ""}
    objects = [
        {
            "type": "index-pattern",
            "id": pattern,
            "attributes": {"title": settings.index_pattern, "timeFieldName": settings.time_field},
            "references": [],
        },
        {
            "type": "search",
            "id": ids["search"],
            "attributes": {
                "title": "Errors and criticals",
                "description": "Log events whose level is ERROR or CRITICAL, newest first.",
                "columns": ["level", "log_group", "message"],
                "sort": [[settings.time_field, "desc"]],
                "version": 1,
                "kibanaSavedObjectMeta": _search_source(ERROR_QUERY),
            },
            "references": _index_reference(pattern),
        },
        {
            "type": "visualization",
            "id": ids["events-by-level"],
            "attributes": _visualization("Events over time by level", "histogram", histogram_params,
                                         [_count(), date_histogram, _terms("3", "level", 10, "group")]),
            "references": _index_reference(pattern),
        },
        {
            "type": "visualization",
            "id": ids["top-log-groups"],
            "attributes": _visualization("Top log groups", "table", table_params,
                                         [_count(), _terms("2", "log_group", 15, "bucket")]),
            "references": _index_reference(pattern),
        },
        {
            "type": "visualization",
            "id": ids["latest-errors"],
            "attributes": _visualization("Errors by log group", "table", table_params,
                                         [_count(), _terms("2", "log_group", 10, "bucket"),
                                          _terms("3", "level", 5, "bucket")], query=ERROR_QUERY),
            "references": _index_reference(pattern),
        },
    ]
    panels = [  # (reference, type, x, y, w, h)
        ("events-by-level", "visualization", 0, 0, 48, 15),
        ("top-log-groups", "visualization", 0, 15, 20, 15),
        ("latest-errors", "visualization", 20, 15, 28, 15),
        ("search", "search", 0, 30, 48, 20),
    ]
    panels_json = []
    references = []
    for number, (key, kind, x, y, w, h) in enumerate(panels):
        index = str(number + 1)
        panels_json.append({"panelIndex": index, "gridData": {"x": x, "y": y, "w": w, "h": h, "i": index},
                            "embeddableConfig": {}, "panelRefName": f"panel_{number}"})
        references.append({"name": f"panel_{number}", "type": kind, "id": ids[key]})
    objects.append({
        "type": "dashboard",
        "id": ids["dashboard"],
        "attributes": {
            "title": "Logs overview",
            "description": f"Events over time by level, top log groups and latest errors of {settings.index_pattern}",
            "panelsJSON": json.dumps(panels_json, sort_keys=True),
            "optionsJSON": json.dumps({"hidePanelTitles": False, "useMargins": True}, sort_keys=True),
            "version": 1,
            "timeRestore": True,
            "timeFrom": "now-24h",
            "timeTo": "now",
            "refreshInterval": {"pause": False, "value": 60000},
            "kibanaSavedObjectMeta": _search_source(with_index=False),
        },
        "references": references,
    })
    return objects


def _references(refs: Any) -> list[tuple]:
    return sorted((r.get("name"), r.get("type"), r.get("id")) for r in refs or ())


def object_matches(existing: Optional[Mapping[str, Any]], desired: Mapping[str, Any]) -> bool:
    """The stored object has every attribute we set with our value, and our references.

    Attributes Dashboards adds itself (an index pattern's ``fields`` after a refresh) are ignored.
    """
    if existing is None or existing.get("error"):
        return False
    attributes = existing.get("attributes") or {}
    return all(attributes.get(key) == value for key, value in desired["attributes"].items()) and (
        _references(existing.get("references")) == _references(desired.get("references"))
    )
