"""The flows, in dependency order: a record is delivered only after what it depends on (a PO's supplier, a
bill's PO), so a pass runs them in this order. Each module holds everything one flow knows (sync/flows/base.py
says what that is); adding a flow is adding a module and a line here."""

from sync.flows.base import FlowDefinition
from sync.flows.classifications import Classifications
from sync.flows.gl_accounts import GlAccounts
from sync.flows.purchase_orders import PurchaseOrders
from sync.flows.vendor_bills import VendorBills
from sync.flows.vendors import Vendors

FLOWS: tuple[FlowDefinition, ...] = (GlAccounts(), Classifications(), Vendors(), PurchaseOrders(), VendorBills())
FLOWS_IN_ORDER: list[str] = [str(definition.flow) for definition in FLOWS]
_BY_NAME = {str(definition.flow): definition for definition in FLOWS}
_BY_RECORD_TYPE = {record_type: definition for definition in FLOWS for record_type in definition.record_types}
# NetSuite record types whose push events are taken (the webhook refuses others).
PUSHED_RECORD_TYPES = frozenset(_BY_RECORD_TYPE)


def flow_named(name: str) -> FlowDefinition:
    """The flow of a SyncRecord's or a schedule's `flow` value; KeyError for one that does not exist."""
    return _BY_NAME[str(name)]


def flow_of_record_type(record_type: str) -> FlowDefinition:
    return _BY_RECORD_TYPE[record_type]
