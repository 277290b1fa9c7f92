"""kubectl's JSONPath (`-o jsonpath=...`, custom-columns, `--sort-by`): client-go's `util/jsonpath`, ported.

Why handwritten: kubectl's JSONPath is its own dialect (`{range}`/`{end}`, `{"\\n"}` quoted text, filters
compared with text/template's rules, `[?(...)]` parsed by a regular expression, slices with kubectl's
bounds errors, `..` that also descends into strings, results printed with Go's `fmt` and `encoding/json`),
and `-o jsonpath` must print the same bytes and the same errors as kubectl. No JSONPath library for Python
implements that dialect (they implement Goessner's or RFC 9535), so this module follows client-go's three
files function by function, with the same names, so that the two can be read side by side:

- parser.go: `Parser` (`parse`, `parse_text`, `parse_left_delim`, `parse_inside_action`, `parse_right_delim`,
  `parse_identifier`, `parse_recursive`, `parse_number`, `parse_array`, `parse_filter`, `parse_quote`,
  `parse_field`, `advance`) and `unquote_extend`. Go's parser calls itself once per token; here every
  parse step returns the next step and `parse` runs them in a loop, so a long template cannot exhaust
  Python's recursion limit.
- node.go: `ListNode`, `TextNode`, `FieldNode`, `IdentifierNode`, `ArrayNode` (with `ParamsEntry`),
  `FilterNode`, `IntNode`, `FloatNode`, `WildcardNode`, `RecursiveNode`, `UnionNode`, `BoolNode`.
- jsonpath.go: `JSONPath` (`allow_missing_keys`, `parse`, `execute`, `find_results`, `enable_json_output`,
  `print_results`, `walk`, `eval_*`), with text/template's `indirect` and comparison functions.

Values are what `json.loads` gives, standing for Go's JSON-decoded `interface{}` values; `None` is a nil
interface (printed `null`) and `INVALID` stands for Go's zero `reflect.Value` (what `{range}` makes of a
null item: printed `<no value>`). Two things Go leaves to chance are fixed here: a map's entries are
visited in sorted key order by `*` and `..` (Go visits them in random order).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from minikubelet.printing.gofmt import json_marshal, json_marshal_indent, sprint

__all__ = ["INVALID", "JSONPath", "JSONPathError", "Parser", "parse"]


class JSONPathError(Exception):
    """A parse or execution error, with client-go's message. `value` is what the Go function returned with
    the error (an `exists` filter keeps an element whose operand failed that way with a non-empty value)."""

    def __init__(self, message: str, value: list[Any] | None = None) -> None:
        super().__init__(message)
        self.value: list[Any] = value or []


class _Invalid:
    """Go's zero `reflect.Value` (`reflect.ValueOf(nil)`)."""

    def __repr__(self) -> str:
        return "INVALID"


INVALID: Final = _Invalid()

# --- node.go --------------------------------------------------------------------------------------------------------


class Node:
    """A parse tree node (client-go's `Node` interface)."""


@dataclass(eq=False)
class ListNode(Node):
    nodes: list[Node] = field(default_factory=list)

    def append(self, node: Node) -> None:
        self.nodes.append(node)


@dataclass(eq=False)
class TextNode(Node):
    text: str


@dataclass(eq=False)
class FieldNode(Node):
    value: str


@dataclass(eq=False)
class IdentifierNode(Node):
    name: str


@dataclass
class ParamsEntry:
    value: int = 0
    known: bool = False  # whether the value is known when parse it
    derived: bool = False


@dataclass(eq=False)
class ArrayNode(Node):
    params: tuple[ParamsEntry, ParamsEntry, ParamsEntry]  # start, end, step


@dataclass(eq=False)
class FilterNode(Node):
    left: ListNode
    right: ListNode
    operator: str


@dataclass(eq=False)
class IntNode(Node):
    value: int


@dataclass(eq=False)
class FloatNode(Node):
    value: float


