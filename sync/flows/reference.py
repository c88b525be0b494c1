"""What the two reference flows share (GL accounts, classifications): each NetSuite row becomes a value of
a JAGGAER custom field (contract section 8), upserted; after delivery JAGGAER's values are read back so that
mapping forms and coding checks see what JAGGAER has."""

from typing import TYPE_CHECKING

from mappings.models import CodingKind
from mappings.references import dimension_fields_of, store_jaggaer_fields, store_jaggaer_values
from mappings.validation import JAGGAER_INTERNAL_NAME
from sync.flows.base import Built, FlowDefinition, Item
from sync.remote.errors import SourceDataError
from sync.remote.jaggaer_client import ItemResult, JaggaerClient

if TYPE_CHECKING:
    from credentials.models import ConnectionPair


class ReferenceFlow(FlowDefinition):
    def batch_of(self, item: Item) -> str:
        return item.body["field"]

    def send(self, client: JaggaerClient, items: list[Item]) -> list[ItemResult]:
        return client.upsert_custom_field_values(field_name=items[0].body["field"],
                                                 values=[item.body["value"] for item in items])

    def after_delivery(self, *, pair: "ConnectionPair", client: JaggaerClient) -> None:
        fields = dimension_fields_of(pair.jaggaer)
        store_jaggaer_fields(connection=pair.jaggaer, fields=client.custom_fields())
        for kind in self.writes_values_of:
            store_jaggaer_values(connection=pair.jaggaer, field=fields[kind],
                                 values=client.custom_field_values(fields[kind]))


def reference_value(source: dict, deleted: bool, dimension_fields: dict[str, str], kind: str,
                    internal_name: str) -> Built:
    # The rule mappings are held to (mappings/validation.py): a value they could never name is no use.
    if not JAGGAER_INTERNAL_NAME.match(internal_name):
        raise SourceDataError(f"{CodingKind(kind).label} {internal_name!r} cannot be a JAGGAER value (an "
                              "internalName: not empty, no line breaks or surrounding spaces)")
    return Built(content={
        "field": dimension_fields[kind],
        "value": {
            "internalName": internal_name,
            "value": internal_name,
            "description": source["fullname"],
            "active": not (source["isinactive"] or deleted),
        },
    })
