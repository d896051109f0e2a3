"""Laravel-style validation with ProcessMaker's messages.

Rules are data: ``{"username": ["required", "regex:/^[a-z]+$/", "min:2", "unique:users,username"]}``.
Strings name Laravel rules; a callable is a custom rule object (``Unique``, ``PasswordPolicy``).
Semantics follow Laravel 11's ``Validator``: a non-implicit rule is skipped for an absent field,
``sometimes`` skips an absent field entirely, ``nullable`` skips a null one, and the first failing
implicit rule (``required``) stops the remaining rules of that field.

Message texts are ProcessMaker's ``resources/lang/en/validation.php`` (Laravel 11 texts with the
capitalised ``:Attribute``, e.g. "The Username field is required.").
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import ValidationError
from .php import is_numeric, preg, to_string

if TYPE_CHECKING:
    from .store import Store

MESSAGES: dict[str, str] = {
    "required": "The :Attribute field is required.",
    "required_without": "The :Attribute field is required when :values is not present.",
    "string": "The :Attribute field must be a string.",
    "array": "The :Attribute field must be an array.",
    "boolean": "The :Attribute field must be true or false.",
    "integer": "The :Attribute field must be an integer.",
    "numeric": "The :Attribute field must be a number.",
    "email": "The :Attribute field must be a valid email address.",
    "date": "The :Attribute field must be a valid date.",
    "url": "The :Attribute field must be a valid URL.",
    "in": "The selected :Attribute is invalid.",
    "exists": "The selected :Attribute is invalid.",
    "regex": "The :Attribute field format is invalid.",
    "unique": "The :Attribute has already been taken.",
    "min.numeric": "The :Attribute field must be at least :min.",
    "min.string": "The :Attribute field must be at least :min characters.",
    "min.array": "The :Attribute field must have at least :min items.",
    "max.numeric": "The :Attribute field must not be greater than :max.",
    "max.string": "The :Attribute field must not be greater than :max characters.",
    "max.array": "The :Attribute field must not have more than :max items.",
    # ProcessMakerServiceProvider's custom rule.
    "alpha_spaces": "The :Attribute may only contain alphanumeric characters.",
    # Laravel's Password rule object.
    "password.numbers": "The :Attribute field must contain at least one number.",
    "password.symbols": "The :Attribute field must contain at least one symbol.",
    # ProcessMaker\Rules\StringHasAtLeastOneUpperCaseCharacter (note the lower-case :attribute).
    "password.uppercase": "The :attribute must contain at least one uppercase character.",
}

# validation.php 'attributes': display names that replace the field name in every message.
ATTRIBUTES: dict[str, str] = {"title": "name", "firstname": "First Name", "lastname": "Last Name", "config": "Config"}

# Rules that run even when the field is absent or empty; their failure stops the field's other rules.
IMPLICIT_RULES = {"required", "required_without"}
NUMERIC_RULES = {"numeric", "integer"}

Data = Mapping[str, Any]
RuleSet = dict[str, list["str | CustomRule"]]
CustomRule = Callable[["Validator", str, Any], list[str]]

_MISSING = object()


def display_name(attribute: str, attributes: Mapping[str, str] | None = None) -> str:
    """Laravel's attribute name: a custom name, else snake_case with spaces."""
    if attributes and attribute in attributes:
        return attributes[attribute]
    if attribute in ATTRIBUTES:
        return ATTRIBUTES[attribute]
    snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", attribute).lower()
    return snake.replace("_", " ")


def format_message(template: str, attribute: str, attributes: Mapping[str, str] | None = None, **values: Any) -> str:
    name = display_name(attribute, attributes)
    text = template.replace(":Attribute", name[:1].upper() + name[1:]).replace(":ATTRIBUTE", name.upper())
    text = text.replace(":attribute", name)
    for key, value in values.items():
        text = text.replace(f":{key}", str(value))
    return text


