"""Reading the NetSuite sandbox's data set directly: the oracle the sync tests compare JAGGAER with."""

from typing import Any


def netsuite_rows(netsuite: Any, query: str, params: list | None = None) -> list[dict]:
    rows: list[dict] = []
    offset = 0
    while True:
        page = netsuite.app.dataset.suiteql(query=query, params=params, limit=1000, offset=offset, self_url="x")
        rows.extend(page["items"])
        if not page["hasMore"]:
            return rows
        offset += 1000


def coding_of(value_sets: dict | None) -> dict[str, str]:
    """{"GLAccount": "6100", ...} from a document's customFieldValueSetList."""
    return {
        value_set["name"]: value_set["customFieldValueList"]["customFieldValue"][0]["internalName"]
        for value_set in (value_sets or {}).get("customFieldValueSet", [])
    }


def jaggaer_writes(jaggaer: Any) -> int:
    return len(jaggaer.app.received())
