"""What happens in NetSuite while the soak runs: people change records (through the sandbox data set's
mutations), and the customer's SuiteScript pushes most of those changes, and other saves, to the webhook.
Every choice comes from the soak's seeded generator."""

import queue
import random
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import requests

from sandbox.netsuite.app import NetSuiteSandbox
from sandbox.netsuite.generator import ITEMS

# A change that the script does not push (not deployed for that record type, or its https.post timed out):
# only a poll finds it.
UNPUSHED_SHARE = 0.2
# The script sends an event again when it got no answer: the webhook must take the repeat as a duplicate.
REPEATED_SHARE = 0.05
PUSH_ATTEMPTS = 4
ACTIVE_ITEMS = [row[0] for row in ITEMS if not row[5]]


@dataclass(frozen=True)
class Push:
    record_type: str
    record_id: str
    event_type: str


@dataclass
class Deleted:
    """A record deleted during the soak: JAGGAER holds it cancelled if it got there before, else not at all."""

    record_type: str
    record_id: str
    document_number: str


def _rows(netsuite: NetSuiteSandbox, query: str, params: list | None = None) -> list[dict]:
    return netsuite.dataset.suiteql(query=query, params=params, limit=1000, offset=0, self_url="x")["items"]


def _ids(netsuite: NetSuiteSandbox, query: str) -> list[str]:
    """Every id a query selects, read straight from the data set (no HTTP, no faults)."""
    found: list[str] = []
    offset = 0
    while True:
        page = netsuite.dataset.suiteql(query=query, params=None, limit=1000, offset=offset, self_url="x")
        found += [row["id"] for row in page["items"]]
        if not page["hasMore"]:
            return found
        offset += 1000


class NetSuiteChanges:
    """Edits, creations and deletions of the kinds the connector must follow: header and line-only edits of
    POs, new POs (some coded to a GL account created moments before, which JAGGAER does not have yet), bills
    of open POs, new and edited vendors, new GL accounts, and deleted POs."""

    def __init__(self, netsuite: NetSuiteSandbox, rng: random.Random) -> None:
        self.netsuite = netsuite
        self.dataset = netsuite.dataset
        self.rng = rng
        self.vendors = _ids(netsuite, "SELECT id FROM vendor WHERE isinactive = 'F' ORDER BY id")
        # Open POs nobody billed: the ones that may be billed or deleted. Billed ones are only edited.
        self.unbilled = _ids(netsuite, "SELECT id FROM transaction WHERE type = 'PurchOrd' AND status IN ('A', 'B', 'D') "
                                       "ORDER BY id")
        self.billed = _ids(netsuite, "SELECT id FROM transaction WHERE type = 'PurchOrd' AND status NOT IN ('A', 'B', 'D') "
                                     "ORDER BY id")
        self.seeded = {
            "vendor": list(self.vendors),
            "purchaseorder": self.unbilled + self.billed,
            "vendorbill": _ids(netsuite, "SELECT id FROM transaction WHERE type = 'VendBill' ORDER BY id"),
            "account": _ids(netsuite, "SELECT id FROM account ORDER BY id"),
        }
        self.new_accounts: list[str] = []
        self.deleted: list[Deleted] = []
        self.made: Counter[str] = Counter()
        self._number = 0
        self._changes = [(self.edit_po_header, 3), (self.edit_po_line, 2), (self.new_po, 2), (self.bill_po, 1),
                         (self.new_vendor, 1), (self.edit_vendor, 1), (self.new_account, 0.4), (self.delete_po, 0.3)]

    def _next_number(self) -> int:
        self._number += 1
        return self._number

    def make_one(self) -> list[Push]:
        """One change; the events the script pushes for it (none for the share it does not push)."""
        change = self.rng.choices([c for c, _ in self._changes], weights=[w for _, w in self._changes])[0]
        pushes = change()
        self.made[change.__name__] += 1
        return [] if self.rng.random() < UNPUSHED_SHARE else pushes

    def seeded_save(self) -> Push:
        """A save of a seeded record that changes nothing the connector sends (an approval, a re-save):
        pushed, and polled too, at the same time."""
        record_type = self.rng.choice(sorted(self.seeded))
        return Push(record_type, self.rng.choice(self.seeded[record_type]), "edit")

    def _open_po(self) -> str:
        return self.rng.choice(self.unbilled + self.billed)

    def edit_po_header(self) -> list[Push]:
        po = self._open_po()
        self.dataset.update_purchase_order(po, memo=f"Chaos edit {self._next_number()}")
        return [Push("purchaseorder", po, "edit")]

    def edit_po_line(self) -> list[Push]:
        """A line-only edit: NetSuite moves the line's linelastmodifieddate, not the header's."""
        po = self._open_po()
        lines = _rows(self.netsuite, "SELECT id, item FROM transactionline WHERE transaction = ? AND mainline = 'F' "
                                     "AND taxline = 'F' ORDER BY id", [int(po)])
        line = self.rng.choice(lines)
        if "item" in line:
            self.dataset.update_purchase_order_line(po, int(line["id"]), quantity=float(self.rng.randint(1, 30)))
        else:
            self.dataset.update_purchase_order_line(po, int(line["id"]), memo=f"Chaos line edit {self._next_number()}")
        return [Push("purchaseorder", po, "edit")]

    def new_po(self) -> list[Push]:
        number = self._next_number()
        lines: list[dict[str, Any]] = [{"item": self.rng.choice(ACTIVE_ITEMS), "quantity": self.rng.randint(1, 9),
                                        "rate": round(self.rng.uniform(5, 900), 2)}]
        if self.new_accounts and self.rng.random() < 0.5:
            lines.append({"account": int(self.rng.choice(self.new_accounts)), "amount": round(self.rng.uniform(20, 2000), 2)})
        po = self.dataset.create_purchase_order(vendor_id=self.rng.choice(self.vendors), lines=lines,
                                                tranid=f"CHAOS-PO-{number}", memo=f"Chaos order {number}")
        self.unbilled.append(po)
        return [Push("purchaseorder", po, "create")]

    def _take_unbilled(self) -> str | None:
        """An open PO nobody billed, no longer one that may be billed or deleted."""
        return self.unbilled.pop(self.rng.randrange(len(self.unbilled))) if self.unbilled else None

    def bill_po(self) -> list[Push]:
        po = self._take_unbilled()
        if po is None:
            return self.edit_po_header()
        self.billed.append(po)
        bill = self.dataset.create_vendor_bill(po_id=po, tranid=f"CHAOS-BILL-{self._next_number()}")
        return [Push("vendorbill", bill, "create")]

    def new_vendor(self) -> list[Push]:
        number = self._next_number()
        vendor = self.dataset.create_vendor(companyname=f"Chaos Supplies {number} LLC", email=f"ap{number}@chaos.example.com",
                                            currency=1, terms=2, subsidiary=2)
        self.vendors.append(vendor)
        return [Push("vendor", vendor, "create")]

    def edit_vendor(self) -> list[Push]:
        vendor = self.rng.choice(self.vendors)
        self.dataset.update_vendor(vendor, phone=f"+1 415 555 {self.rng.randint(1000, 9999)}")
        return [Push("vendor", vendor, "edit")]

    def new_account(self) -> list[Push]:
        number = self._next_number()
        account = self.dataset.create_account(name=f"Chaos expense {number}", acctnumber=f"79{number:03d}",
                                              description="Opened during the chaos soak")
        self.new_accounts.append(account)
        return [Push("account", account, "create")]

    def delete_po(self) -> list[Push]:
        po = self._take_unbilled()
        if po is None:
            return self.edit_po_header()
        [row] = _rows(self.netsuite, "SELECT tranid FROM transaction WHERE id = ?", [int(po)])
        self.dataset.delete_record("purchaseorder", po)
        self.deleted.append(Deleted("purchaseorder", po, row["tranid"]))
        return [Push("purchaseorder", po, "delete")]