@dataclass(eq=False)
class WildcardNode(Node):
    pass


@dataclass(eq=False)
class RecursiveNode(Node):
    pass


@dataclass(eq=False)
class UnionNode(Node):
    nodes: list[ListNode]


@dataclass(eq=False)
class BoolNode(Node):
    value: bool


# --- parser.go ------------------------------------------------------------------------------------------------------

_EOF: Final = ""
_LEFT_DELIM, _RIGHT_DELIM = "{", "}"
_DICT_KEY = re.compile(r"^'([^']*)'\Z")
_SLICE_OPERATOR = re.compile(r"^(-?[0-9]*)(:-?[0-9]*)?(:-?[0-9]*)?\Z")
_FILTER = re.compile(r"^([^!<>=]+)([!<>=]+)(.+?)\Z")
_INT = re.compile(r"[+-]?[0-9]+\Z")
_FLOAT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)\Z")
_INT64_MAX = 2**63 - 1

Step = Callable[[], "Step | None"]


def parse(name: str, text: str) -> Parser:
    """client-go `Parse`: the parsed template, or JSONPathError."""
    parser = Parser(name)
    parser.parse(text)
    return parser


def _parse_action(name: str, text: str) -> Parser:
    """client-go `parseAction`: parse the expression inside a delimiter."""
    parser = parse(name, f"{_LEFT_DELIM}{text}{_RIGHT_DELIM}")
    first = parser.root.nodes[0]
    assert isinstance(first, ListNode)
    parser.root = first
    return parser