def is_alpha_spaces(value: Any) -> bool:
    # /^[\pL\s\-\_\d\.\']+$/u : letters, whitespace, - _ digits . '
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        return False
    text = to_string(value)
    if not text:
        return False
    for char in text:
        if unicodedata.category(char).startswith("L") or char.isspace() or char in "-_.'" or char.isdigit():
            continue
        return False
    return True


_EMAIL_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$")
_EMAIL_DOMAIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")


def is_email(value: Any) -> bool:
    """An approximation of egulias' RFCValidation, which Laravel's plain ``email`` rule uses."""
    if not isinstance(value, str) or value.count("@") != 1:
        return False
    local, domain = value.split("@")
    if not local or len(local) > 64 or local.startswith(".") or local.endswith(".") or ".." in local:
        return False
    if not _EMAIL_LOCAL.match(local):
        return False
    if domain.startswith("[") and domain.endswith("]"):
        return True
    return bool(domain) and len(domain) <= 255 and _EMAIL_DOMAIN.match(domain) is not None


_DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%m/%d/%Y", "%Y/%m/%d", "%d-%m-%Y", "%d.%m.%Y")


def is_date(value: Any) -> bool:
    """Laravel's ``date``: something strtotime() understands and checkdate() accepts."""
    if not isinstance(value, str) or not value.strip():
        return False
    text = value.strip()
    try:
        dt.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)  # 3.10 has no Z
        return True
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            dt.datetime.strptime(text, fmt)
            return True
        except ValueError:
            continue
    return False


@dataclass
class Unique:
    """``unique:table,column`` with MySQL's case-insensitive comparison, ignoring one row."""

    table: str
    column: str
    ignore_id: int | None = None
    where: dict[str, Any] = field(default_factory=dict)  # extra equality conditions (e.g. category kind)
    rule_name: str = "unique"

    def __call__(self, validator: Validator, attribute: str, value: Any) -> list[str]:
        store = validator.store
        assert store is not None, "unique needs a store"
        if isinstance(value, (list, dict)):
            return [validator.message("unique", attribute)]
        sql = f'SELECT 1 FROM "{self.table}" WHERE "{self.column}" = ? COLLATE NOCASE'
        params: list[Any] = [to_string(value)]
        if self.ignore_id is not None:
            sql += " AND id <> ?"
            params.append(self.ignore_id)
        for column, expected in self.where.items():
            sql += f' AND "{column}" = ?'
            params.append(expected)
        if store.scalar(sql + " LIMIT 1", tuple(params)):
            return [validator.message("unique", attribute)]
        return []


@dataclass
class PasswordPolicy:
    """ProcessMaker's password rules: ``Password::min(n)->numbers()->symbols()``, an optional ``max``,
    and ``StringHasAtLeastOneUpperCaseCharacter``, each switched by a ``password-policies.*`` setting
    (``models.settings.password_policy``)."""

    minimum_length: int = 8
    maximum_length: int | None = None
    numbers: bool = True
    symbols: bool = True
    uppercase: bool = True

    def __call__(self, validator: Validator, attribute: str, value: Any) -> list[str]:
        errors: list[str] = []
        # Laravel's Password rule runs an inner validator (string, min, max) and then its "after"
        # checks, so a short password reports the length and the missing character classes together.
        if not isinstance(value, str):
            errors.append(validator.message("string", attribute))
            text = ""
        else:
            text = value
            if len(text) < self.minimum_length:
                errors.append(validator.message("min.string", attribute, min=self.minimum_length))
            if self.maximum_length is not None and len(text) > self.maximum_length:
                errors.append(validator.message("max.string", attribute, max=self.maximum_length))
            if self.symbols and not any(unicodedata.category(c)[0] in "SPZ" for c in text):
                errors.append(validator.message("password.symbols", attribute))
            if self.numbers and not any(unicodedata.category(c).startswith("N") for c in text):
                errors.append(validator.message("password.numbers", attribute))
        if self.uppercase and isinstance(value, (str, int, float)) and not re.search("[A-Z]", to_string(value)):
            errors.append(validator.message("password.uppercase", attribute))
        return errors


