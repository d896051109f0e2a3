"""Gateway conditions: the subset of ProcessMaker's FEEL expressions the sandbox evaluates.

ProcessMaker evaluates a sequence flow's ``conditionExpression`` with ``ProcessMaker\\Models\\FormalExpression``:
the text is first rendered as a Mustache template with the request data, an empty result is ``true``,
and the rest is evaluated by Symfony's ExpressionLanguage over the data (``json_decode(json_encode($data))``,
so JSON objects are PHP objects and JSON lists PHP arrays). Its operators compare like PHP 8's ``==``/``<``.

The sandbox evaluates this grammar, with the same precedence and PHP 8 semantics::

    expression := or
    or         := and (("or" | "||") and)*
    and        := compare (("and" | "&&") compare)*
    compare    := unary (("==" | "!=" | "===" | "!==" | "<" | ">" | "<=" | ">=") unary)*
    unary      := ("not" | "!") unary | primary        # binds tighter than comparisons, as in Symfony
    primary    := "(" expression ")" | literal | name ("." name)*
    literal    := 'string' | "string" | ["-" | "+"]number | true | false | null   (also TRUE, FALSE, NULL)

Anything else (arithmetic, ``~``, ``in``, ``matches``, ``contains``, ``starts with``, the ternary,
function calls such as ``lowercase()``, array or hash literals, ``[index]`` access, Mustache ``{{ }}``)
raises ``Unsupported``: the engine puts the request in ERROR with that message instead of guessing.
Evaluation errors that ProcessMaker also raises (an unknown variable, a property of a non-object, a
missing property) raise ``EvaluationFailed`` with Symfony's or PHP's message.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any


class ExpressionError(Exception):
    """The condition could not be evaluated; the message says why."""


class Unsupported(ExpressionError):
    """The condition uses something outside the sandbox's subset."""


class EvaluationFailed(ExpressionError):
    """ProcessMaker would fail on this condition too (e.g. an undefined variable)."""


# ---- tokens -------------------------------------------------------------------------------------

_NAME = re.compile(r"[a-zA-Z_\x7f-\uffff][a-zA-Z_0-9\x7f-\uffff]*")
_NUMBER = re.compile(r"(?:[0-9][0-9_]*(?:\.[0-9_]+)?|\.[0-9_]+)(?:[eE][+-]?[0-9_]+)?")
_STRING = re.compile(r""""([^"\\]*(?:\\.[^"\\]*)*)"|'([^'\\]*(?:\\.[^'\\]*)*)'""", re.DOTALL)
# Longest first, like Symfony's lexer.
_OPERATORS = ("===", "!==", "==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "(", ")", ".")
_UNSUPPORTED_OPERATORS = ("..", "**", "?:", "??", "?.", "=~", "+", "-", "*", "/", "%", "~", "?", ":", "[", "]",
                          "{", "}", ",", "|", "&", "^", "=")
_WORD_OPERATORS = {"and", "or", "not"}
_UNSUPPORTED_WORDS = {"in", "matches", "contains", "starts", "ends", "xor"}
_CONSTANTS = {"true": True, "TRUE": True, "false": False, "FALSE": False, "null": None, "NULL": None}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "v": "\v", "f": "\f", "e": "\x1b", "0": "\0", "\\": "\\",
            "'": "'", '"': '"', "a": "\a", "b": "\b"}


@dataclass(frozen=True)
class Token:
    kind: str  # "name", "number", "string", "operator", "end"
    value: Any
    position: int  # 0-based offset in the expression


def _unescape(text: str) -> str:
    """PHP's ``stripcslashes`` for the escapes a condition plausibly holds."""
    return re.sub(r"\\(.)", lambda match: _ESCAPES.get(match.group(1), match.group(1)), text, flags=re.DOTALL)


def _number(text: str) -> int | float:
    text = text.replace("_", "")
    if re.fullmatch(r"[0-9]+", text):
        value = int(text)
        return value if value <= 2**63 - 1 else float(value)
    return float(text)