class Parser:
    def __init__(self, name: str) -> None:
        self.name = name
        self.root = ListNode()
        self.input = ""
        self.pos = 0
        self.start = 0
        self.width = 0

    def parse(self, text: str) -> None:
        self.input = text
        self.root = ListNode()
        self.pos = 0
        step: Step | None = lambda: self.parse_text(self.root)  # noqa: E731 (a step, as the others return)
        while step is not None:
            step = step()

    def consume_text(self) -> str:
        value = self.input[self.start : self.pos]
        self.start = self.pos
        return value

    def next(self) -> str:
        if self.pos >= len(self.input):
            self.width = 0
            return _EOF
        self.width = 1
        self.pos += 1
        return self.input[self.pos - 1]

    def peek(self) -> str:
        char = self.next()
        self.backup()
        return char

    def backup(self) -> None:
        self.pos -= self.width

    def parse_text(self, cur: ListNode) -> Step | None:
        while True:
            if self.input.startswith(_LEFT_DELIM, self.pos):
                if self.pos > self.start:
                    cur.append(TextNode(self.consume_text()))
                return lambda: self.parse_left_delim(cur)
            if self.next() == _EOF:
                break
        if self.pos > self.start:  # correctly reached EOF
            cur.append(TextNode(self.consume_text()))
        return None

    def parse_left_delim(self, cur: ListNode) -> Step:
        self.pos += len(_LEFT_DELIM)
        self.consume_text()
        new_node = ListNode()
        cur.append(new_node)
        return lambda: self.parse_inside_action(new_node)

    def parse_inside_action(self, cur: ListNode) -> Step | None:
        if self.input.startswith(_RIGHT_DELIM, self.pos):
            return self.parse_right_delim(cur)
        if self.input.startswith("[?(", self.pos):
            return self.parse_filter(cur)
        if self.input.startswith("..", self.pos):
            return self.parse_recursive(cur)
        char = self.next()
        if char == _EOF or _is_end_of_line(char):
            raise JSONPathError("unclosed action")
        if char == " " or char in "@$":  # a space, or the current object: just pass it
            self.consume_text()
        elif char == "[":
            return self.parse_array(cur)
        elif char in "\"'":
            return self.parse_quote(cur, char)
        elif char == ".":
            return self.parse_field(cur)
        elif char in "+-" or _is_digit(char):
            self.backup()
            return self.parse_number(cur)
        elif _is_alpha_numeric(char):
            self.backup()
            return self.parse_identifier(cur)
        else:
            raise JSONPathError(f"unrecognized character in action: {_format_rune(char)}")
        return lambda: self.parse_inside_action(cur)

    def parse_right_delim(self, cur: ListNode) -> Step:
        self.pos += len(_RIGHT_DELIM)
        self.consume_text()
        return lambda: self.parse_text(self.root)

    def parse_identifier(self, cur: ListNode) -> Step:
        while True:
            if _is_terminator(self.next()):
                self.backup()
                break
        value = self.consume_text()
        cur.append(BoolNode(value == "true") if value in ("true", "false") else IdentifierNode(value))
        return lambda: self.parse_inside_action(cur)

    def parse_recursive(self, cur: ListNode) -> Step:
        if cur.nodes and isinstance(cur.nodes[-1], RecursiveNode):
            raise JSONPathError("invalid multiple recursive descent")
        self.pos += len("..")
        self.consume_text()
        cur.append(RecursiveNode())
        if _is_alpha_numeric(self.peek()):
            return self.parse_field(cur)
        return lambda: self.parse_inside_action(cur)

    def parse_number(self, cur: ListNode) -> Step:
        if self.peek() in ("+", "-"):
            self.next()
        while True:
            char = self.next()
            if char != "." and not _is_digit(char):
                self.backup()
                break
        value = self.consume_text()
        if _INT.match(value) and abs(int(value)) <= _INT64_MAX:  # strconv.Atoi
            cur.append(IntNode(int(value)))
        elif _FLOAT.match(value):  # strconv.ParseFloat
            cur.append(FloatNode(float(value)))
        else:
            raise JSONPathError(f"cannot parse number {value}")
        return lambda: self.parse_inside_action(cur)

    def parse_array(self, cur: ListNode) -> Step:
        while True:
            char = self.next()
            if char in (_EOF, "\n"):
                raise JSONPathError("unterminated array")
            if char == "]":
                break
        text = self.consume_text()[1:-1]
        if text == "*":
            text = ":"

        strs = text.split(",")  # union operator
        if len(strs) > 1:
            union = [_parse_action("union", f"[{part.strip(' ')}]").root for part in strs]
            cur.append(UnionNode(union))
            return lambda: self.parse_inside_action(cur)

        key = _DICT_KEY.match(text)  # dict key
        if key is not None:
            for node in _parse_action("arraydict", f".{key.group(1)}").root.nodes:
                cur.append(node)
            return lambda: self.parse_inside_action(cur)

        match = _SLICE_OPERATOR.match(text)  # slice operator
        if match is None:
            raise JSONPathError(f"invalid array index {text}")
        values = [group or "" for group in match.groups()]
        params = (ParamsEntry(), ParamsEntry(), ParamsEntry())
        for i in range(3):
            if values[i] != "":
                if i > 0:
                    values[i] = values[i][1:]
                if i > 0 and values[i] == "":
                    params[i].known = False
                else:
                    params[i].known = True
                    if not _INT.match(values[i]) or abs(int(values[i])) > _INT64_MAX:
                        raise JSONPathError(f"array index {values[i]} is not a number")
                    params[i].value = int(values[i])
            elif i == 1:
                params[i].known = True
                params[i].value = params[0].value + 1
                params[i].derived = True
            else:
                params[i].known = False
                params[i].value = 0
        cur.append(ArrayNode(params))
        return lambda: self.parse_inside_action(cur)

    def parse_filter(self, cur: ListNode) -> Step:
        self.pos += len("[?(")
        self.consume_text()
        begin = end = False
        pair = ""
        while True:
            char = self.next()
            if char in (_EOF, "\n"):
                raise JSONPathError("unterminated filter")
            if char in "\"'":
                if not begin:
                    begin, pair = True, char  # save the paired rune
                    continue
                if self.input[self.pos - 2] != "\\" and char == pair:  # only add when met paired rune
                    end = True
            elif char == ")" and begin == end:
                # in the right operand quotes only appear zero or once, and must be paired
                break
        if self.next() != "]":
            raise JSONPathError("unclosed array expect ]")
        text = self.consume_text()[:-2]
        match = _FILTER.match(text)
        if match is None:
            cur.append(FilterNode(_parse_action("text", text).root, ListNode(), "exists"))
        else:
            left = _parse_action("left", match.group(1)).root
            right = _parse_action("right", match.group(3)).root
            cur.append(FilterNode(left, right, match.group(2)))
        return lambda: self.parse_inside_action(cur)

    def parse_quote(self, cur: ListNode, end: str) -> Step:
        while True:
            char = self.next()
            if char in (_EOF, "\n"):
                raise JSONPathError("unterminated quoted string")
            if char == end and self.input[self.pos - 2] != "\\":  # if it's not escape break the loop
                break
        value = self.consume_text()
        try:
            text = unquote_extend(value)
        except ValueError as exc:
            raise JSONPathError(f"unquote string {value} error {exc}") from None
        cur.append(TextNode(text))
        return lambda: self.parse_inside_action(cur)

    def parse_field(self, cur: ListNode) -> Step:
        self.consume_text()
        while self.advance():
            pass
        value = self.consume_text()
        cur.append(WildcardNode() if value == "*" else FieldNode(value.replace("\\", "")))
        return lambda: self.parse_inside_action(cur)

    def advance(self) -> bool:
        """Scan until the next non-escaped terminator."""
        char = self.next()
        if char == "\\":
            self.next()
        elif _is_terminator(char):
            self.backup()
            return False
        return True