class Validator:
    def __init__(
        self,
        data: Data,
        rules: RuleSet,
        *,
        store: Store | None = None,
        messages: Mapping[str, str] | None = None,
        attributes: Mapping[str, str] | None = None,
    ) -> None:
        self.data = data
        self.rules = rules
        self.store = store
        self.custom_messages = messages or {}
        self.attributes = attributes

    def message(self, key: str, attribute: str, **values: Any) -> str:
        rule = key.split(".", 1)[0]
        # Laravel looks for "attribute.rule", then a message for the rule on any attribute.
        template = self.custom_messages.get(f"{attribute}.{rule}") or self.custom_messages.get(rule) or MESSAGES[key]
        return format_message(template, attribute, self.attributes, **values)

    def errors(self) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        for attribute, rules in self.rules.items():
            messages = self._validate_attribute(attribute, rules)
            if messages:
                errors[attribute] = messages
        return errors

    def validate(self) -> None:
        errors = self.errors()
        if errors:
            raise ValidationError(errors)

    # one field
    def _validate_attribute(self, attribute: str, rules: list[str | CustomRule]) -> list[str]:
        value = self.data.get(attribute, _MISSING)
        names = {rule.split(":", 1)[0] for rule in rules if isinstance(rule, str)}
        if "sometimes" in names and value is _MISSING:
            return []
        messages: list[str] = []
        for rule in rules:
            name = rule.split(":", 1)[0] if isinstance(rule, str) else "custom"
            if name in ("sometimes", "nullable", "bail"):
                continue
            implicit = name in IMPLICIT_RULES
            absent = value is _MISSING or (isinstance(value, str) and value.strip() == "")
            if absent and not implicit:
                continue
            if value is None and "nullable" in names and not implicit:
                continue
            failed = self._check(rule, attribute, None if value is _MISSING else value, names)
            messages.extend(failed)
            if failed and implicit:
                break
        return messages

    def _check(self, rule: str | CustomRule, attribute: str, value: Any, names: set[str]) -> list[str]:
        if not isinstance(rule, str):
            return rule(self, attribute, value)
        name, _, parameter = rule.partition(":")
        check = getattr(self, f"_rule_{name}", None)
        if check is None:
            raise ValueError(f"unknown validation rule {name!r}")
        return check(attribute, value, parameter, names)

    def _size(self, value: Any, names: set[str]) -> tuple[float, str]:
        if names & NUMERIC_RULES and is_numeric(value):
            return float(value), "numeric"
        if isinstance(value, (list, dict)):
            return len(value), "array"
        return len(to_string(value)), "string"

    # the rules (Laravel's names)
    def _rule_required(self, attribute: str, value: Any, parameter: str, names: set[str]) -> list[str]:
        empty = value is None or (isinstance(value, str) and value.strip() == "") or value in ([], {})
        return [self.message("required", attribute)] if empty else []

    def _rule_required_without(self, attribute: str, value: Any, parameter: str, names: set[str]) -> list[str]:
        others = parameter.split(",")
        if any(self.data.get(other) not in (None, "", [], {}) for other in others):
            return []
        shown = " / ".join(display_name(other, self.attributes) for other in others)
        return self._rule_required(attribute, value, "", names) and [
            self.message("required_without", attribute, values=shown)
        ]

    def _rule_string(self, attribute: str, value: Any, parameter: str, names: set[str]) -> list[str]:
        return [] if isinstance(value, str) else [self.message("string", attribute)]

    def _rule_array(self, attribute: str, value: Any, parameter: str, names: set[str]) -> list[str]:
        return [] if isinstance(value, (list, dict)) else [self.message("array", attribute)]

    def _rule_boolean(self, attribute: str, value: Any, parameter: str, names: set[str]) -> list[str]:
        ok = value in (True, False, 0, 1, "0", "1") and not isinstance(value, float)
        return [] if ok else [self.message("boolean", attribute)]

    def _rule_integer(self, attribute: str, value: Any, parameter: str, names: set[str]) -> list[str]:
        ok = (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value) is not None
        )
        return [] if ok else [self.message("integer", attribute)]

    def _rule_numeric(self, attribute: str, value: Any, parameter: str, names: set[str]) -> list[str]:
        return [] if is_numeric(value) else [self.message("numeric", attribute)]

    def _rule_email(self, attribute: str, value: Any, parameter: str, names: set[str]) -> list[str]:
        return [] if is_email(value) else [self.message("email", attribute)]

    def _rule_date(self, attribute: str, value: Any, parameter: str, names: set[str]) -> list[str]:
        return [] if is_date(value) else [self.message("date", attribute)]

    def _rule_url(self, attribute: str, value: Any, parameter: str, names: set[str]) -> list[str]:
        ok = isinstance(value, str) and re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/?#]+[^\s]*$", value) is not None
        return [] if ok else [self.message("url", attribute)]

    def _rule_in(self, attribute: str, value: Any, parameter: str, names: set[str]) -> list[str]:
        allowed = parameter.split(",") if parameter else []
        if isinstance(value, (list, dict)) and "array" in names:
            items = list(value.values()) if isinstance(value, dict) else value
            ok = all(not isinstance(item, (list, dict)) and to_string(item) in allowed for item in items)
        else:
            ok = not isinstance(value, (list, dict)) and to_string(value) in allowed
        return [] if ok else [self.message("in", attribute)]

    def _rule_regex(self, attribute: str, value: Any, parameter: str, names: set[str]) -> list[str]:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            return [self.message("regex", attribute)]
        return [] if preg(parameter).search(to_string(value)) else [self.message("regex", attribute)]

    def _rule_alpha_spaces(self, attribute: str, value: Any, parameter: str, names: set[str]) -> list[str]:
        return [] if is_alpha_spaces(value) else [self.message("alpha_spaces", attribute)]

    def _rule_min(self, attribute: str, value: Any, parameter: str, names: set[str]) -> list[str]:
        size, kind = self._size(value, names)
        return [] if size >= float(parameter) else [self.message(f"min.{kind}", attribute, min=parameter)]

    def _rule_max(self, attribute: str, value: Any, parameter: str, names: set[str]) -> list[str]:
        size, kind = self._size(value, names)
        return [] if size <= float(parameter) else [self.message(f"max.{kind}", attribute, max=parameter)]

    def _rule_unique(self, attribute: str, value: Any, parameter: str, names: set[str]) -> list[str]:
        table, _, column = parameter.partition(",")
        return Unique(table, column or attribute)(self, attribute, value)

    def _rule_exists(self, attribute: str, value: Any, parameter: str, names: set[str]) -> list[str]:
        assert self.store is not None, "exists needs a store"
        table, _, column = parameter.partition(",")
        found = not isinstance(value, (list, dict)) and self.store.scalar(
            f'SELECT 1 FROM "{table}" WHERE "{column or attribute}" = ? LIMIT 1', (to_string(value),)
        )
        return [] if found else [self.message("exists", attribute)]


def validate(data: Data, rules: RuleSet, **options: Any) -> None:
    """Raise ``ValidationError`` with every failing field's messages, in rule order (``options``: the
    Validator's ``store``, ``messages``, ``attributes``)."""
    Validator(data, rules, **options).validate()


def taken(attribute: str) -> ValidationError:
    """The ``unique`` failure, for a UNIQUE index that caught a race the rule could not see."""
    return ValidationError({attribute: [format_message(MESSAGES["unique"], attribute)]})