@dataclass
class PushCounts:
    answers: Counter[int] = field(default_factory=Counter)  # pushes the webhook took: 202 accepted, 200 repeat
    given_up: int = 0  # not delivered to the webhook after PUSH_ATTEMPTS tries
    retried: int = 0


class Pusher:
    """NetSuite's SuiteScript: posts events to the webhook from a thread of its own, so that the soak's
    timeline keeps its moments while the web host is slow or down. A refused or unanswered post (503 while
    PostgreSQL restarts, a connection error) is tried again a few times, then given up, as the script does."""

    def __init__(self, *, netsuite: NetSuiteSandbox, url: str, secret: str, rng: random.Random) -> None:
        self.netsuite = netsuite
        self.url = url
        self.secret = secret
        self.rng = rng
        self.counts = PushCounts()
        self._queue: queue.Queue[Push | None] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chaos-pusher", daemon=True)
        self._thread.start()

    def push(self, event: Push) -> None:
        self._queue.put(event)

    def stop(self, *, seconds: float) -> None:
        """Sends what is queued within `seconds`, then stops."""
        self._queue.put(None)
        self._thread.join(timeout=seconds)
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            event = self._queue.get()
            if event is None:
                return
            event_id = str(uuid.uuid4())
            self._send(event, event_id)
            if self.rng.random() < REPEATED_SHARE:
                self._send(event, event_id)

    def _send(self, event: Push, event_id: str) -> None:
        for attempt in range(1, PUSH_ATTEMPTS + 1):
            try:
                answer = self.netsuite.send_push_event(url=self.url, secret=self.secret, record_type=event.record_type,
                                                       record_id=event.record_id, event_type=event.event_type,
                                                       event_id=event_id)
            except requests.RequestException:
                status = 0
            else:
                status = answer.status_code
            if status in (200, 202) or attempt == PUSH_ATTEMPTS or self._stop.wait(0.5 * attempt):
                break
            self.counts.retried += 1
        if status in (200, 202):
            self.counts.answers[status] += 1
        else:
            self.counts.given_up += 1