def _is_terminator(char: str) -> bool:
    return _is_space(char) or _is_end_of_line(char) or char in (_EOF, ".", ",", "[", "]", "$", "@", "{", "}")


def _is_space(char: str) -> bool:
    return char in (" ", "\t")


def _is_end_of_line(char: str) -> bool:
    return char in ("\r", "\n")


def _is_digit(char: str) -> bool:
    """Go's `unicode.IsDigit`: category Nd."""
    return char != _EOF and unicodedata.category(char) == "Nd"


def _is_alpha_numeric(char: str) -> bool:
    """An alphabetic character, digit or underscore (`unicode.IsLetter`/`IsDigit`)."""
    return char == "_" or (char != _EOF and (unicodedata.category(char).startswith("L") or _is_digit(char)))


def _format_rune(char: str) -> str:
    """Go's `%#U`: `U+0023 '#'`."""
    code = f"U+{ord(char):04X}"
    return f"{code} '{char}'" if char.isprintable() else code


_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\", "'": "'", '"': '"'}


def unquote_extend(text: str) -> str:
    """client-go `UnquoteExtend`: `strconv.Unquote` that also takes single quotes around a string."""
    if len(text) < 2 or text[0] != text[-1] or text[0] not in "\"'":
        raise ValueError("invalid syntax")
    quote_char, body = text[0], text[1:-1]
    if "\\" not in body and quote_char not in body:
        return body
    out: list[str] = []
    i = 0
    while i < len(body):  # strconv.UnquoteChar, one character at a time
        char = body[i]
        if char == quote_char:
            raise ValueError("invalid syntax")
        if char != "\\":
            out.append(char)
            i += 1
            continue
        if i + 1 >= len(body):
            raise ValueError("invalid syntax")
        kind = body[i + 1]
        i += 2
        if kind in _SIMPLE_ESCAPES:
            if kind in "'\"" and kind != quote_char:
                raise ValueError("invalid syntax")
            out.append(_SIMPLE_ESCAPES[kind])
        elif kind in "xuU":
            size = {"x": 2, "u": 4, "U": 8}[kind]
            digits = body[i : i + size]
            if len(digits) < size or not re.fullmatch(r"[0-9a-fA-F]+", digits):
                raise ValueError("invalid syntax")
            code = int(digits, 16)
            i += size
            if kind == "x":
                out.append(chr(code))  # a byte: kept for what it is, Go appends it as one byte
            elif code > 0x10FFFF or 0xD800 <= code < 0xE000:
                raise ValueError("invalid syntax")
            else:
                out.append(chr(code))
        elif kind in "01234567":
            digits = body[i - 1 : i + 2]
            if len(digits) < 3 or not re.fullmatch(r"[0-7]{3}", digits) or int(digits, 8) > 255:
                raise ValueError("invalid syntax")
            out.append(chr(int(digits, 8)))
            i += 2
        else:
            raise ValueError("invalid syntax")
    return "".join(out)


