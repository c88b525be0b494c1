"""Checks of one item of a JAGGAER write batch.

The contract (spec section 2) lists every error of an item, not just the first, so a check records
each problem and carries on; the caller decides from `errors` whether the item is applied."""

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

# Amounts and quantities are plain decimal strings without an exponent (spec section 2).
DECIMAL = re.compile(r"-?\d+(\.\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
CURRENCY = re.compile(r"[A-Z]{3}")
CURRENCY_SHAPE = "an ISO currency code such as 'USD'"
_COUNTRY = re.compile(r"[A-Z]{2}")

VALIDATION = "VALIDATION"
UNKNOWN_CUSTOM_FIELD_VALUE = "UNKNOWN_CUSTOM_FIELD_VALUE"
UNKNOWN_SUPPLIER = "UNKNOWN_SUPPLIER"
UNKNOWN_PO = "UNKNOWN_PO"
DUPLICATE = "DUPLICATE"
STALE_REVISION = "STALE_REVISION"


class ItemCheck:
    """Collects the errors of one item. Each reader returns the value when it is valid, else None."""

    def __init__(self) -> None:
        self.errors: list[dict[str, str]] = []

    def fail(self, code: str, field: str, message: str) -> None:
        self.errors.append({"code": code, "field": field, "message": message})

    def invalid(self, field: str, message: str) -> None:
        self.fail(VALIDATION, field, message)

    def obj(self, parent: Mapping[str, Any], name: str, *, at: str = "", required: bool = False) -> dict | None:
        value = parent.get(name)
        if value is None:
            if required:
                self.invalid(at + name, f"{at}{name} is required")
            return None
        if not isinstance(value, dict):
            self.invalid(at + name, f"{at}{name} must be an object")
            return None
        return value

    def objects(self, parent: Mapping[str, Any], name: str, *, at: str = "") -> list[dict]:
        """An optional list whose members must all be objects; the valid members are returned."""
        value = parent.get(name)
        if value is None:
            return []
        if not isinstance(value, list):
            self.invalid(at + name, f"{at}{name} must be a list")
            return []
        valid = []
        for index, member in enumerate(value):
            if isinstance(member, dict):
                valid.append(member)
            else:
                self.invalid(f"{at}{name}[{index}]", f"{at}{name}[{index}] must be an object")
        return valid

    def text(self, parent: Mapping[str, Any], name: str, *, at: str = "", required: bool = False,
             pattern: re.Pattern[str] | None = None, shape: str = "") -> str | None:
        value = parent.get(name)
        if value is None or value == "":
            if required:
                self.invalid(at + name, f"{at}{name} is required")
            return None
        if not isinstance(value, str):
            self.invalid(at + name, f"{at}{name} must be a string")
            return None
        if pattern is not None and not pattern.fullmatch(value):
            self.invalid(at + name, f"{at}{name} must be {shape}, not '{value}'")
            return None
        return value

    def texts(self, parent: Mapping[str, Any], name: str, *, at: str = "",
              pattern: re.Pattern[str] | None = None, shape: str = "") -> None:
        value = parent.get(name)
        if value is None:
            return
        if not isinstance(value, list):
            self.invalid(at + name, f"{at}{name} must be a list")
            return
        for index, member in enumerate(value):
            self.text({"": member}, "", at=f"{at}{name}[{index}]", required=True, pattern=pattern, shape=shape)

    def decimal(self, parent: Mapping[str, Any], name: str, *, at: str = "", required: bool = False) -> str | None:
        return self.text(parent, name, at=at, required=required, pattern=DECIMAL,
                         shape="a decimal string such as '125.05'")

    def day(self, parent: Mapping[str, Any], name: str, *, at: str = "", required: bool = False) -> str | None:
        value = self.text(parent, name, at=at, required=required, pattern=_DATE, shape="a date YYYY-MM-DD")
        if value is None:
            return None
        try:
            date.fromisoformat(value)
        except ValueError:
            self.invalid(at + name, f"{at}{name} is not a calendar date: '{value}'")
            return None
        return value

    def integer(self, parent: Mapping[str, Any], name: str, *, at: str = "", required: bool = False,
                minimum: int = 0) -> int | None:
        value = parent.get(name)
        if value is None:
            if required:
                self.invalid(at + name, f"{at}{name} is required")
            return None
        # bool is an int subclass in Python, but JSON true is not a number.
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            self.invalid(at + name, f"{at}{name} must be an integer of at least {minimum}")
            return None
        return value

    def boolean(self, parent: Mapping[str, Any], name: str, *, at: str = "") -> bool | None:
        value = parent.get(name)
        if value is not None and not isinstance(value, bool):
            self.invalid(at + name, f"{at}{name} must be true or false")
            return None
        return value

    def choice(self, parent: Mapping[str, Any], name: str, choices: tuple[str, ...], *, at: str = "",
               required: bool = False) -> str | None:
        value = self.text(parent, name, at=at, required=required)
        if value is not None and value not in choices:
            self.invalid(at + name, f"{at}{name} must be one of {', '.join(choices)}, not '{value}'")
            return None
        return value

    def currency(self, parent: Mapping[str, Any], name: str, *, at: str = "") -> None:
        self.text(parent, name, at=at, pattern=CURRENCY, shape=CURRENCY_SHAPE)

    def money(self, parent: Mapping[str, Any], name: str, *, at: str = "", required: bool = False) -> None:
        amount = self.obj(parent, name, at=at, required=required)
        if amount is not None:
            self.currency(amount, "currency", at=f"{at}{name}.")
            self.decimal(amount, "value", at=f"{at}{name}.", required=True)

    def country(self, parent: Mapping[str, Any], name: str, *, at: str = "") -> None:
        self.text(parent, name, at=at, pattern=_COUNTRY, shape="an ISO 3166 two-letter code")

    def coding(self, parent: Mapping[str, Any], *, at: str, custom_fields: Mapping[str, dict]) -> None:
        """A document's customFieldValueSetList: each named field must exist and each value must exist
        and be active in it (spec sections 3, 5 and 6)."""
        holder = self.obj(parent, "customFieldValueSetList", at=at)
        if holder is None:
            return
        at = f"{at}customFieldValueSetList."
        for index, value_set in enumerate(self.objects(holder, "customFieldValueSet", at=at)):
            set_at = f"{at}customFieldValueSet[{index}]."
            name = self.text(value_set, "name", at=set_at, required=True)
            values_holder = self.obj(value_set, "customFieldValueList", at=set_at, required=True) or {}
            values = self.objects(values_holder, "customFieldValue", at=f"{set_at}customFieldValueList.")
            if not values:
                self.invalid(f"{set_at}customFieldValueList", f"{set_at}customFieldValueList names no value")
            if name is None:
                continue
            field = custom_fields.get(name)
            if field is None:
                self.fail(UNKNOWN_CUSTOM_FIELD_VALUE, f"{set_at}name", f"No custom field found for {name}")
                continue
            for value_index, value in enumerate(values):
                value_at = f"{set_at}customFieldValueList.customFieldValue[{value_index}]."
                internal_name = self.text(value, "internalName", at=value_at, required=True)
                if internal_name is None:
                    continue
                known = field["values"].get(internal_name)
                if known is None or not known["active"]:
                    self.fail(UNKNOWN_CUSTOM_FIELD_VALUE, f"{value_at}internalName",
                              f"No custom field found for {name} value '{internal_name}'")