def _signed_number(expression: str, position: int, tokens: list[Token]) -> tuple[int | float, int] | None:
    """A ``-`` or ``+`` where a value starts (not after a value or ``)``), directly before a number literal."""
    if expression[position] not in "+-":
        return None
    previous = tokens[-1] if tokens else None
    if previous is not None and (previous.kind != "operator" or previous.value == ")"):
        return None
    match = _NUMBER.match(expression, position + 1)
    if match is None:
        return None
    value = _number(match.group(0))
    return (-value if expression[position] == "-" else value), match.end()


def tokenize(expression: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    length = len(expression)
    while position < length:
        char = expression[position]
        if char.isspace():
            position += 1
            continue
        if match := _NUMBER.match(expression, position):
            tokens.append(Token("number", _number(match.group(0)), position))
            position = match.end()
            continue
        signed = _signed_number(expression, position, tokens)
        if signed is not None:
            tokens.append(Token("number", signed[0], position))
            position = signed[1]
            continue
        if char in "\"'":
            match = _STRING.match(expression, position)
            if match is None:
                raise EvaluationFailed(f'Unexpected character "{char}" around position {position} for expression '
                                       f'`{expression}`.')
            raw = match.group(1) if match.group(1) is not None else match.group(2)
            tokens.append(Token("string", _unescape(raw), position))
            position = match.end()
            continue
        operator = next((op for op in _OPERATORS if expression.startswith(op, position)), None)
        unsupported = next((op for op in _UNSUPPORTED_OPERATORS if expression.startswith(op, position)), None)
        if unsupported is not None and (operator is None or len(unsupported) > len(operator)):
            raise Unsupported(f'the operator "{unsupported}" (position {position + 1}) is not supported by pm_sandbox')
        if operator is not None:
            tokens.append(Token("operator", operator, position))
            position += len(operator)
            continue
        if match := _NAME.match(expression, position):
            word = match.group(0)
            if word in _WORD_OPERATORS:
                tokens.append(Token("operator", word, position))
            elif word in _UNSUPPORTED_WORDS:
                raise Unsupported(f'the operator "{word}" (position {position + 1}) is not supported by pm_sandbox')
            else:
                tokens.append(Token("name", word, position))
            position = match.end()
            continue
        raise EvaluationFailed(f'Unexpected character "{char}" around position {position} for expression '
                               f'`{expression}`.')
    tokens.append(Token("end", None, length))
    return tokens


# ---- the tree ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Name:
    name: str
    position: int


@dataclass(frozen=True)
class Attribute:
    target: Any
    name: str
    dump: str  # how Symfony names the target in its error message


@dataclass(frozen=True)
class Not:
    operand: Any


@dataclass(frozen=True)
class Binary:
    operator: str
    left: Any
    right: Any


_COMPARISONS = ("==", "!=", "===", "!==", "<", ">", "<=", ">=")


class _Parser:
    def __init__(self, expression: str, names: set[str]) -> None:
        self.expression = expression
        self.names = names
        self.tokens = tokenize(expression)
        self.index = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def is_operator(self, *values: str) -> bool:
        return self.current.kind == "operator" and self.current.value in values

    def syntax_error(self, message: str, token: Token) -> EvaluationFailed:
        return EvaluationFailed(f"{message} around position {token.position + 1} for expression `{self.expression}`.")

    def parse(self) -> Any:
        node = self.parse_or()
        if self.current.kind != "end":
            token = self.current
            raise self.syntax_error(f'Unexpected token "{token.kind}" of value "{token.value}"', token)
        return node

    def parse_or(self) -> Any:
        node = self.parse_and()
        while self.is_operator("or", "||"):
            self.advance()
            node = Binary("or", node, self.parse_and())
        return node

    def parse_and(self) -> Any:
        node = self.parse_compare()
        while self.is_operator("and", "&&"):
            self.advance()
            node = Binary("and", node, self.parse_compare())
        return node

    def parse_compare(self) -> Any:
        node = self.parse_unary()
        while self.is_operator(*_COMPARISONS):
            operator = self.advance().value
            node = Binary(operator, node, self.parse_unary())
        return node

    def parse_unary(self) -> Any:
        if self.is_operator("not", "!"):
            self.advance()
            return Not(self.parse_unary())
        return self.parse_primary()

    def parse_primary(self) -> Any:
        token = self.advance()
        if token.kind == "operator" and token.value == "(":
            node = self.parse_or()
            if not self.is_operator(")"):
                raise self.syntax_error("An opened parenthesis is not properly closed", self.current)
            self.advance()
            return self.postfix(node, "")
        if token.kind in ("number", "string"):
            return Literal(token.value)
        if token.kind == "name":
            if self.is_operator("("):
                raise Unsupported(f'the function call "{token.value}()" (position {token.position + 1}) is not '
                                  "supported by pm_sandbox")
            if token.value in _CONSTANTS:
                return Literal(_CONSTANTS[token.value])
            if token.value not in self.names:
                raise self.syntax_error(f'Variable "{token.value}" is not valid', token)
            return self.postfix(Name(token.value, token.position), token.value)
        if token.kind == "end":
            raise self.syntax_error("Unexpected end of expression", token)
        raise self.syntax_error(f'Unexpected token "{token.kind}" of value "{token.value}"', token)

    def postfix(self, node: Any, dump: str) -> Any:
        while self.is_operator("."):
            self.advance()
            token = self.advance()
            if token.kind != "name":
                raise self.syntax_error("Expected name", token)
            if self.is_operator("("):
                raise Unsupported(f'the method call ".{token.value}()" (position {token.position + 1}) is not '
                                  "supported by pm_sandbox")
            node = Attribute(node, token.value, dump)
            dump = f"{dump}.{token.value}" if dump else token.value
        return node


def parse(expression: str, names: set[str]) -> Any:
    """The expression's tree; ``names`` are the variables it may use (Symfony rejects any other)."""
    if "{{" in expression:
        raise Unsupported("Mustache templates ({{ ... }}) in conditions are not supported by pm_sandbox")
    return _Parser(expression, names).parse()


# ---- PHP 8 values -------------------------------------------------------------------------------------

_NUMERIC = re.compile(r"[ \t\n\r\v\f]*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[ \t\n\r\v\f]*")


class PhpObject(dict):  # type: ignore[type-arg]
    """A JSON object after ``json_decode(json_encode($data))``: a stdClass (properties, not keys)."""


def php_value(value: Any) -> Any:
    """The request data as Symfony sees it: non-empty JSON objects with non-list keys become objects."""
    if isinstance(value, dict):
        converted = {str(key): php_value(item) for key, item in value.items()}
        if not converted or list(converted) == [str(i) for i in range(len(converted))]:
            return list(converted.values())  # PHP's [] and [0 => .., 1 => ..] encode as JSON lists
        return PhpObject(converted)
    if isinstance(value, list):
        return [php_value(item) for item in value]
    return value


def truthy(value: Any) -> bool:
    """PHP's ``(bool)``: "0", "", 0, 0.0, null, [] are false; objects are true."""
    if isinstance(value, PhpObject):
        return True
    if isinstance(value, str):
        return value not in ("", "0")
    if isinstance(value, float):
        return value != 0.0
    return bool(value)


def _numeric(text: str) -> int | float | None:
    if not _NUMERIC.fullmatch(text):
        return None
    stripped = text.strip(" \t\n\r\v\f")
    if re.fullmatch(r"[+-]?[0-9]+", stripped):
        return int(stripped)
    return float(stripped)


def _to_number(value: Any) -> int | float:
    if value is None or value is False:
        return 0
    if value is True:
        return 1
    return value  # int or float


def _spaceship(a: Any, b: Any) -> int:
    return (a > b) - (a < b)


def _php_string(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else ""
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isinf(value):
            return "INF" if value > 0 else "-INF"
        if math.isnan(value):
            return "NAN"
        text = repr(value)
        text = text.removesuffix(".0")
        return text.replace("e+", "E+").replace("e-", "E-")
    return str(value)


def compare(a: Any, b: Any) -> int:
    """PHP 8's ``$a <=> $b`` for the values JSON data and literals hold."""
    scalar = (str, int, float, type(None), bool)
    if isinstance(a, (list, PhpObject)) or isinstance(b, (list, PhpObject)):
        return _compare_compound(a, b)
    assert isinstance(a, scalar) and isinstance(b, scalar)
    # null <=> string: null becomes "" (before the bool rule).
    if a is None and isinstance(b, str):
        return _compare_strings("", b)
    if b is None and isinstance(a, str):
        return _compare_strings(a, "")
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return _spaceship(truthy(a), truthy(b))
    if isinstance(a, str) and isinstance(b, str):
        return _compare_strings(a, b)
    if isinstance(a, str) or isinstance(b, str):  # a number and a string
        text, number, flip = (a, b, 1) if isinstance(a, str) else (b, a, -1)
        converted = _numeric(text)
        if converted is None:
            return flip * _spaceship(text, _php_string(number))
        return flip * _spaceship(converted, number)
    return _spaceship(a, b)


def _compare_strings(a: str, b: str) -> int:
    left, right = _numeric(a), _numeric(b)
    if left is not None and right is not None:
        return _spaceship(left, right)
    return _spaceship(a.encode("utf-8"), b.encode("utf-8"))


def _compare_compound(a: Any, b: Any) -> int:
    if a is None or isinstance(a, bool) or b is None or isinstance(b, bool):
        return _spaceship(truthy(a), truthy(b))
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return _spaceship(len(a), len(b))
        for left, right in zip(a, b):
            result = compare(left, right)
            if result:
                return result
        return 0
    if isinstance(a, PhpObject) and isinstance(b, PhpObject):
        if a.keys() != b.keys():
            raise Unsupported("comparing objects with different properties is not supported by pm_sandbox")
        for key in a:
            result = compare(a[key], b[key])
            if result:
                return result
        return 0
    if isinstance(a, list):  # an array is greater than any scalar
        return 1 if not isinstance(b, PhpObject) else -1
    if isinstance(b, list):
        return -1 if not isinstance(a, PhpObject) else 1
    return 1 if isinstance(a, PhpObject) else -1  # an object is greater than a scalar


def identical(a: Any, b: Any) -> bool:
    """PHP's ``===``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a is b
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(identical(x, y) for x, y in zip(a, b))
    if isinstance(a, PhpObject):
        return a is b
    return bool(a == b)


# ---- evaluation --------------------------------------------------------------------------------------


def _evaluate(node: Any, values: dict[str, Any]) -> Any:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Name):
        return values[node.name]
    if isinstance(node, Attribute):
        target = _evaluate(node.target, values)
        if not isinstance(target, PhpObject):
            raise EvaluationFailed(f'Unable to get property "{node.name}" of non-object "{node.dump}".')
        if node.name not in target:
            raise EvaluationFailed(f"Undefined property: stdClass::${node.name}")
        return target[node.name]
    if isinstance(node, Not):
        return not truthy(_evaluate(node.operand, values))
    assert isinstance(node, Binary)
    if node.operator == "or":
        return truthy(_evaluate(node.left, values)) or truthy(_evaluate(node.right, values))
    if node.operator == "and":
        return truthy(_evaluate(node.left, values)) and truthy(_evaluate(node.right, values))
    left, right = _evaluate(node.left, values), _evaluate(node.right, values)
    if node.operator == "===":
        return identical(left, right)
    if node.operator == "!==":
        return not identical(left, right)
    result = compare(left, right)
    return {"==": result == 0, "!=": result != 0, "<": result < 0, ">": result > 0, "<=": result <= 0,
            ">=": result >= 0}[node.operator]


def evaluate(expression: str, data: dict[str, Any]) -> Any:
    """The value of ``expression`` over the request ``data`` (an empty expression is ``True``)."""
    if not expression.strip():
        if "{{" in expression:
            raise Unsupported("Mustache templates ({{ ... }}) in conditions are not supported by pm_sandbox")
        return True
    values = {str(key): php_value(value) for key, value in data.items()}
    tree = parse(expression, set(values))
    return _evaluate(tree, values)


def condition_holds(expression: str, data: dict[str, Any]) -> bool:
    """Whether a sequence flow's condition lets the token through."""
    return truthy(evaluate(expression, data))