# --- jsonpath.go ----------------------------------------------------------------------------------------------------


def _indirect(value: Any) -> tuple[Any, bool]:
    """text/template `Indirect`: through the interface to the value, and whether it is nil."""
    return value, value is None


def _type_name(value: Any) -> str:
    """The Go type of a JSON-decoded value, as `%v` of `reflect.Type` prints it."""
    if value is None or value is INVALID:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "map[string]interface {}"
    if isinstance(value, list):
        return "[]interface {}"
    return type(value).__name__


def _children(value: Any) -> list[Any]:
    """The elements `*` and `..` visit: a map's values (by key), a list's items, a string's bytes."""
    if isinstance(value, dict):
        return [value[key] for key in sorted(value)]
    if isinstance(value, list):
        return list(value)
    if isinstance(value, str):
        return list(value.encode())
    return []


class JSONPath:
    def __init__(self, name: str) -> None:
        self.name = name
        self.parser: Parser | None = None
        self.begin_range = 0
        self.in_range = 0
        self.end_range = 0
        # Go keeps `parser.Root.Nodes` as a slice that a range re-points at the nodes after it (and leaves
        # there); `_offset` is that slice's start in the parsed nodes and `last_end_node` an index into them.
        self._nodes: list[Node] = []
        self._offset = 0
        self.last_end_node = -1
        self._allow_missing_keys = False
        self.output_json = False

    def allow_missing_keys(self, allow: bool) -> JSONPath:
        """Whether a missing field or key gives an empty result rather than an error."""
        self._allow_missing_keys = allow
        return self

    def parse(self, text: str) -> None:
        self.parser = parse(self.name, text)
        self._nodes = self.parser.root.nodes
        self._offset = 0

    def execute(self, data: Any) -> str:
        """What `Execute` writes for `data` (an error raises JSONPathError, having written nothing)."""
        return "".join(self.print_results(results) for results in self.find_results(data))

    def find_results(self, data: Any) -> list[list[Any]]:
        if self.parser is None:
            raise JSONPathError(f"{self.name} is an incomplete jsonpath template")
        cur = [INVALID if data is None else data]
        offset = self._offset
        nodes = self._nodes[offset:]
        full_result: list[list[Any]] = []
        i = 0
        while i < len(nodes):
            results = self.walk(cur, nodes[i])
            # encounter an end node, break the current block
            if self.end_range > 0 and self.end_range <= self.in_range:
                self.end_range -= 1
                self.last_end_node = offset + i
                break
            # encounter a range node, start a range loop
            if self.begin_range > 0:
                self.begin_range -= 1
                self.in_range += 1
                self._offset = offset + i + 1
                if results:
                    for value in results:
                        self._offset = offset + i + 1
                        full_result.extend(self.find_results(value))
                else:
                    # If the range has no results, we still need to process the nodes within the range
                    # so the position will advance to the end node
                    self.find_results(None)
                self.in_range -= 1
                # Fast forward to resume processing after the most recent end node that was encountered
                for k in range(i + 1, len(nodes)):
                    if offset + k == self.last_end_node:
                        i = k
                        break
                i += 1
                continue
            full_result.append(results)
            i += 1
        return full_result

    def enable_json_output(self, enabled: bool) -> None:
        """`jsonpath-as-json`: each result list printed as an indented JSON array."""
        self.output_json = enabled

    def print_results(self, results: list[Any]) -> str:
        if self.output_json:
            results = [[None if r is INVALID else r for r in results]]
        out: list[str] = []
        for i, result in enumerate(results):
            if self.output_json:
                text = json_marshal_indent(result) + "\n"
            elif isinstance(result, dict | list):
                text = json_marshal(result)
            else:
                text = self.eval_to_text(result)
            if i != len(results) - 1:
                text += " "
            out.append(text)
        return "".join(out)

    def walk(self, value: list[Any], node: Node) -> list[Any]:
        """Visit the tree rooted at `node` in depth-first order."""
        if isinstance(node, ListNode):
            return self.eval_list(value, node)
        if isinstance(node, TextNode):
            return [node.text]
        if isinstance(node, FieldNode):
            return self.eval_field(value, node)
        if isinstance(node, ArrayNode):
            return self.eval_array(value, node)
        if isinstance(node, FilterNode):
            return self.eval_filter(value, node)
        if isinstance(node, IntNode | FloatNode | BoolNode):
            return [node.value for _ in value]  # evalInt, evalFloat, evalBool
        if isinstance(node, WildcardNode):
            return self.eval_wildcard(value, node)
        if isinstance(node, RecursiveNode):
            return self.eval_recursive(value, node)
        if isinstance(node, UnionNode):
            return self.eval_union(value, node)
        if isinstance(node, IdentifierNode):
            return self.eval_identifier(value, node)
        raise JSONPathError(f"unexpected Node {node}", value)

    def eval_list(self, value: list[Any], node: ListNode) -> list[Any]:
        cur_value = value
        for child in node.nodes:
            cur_value = self.walk(cur_value, child)
        return cur_value

    def eval_identifier(self, value: list[Any], node: IdentifierNode) -> list[Any]:
        if node.name == "range":
            self.begin_range += 1
            return value
        if node.name == "end":
            if self.in_range > 0:
                self.end_range += 1
                return []
            raise JSONPathError("not in range, nothing to end")
        raise JSONPathError(f"unrecognized identifier {node.name}", value)

    def eval_array(self, value: list[Any], node: ArrayNode) -> list[Any]:
        result: list[Any] = []
        for item in value:
            item, is_nil = _indirect(item)
            if is_nil:
                continue
            if not isinstance(item, list):
                raise JSONPathError(f"{_type_name(item)} is not array or slice", value)
            length = len(item)
            start, end, step = (ParamsEntry(p.value, p.known, p.derived) for p in node.params)
            if not start.known:
                start.value = 0
            if start.value < 0:
                start.value += length
            if not end.known:
                end.value = length
            if end.value < 0 or (end.value == 0 and end.derived):
                end.value += length
            if end.value == start.value:  # requesting zero elements is allowed
                return result
            if start.value >= length or start.value < 0:
                raise JSONPathError(f"array index out of bounds: index {start.value}, length {length}", value)
            if end.value > length or end.value < 0:
                raise JSONPathError(f"array index out of bounds: index {end.value - 1}, length {length}", value)
            if start.value > end.value:
                raise JSONPathError(f"starting index {start.value} is greater than ending index {end.value}", value)
            sliced = item[start.value : end.value]
            stride = 1
            if step.known:
                if step.value <= 0:
                    raise JSONPathError("step must be > 0", value)
                stride = step.value
            result.extend(sliced[::stride])
        return result

    def eval_union(self, value: list[Any], node: UnionNode) -> list[Any]:
        result: list[Any] = []
        for list_node in node.nodes:
            try:
                result.extend(self.eval_list(value, list_node))
            except JSONPathError as exc:
                raise JSONPathError(str(exc), value) from None
        return result

    def eval_field(self, value: list[Any], node: FieldNode) -> list[Any]:
        results: list[Any] = []
        if not value:  # if there's no input, there's no output
            return results
        for item in value:
            item, is_nil = _indirect(item)
            if is_nil:
                continue
            if isinstance(item, dict) and node.value in item:
                results.append(item[node.value])
        if not results and not self._allow_missing_keys:
            raise JSONPathError(f"{node.value} is not found")
        return results

    def eval_wildcard(self, value: list[Any], node: WildcardNode) -> list[Any]:
        results: list[Any] = []
        for item in value:
            item, is_nil = _indirect(item)
            if not is_nil:
                results.extend(_children(item))
        return results

    def eval_recursive(self, value: list[Any], node: RecursiveNode) -> list[Any]:
        result: list[Any] = []
        for item in value:
            item, is_nil = _indirect(item)
            if is_nil:
                continue
            results = _children(item)
            if results:
                result.append(item)
                result.extend(self.eval_recursive(results, node))
        return result

    def eval_filter(self, value: list[Any], node: FilterNode) -> list[Any]:
        results: list[Any] = []
        for item in value:
            item, _ = _indirect(item)
            if not isinstance(item, list):
                shown = "<invalid reflect.Value>" if item is INVALID else sprint(item)
                raise JSONPathError(f"{shown} is not array or slice and cannot be filtered", value)
            for element in item:
                temp = [element]
                if node.operator == "exists":
                    try:
                        lefts = self.eval_list(temp, node.left)
                    except JSONPathError as exc:  # Go ignores the error here, and keeps what came with it
                        lefts = exc.value
                    if lefts:
                        results.append(element)
                    continue
                try:
                    lefts = self.eval_list(temp, node.left)
                    if lefts and len(lefts) > 1:
                        raise JSONPathError("can only compare one element at a time")
                    rights = self.eval_list(temp, node.right) if lefts else []
                    if len(rights) > 1:
                        raise JSONPathError("can only compare one element at a time")
                except JSONPathError as exc:
                    raise JSONPathError(str(exc), value) from None
                if not lefts or not rights:
                    continue
                try:
                    passed = _compare(node.operator, lefts[0], rights[0])
                except JSONPathError as exc:
                    raise JSONPathError(str(exc), results) from None
                if passed:
                    results.append(element)
        return results

    def eval_to_text(self, value: Any) -> str:
        """`fmt.Fprint` of the value (`<no value>` for Go's zero Value, `null` for a nil interface)."""
        if value is INVALID:
            return "<no value>"
        if value is None:
            return "null"
        return sprint(value)


# text/template's comparison functions (third_party/forked/golang/template/funcs.go)

_BAD_COMPARISON_TYPE = "invalid type for comparison"
_BAD_COMPARISON = "incompatible types for comparison"


def _basic_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    raise JSONPathError(_BAD_COMPARISON_TYPE)


def _equal(left: Any, right: Any) -> bool:
    kind = _basic_kind(left)
    if kind != _basic_kind(right):
        raise JSONPathError(_BAD_COMPARISON)
    return bool(left == right)


def _less(left: Any, right: Any) -> bool:
    kind = _basic_kind(left)
    if kind != _basic_kind(right):
        raise JSONPathError(_BAD_COMPARISON)
    if kind == "bool":
        raise JSONPathError(_BAD_COMPARISON_TYPE)
    return bool(left < right)


def _compare(operator: str, left: Any, right: Any) -> bool:
    if operator == "<":
        return _less(left, right)
    if operator == ">":
        return not (_less(left, right) or _equal(left, right))
    if operator == "==":
        return _equal(left, right)
    if operator == "!=":
        return not _equal(left, right)
    if operator == "<=":
        return _less(left, right) or _equal(left, right)
    if operator == ">=":
        return not _less(left, right)
    raise JSONPathError(f"unrecognized filter operator {operator}")
