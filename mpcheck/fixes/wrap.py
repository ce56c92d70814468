"""Wrapping a statement line that a fix made too long, the way black wraps it.

Black's own splitter is the reference (black/linegen.py: `rhs`, `delimiter_split`,
`_maybe_split_omitting_optional_parens`, `can_omit_invisible_parens`); this module follows
its rules for the one-line statements fixes write (assignments, calls, attribute chains,
conditional expressions, comprehensions) so that a fixed file reads as if black had wrapped
the new line. black itself is not a dependency: its style changes every year (fixes would
differ with the installed version), it would pin a formatter into every project that
installs mpcheck as a flake8 plugin, and it reformats the whole statement where only the
generated part should move. tests/test_fix_wrapping.py compares this module with black
on the shapes fixes generate.

Spacing inside a line is kept as written (black would normalise it); only the breaks are
black's. A line that cannot be split (no brackets, a multi-line string, a `;`) is left as is,
and so is one whose comment applies to its line (`# noqa`, `# type:`, `# pragma`): wrapping
would move the comment to another line. Simple statements are wrapped, and the one-line
header of a `with` statement (fixes/apply.py).
"""

from __future__ import annotations

import io
import re
import token
import tokenize
from dataclasses import dataclass, field

# black/brackets.py priorities: a line is split at its highest-priority delimiter.
_COMPREHENSION = 20
_COMMA = 18
_TERNARY = 16
_LOGIC = 14
_STRING = 12
_COMPARATOR = 10
_MATH = {"|": 9, "^": 8, "&": 7, "<<": 6, ">>": 6, "+": 5, "-": 5, "*": 4, "/": 4, "//": 4, "%": 4, "@": 4,
         "**": 2}
_DOT = 1
_COMPARATORS = {"<", ">", "==", "!=", "<=", ">="}
_OPENING = {"(": ")", "[": "]", "{": "}"}
_CLOSING = {")", "]", "}"}
_KEYWORDS = {"and", "or", "not", "in", "is", "if", "else", "for", "async", "await", "lambda", "return", "yield",
             "del", "assert", "raise", "import", "from", "as", "global", "nonlocal", "pass", "break", "continue"}
# comments that act on the line they are on
_PINNED_COMMENT = re.compile(r"\bnoqa\b|\btype:|\bpragma\b|\bfmt:", re.IGNORECASE)
_AUGMENTED = {"+=", "-=", "*=", "/=", "//=", "%=", "@=", "&=", "|=", "^=", ">>=", "<<=", "**="}


class _CannotSplit(Exception):
    pass


@dataclass(eq=False)
class _Leaf:
    kind: int  # a token type: NAME, OP, STRING, NUMBER, COMMENT
    text: str  # "" for an invisible parenthesis until a split shows it
    prefix: str  # the whitespace written before it
    virtual: bool = False  # an optional parenthesis black would add (invisible until split at)
    depth: int = 0  # brackets around it; a bracket counts as outside itself
    opening: _Leaf | None = None  # for a closing bracket: its partner
    split_after: int = 0  # the priority of a line break after this leaf (0: none)
    split_depth: int = 0  # the depth that priority applies at
    trailer: bool = False  # an opening bracket of a call or subscript (not a display)
    ternary: bool = True  # an `if` of a conditional expression (not of a comprehension)

    @property
    def is_opening(self) -> bool:
        return self.kind == token.OP and (self.text in _OPENING or (self.virtual and self.opening is None))

    @property
    def is_closing(self) -> bool:
        return self.kind == token.OP and (self.text in _CLOSING or (self.virtual and self.opening is not None))

    @property
    def is_comment(self) -> bool:
        return self.kind == token.COMMENT

    def show(self) -> None:
        if self.virtual and not self.text:
            self.text = ")" if self.opening is not None else "("


@dataclass(eq=False)
class _Line:
    leaves: list[_Leaf]
    level: int  # continuation indents
    inside: bool  # inside brackets (its delimiters may split it)
    explode: bool = False  # one element per line even if it fits (a display split at commas)
    code_leaves: list[_Leaf] = field(init=False)

    def __post_init__(self) -> None:
        self.code_leaves = [leaf for leaf in self.leaves if not leaf.is_comment]

    def render(self) -> str:
        parts = []
        for index, leaf in enumerate(self.leaves):
            parts.append((leaf.prefix if index else "") + leaf.text)
        return "".join(parts)

    @property
    def base(self) -> int:
        return min(leaf.depth for leaf in self.leaves)

    def delimiters(self, exclude_last: bool = False) -> dict[int, int]:
        base = self.base
        leaves = self.code_leaves[:-1] if exclude_last else self.code_leaves
        return {id(leaf): leaf.split_after for leaf in leaves if leaf.split_after and leaf.split_depth == base}


@dataclass
class _Result:
    head: _Line
    body: _Line
    tail: _Line
    opening: _Leaf
    closing: _Leaf


class _Wrapper:
    def __init__(self, first_indent: int, unit: str, limit: int) -> None:
        self.first_indent = first_indent
        self.unit = unit
        self.limit = limit

    def width(self, line: _Line) -> int:
        return self.first_indent + len(self.unit) * line.level + len(line.render())

    def fits(self, line: _Line, limit: int | None = None) -> bool:
        return self.width(line) <= (self.limit if limit is None else limit)

    # -- black's transform_line -------------------------------------------------------------

    def transform(self, line: _Line) -> list[_Line]:
        if self.fits(line) and not line.explode:
            return [line]
        rendered = line.render()
        steps = [self.delimiter_split, self.rhs] if line.inside else [self.rhs]
        for step in steps:
            try:
                result = step(line)
            except _CannotSplit:
                continue
            if not result or result[0].render() == rendered:
                continue
            lines = [wrapped for part in result for wrapped in self.transform(part)]
            if step == self.rhs and not self.fits(result[0]) and _has_invisible(line):
                # black's "second opinion": keep the optional parentheses when that fits
                try:
                    forced = [wrapped for part in self.rhs(line, force=True) for wrapped in self.transform(part)]
                except _CannotSplit:
                    forced = []
                if forced and all(self.fits(part) for part in forced):
                    lines = forced
            return lines
        return [line]

    # -- splitting at delimiters ----------------------------------------------------------

    def delimiter_split(self, line: _Line) -> list[_Line]:
        if not line.code_leaves:
            raise _CannotSplit
        last = line.code_leaves[-1]
        delimiters = line.delimiters(exclude_last=True)
        if not delimiters:
            raise _CannotSplit
        priority = max(delimiters.values())
        if priority == _DOT and list(delimiters.values()).count(_DOT) == 1:
            raise _CannotSplit
        lines: list[_Line] = []
        current: list[_Leaf] = []
        for leaf in line.leaves:
            current.append(leaf)
            if leaf is not last and delimiters.get(id(leaf)) == priority:
                lines.append(_Line(current, line.level, True))
                current = []
        if current:
            code = [leaf for leaf in current if not leaf.is_comment]
            if priority == _COMMA and code and code[-1].text != ",":
                comma = _Leaf(token.OP, ",", "", depth=code[-1].depth)
                current.insert(current.index(code[-1]) + 1, comma)
            lines.append(_Line(current, line.level, True))
        return lines

    # -- splitting at the last bracket pair -----------------------------------------------

    def rhs(self, line: _Line, force: bool = False) -> list[_Line]:
        first_lines: list[_Line] | None = None
        prefix_widths: dict[int, int] = {}
        width = self.first_indent + len(self.unit) * line.level
        for leaf in line.leaves:
            prefix_widths[id(leaf)] = width
            width += len(leaf.prefix) + len(leaf.text)
        for omit in self.trailers_to_omit(line):
            if omit:
                target = next((leaf.opening for leaf in reversed(line.leaves)
                               if leaf.is_closing and id(leaf) not in omit), None)
                if target is not None and target.text and prefix_widths.get(id(target), 0) > self.limit:
                    continue
            lines = self.right_hand_split(line, omit, force)
            if first_lines is None and not omit:
                first_lines = lines
            if self.fits(lines[0]):
                return lines
        return first_lines if first_lines is not None else self.right_hand_split(line, frozenset(), force)

    def trailers_to_omit(self, line: _Line):
        omit: set[int] = set()
        yield frozenset(omit)
        length = self.first_indent + len(self.unit) * line.level
        opening: _Leaf | None = None
        closing: _Leaf | None = None
        inner: set[int] = set()
        leaves = line.leaves
        for index in range(len(leaves) - 1, -1, -1):
            leaf = leaves[index]
            length += len(leaf.prefix) + len(leaf.text)
            if length > self.limit or leaf.is_comment:
                break
            if opening is not None:
                if leaf is opening:
                    opening = None
                elif leaf.is_closing:
                    previous = leaves[index - 1] if index else None
                    if previous is not None and previous.text == ",":
                        break  # never omit a pair with a trailing comma
                    inner.add(id(leaf))
            elif leaf.is_closing:
                previous = leaves[index - 1] if index else None
                if previous is not None and previous.is_opening:
                    inner.add(id(leaf))  # empty brackets cannot be split
                    continue
                if closing is not None:
                    omit.add(id(closing))
                    omit |= inner
                    inner.clear()
                    yield frozenset(omit)
                if previous is not None and previous.text == ",":
                    break
                if leaf.text:
                    opening = leaf.opening
                    closing = leaf

    def right_hand_split(self, line: _Line, omit, force: bool) -> list[_Line]:
        return self.maybe_omit_optional_parens(self.first_rhs(line, omit), line, omit, force)

    def first_rhs(self, line: _Line, omit) -> _Result:
        tail: list[_Leaf] = []
        body: list[_Leaf] = []
        head: list[_Leaf] = []
        current = tail
        opening: _Leaf | None = None
        closing: _Leaf | None = None
        for leaf in reversed(line.leaves):
            if current is body and leaf is opening:
                current = head if body else tail
            current.append(leaf)
            if current is tail and leaf.is_closing and id(leaf) not in omit:
                opening, closing = leaf.opening, leaf
                current = body
        if opening is None or closing is None or not head:
            raise _CannotSplit
        tail.reverse()
        body.reverse()
        head.reverse()
        body_line = _Line(body, line.level + 1, True)
        body_line.explode = bool(body) and _explodes(body_line, opening)
        result = _Result(_Line(head, line.level, line.inside), body_line, _Line(tail, line.level, line.inside),
                         opening, closing)
        if not body:
            tail_length = len(result.tail.render().strip())
            if tail_length < 3:
                raise _CannotSplit
        return result

    def maybe_omit_optional_parens(self, rhs: _Result, line: _Line, omit, force: bool) -> list[_Line]:
        if (not force and rhs.opening.virtual and not rhs.opening.text and rhs.closing.virtual
                and not rhs.closing.text and self.can_omit_invisible_parens(rhs)):
            wider = frozenset({id(rhs.closing), *omit})
            try:
                without = self.first_rhs(line, wider)
                if self.prefer_without_parens(without, rhs):
                    return self.maybe_omit_optional_parens(without, line, wider, force)
            except _CannotSplit:
                if not _can_be_split(rhs.body) and not self.fits(rhs.body):
                    raise
        rhs.opening.show()
        rhs.closing.show()
        return [part for part in (rhs.head, rhs.body, rhs.tail) if part.leaves]

    def prefer_without_parens(self, without: _Result, rhs: _Result) -> bool:
        head = rhs.head.code_leaves
        if not (len(head) >= 2 and head[-2].text == "="):
            return True
        if not any(leaf.is_opening or leaf.is_closing for leaf in head[:-1]):
            return True
        if not self.fits(rhs.head, self.limit - 1):
            return True
        for leaf in reversed(without.head.code_leaves):
            if leaf.text == "=":
                break
            if leaf.is_closing:
                return True
        return any(leaf.text == "=" for leaf in without.head.code_leaves) and self.fits(without.head)

    def can_omit_invisible_parens(self, rhs: _Result) -> bool:
        line = rhs.body
        delimiters = line.delimiters()
        if not delimiters:
            return True
        priority = max(delimiters.values())
        if list(delimiters.values()).count(priority) > 1:
            return False
        if priority == _DOT:
            return True
        leaves = line.code_leaves
        if len(leaves) < 2:
            return False
        first, second = leaves[0], leaves[1]
        if first.is_opening and not second.is_closing and self._can_omit_opening_paren(line, first):
            return True
        penultimate, last = leaves[-2], leaves[-1]
        if last.text in (")", "}") or (last.virtual and last.is_closing) or (
                last.text == "]" and not _is_subscript(line.leaves, last.opening)):
            if penultimate.is_opening:
                return False
            if self._can_omit_closing_paren(line, last):
                return True
        return False

    def _can_omit_opening_paren(self, line: _Line, first: _Leaf) -> bool:
        remainder = False
        length = self.first_indent + len(self.unit) * line.level
        for index, leaf in enumerate(line.leaves):
            if leaf.is_closing and leaf.opening is first:
                remainder = True
            if remainder:
                length += len(leaf.prefix) + len(leaf.text)
                if length > self.limit:
                    return False
                if leaf.is_opening:
                    remainder = False
        return True

    def _can_omit_closing_paren(self, line: _Line, last: _Leaf) -> bool:
        length = self.first_indent + len(self.unit) * line.level
        seen_other_brackets = False
        for leaf in line.leaves:
            length += len(leaf.prefix) + len(leaf.text)
            if leaf is last.opening:
                if seen_other_brackets or length <= self.limit:
                    return True
            elif leaf.is_opening:
                seen_other_brackets = True
        return False


def _has_invisible(line: _Line) -> bool:
    return any(leaf.virtual and not leaf.text for leaf in line.leaves)


def _can_be_split(line: _Line) -> bool:
    return len(line.code_leaves) >= 2


def _is_subscript(leaves: list[_Leaf], opening: _Leaf | None) -> bool:
    if opening is None or opening.text != "[":
        return False
    index = leaves.index(opening) if opening in leaves else -1
    if index <= 0 or opening.prefix:
        return False
    before = leaves[index - 1]
    return before.kind in (token.NAME, token.STRING) and before.text not in _KEYWORDS or before.is_closing


def _explodes(body: _Line, opening: _Leaf) -> bool:
    """black's should_split_line: a collection display (not a call's arguments) whose
    elements are split by commas is written one element per line."""
    if not body.code_leaves:
        return False
    delimiters = body.delimiters(exclude_last=True)
    if not delimiters or max(delimiters.values()) != _COMMA:
        return False
    return opening.virtual or not opening.trailer


# -- from text to leaves ----------------------------------------------------------------------


def _leaves(code: str) -> list[_Leaf] | None:
    """The tokens of one physical line, each with the whitespace before it; None when the
    line is not one whole statement on one line."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code + "\n").readline))
    except (tokenize.TokenError, SyntaxError):
        return None
    leaves: list[_Leaf] = []
    end = 0
    fstring_start: int | None = None
    fstring_depth = 0
    for item in tokens:
        if item.type in (token.NEWLINE, token.NL, token.ENDMARKER, token.INDENT, token.DEDENT):
            continue
        if item.start[0] != 1 or item.end[0] != 1:
            return None  # a multi-line string or a continuation
        name = token.tok_name.get(item.type, "")
        if name == "FSTRING_START":
            if fstring_depth == 0:
                fstring_start = item.start[1]
            fstring_depth += 1
            continue
        if fstring_depth:
            if name == "FSTRING_END":
                fstring_depth -= 1
                if fstring_depth == 0:
                    assert fstring_start is not None
                    leaves.append(_Leaf(token.STRING, code[fstring_start:item.end[1]], code[end:fstring_start]))
                    end = item.end[1]
            continue
        kind = item.type
        if kind == token.OP and item.string == ";":
            return None
        text = item.string
        leaves.append(_Leaf(token.OP if kind == token.OP else kind, text, code[end:item.start[1]]))
        end = item.end[1]
    return leaves or None


def _add_optional_parens(leaves: list[_Leaf]) -> list[_Leaf]:
    """black's invisible parentheses: around the value of an assignment or `return`, and
    around every conditional expression not already alone in parentheses."""
    _match(leaves)
    # the right-hand side of the last top-level `=` (or augmented assignment), or `return`
    start = None
    in_lambda = False
    for index, leaf in enumerate(leaves):
        if leaf.depth != 0:
            continue
        if leaf.text == "lambda":
            in_lambda = True
        elif leaf.text == ":" and in_lambda:
            in_lambda = False
        elif not in_lambda and (leaf.text == "=" or leaf.text in _AUGMENTED or
                                (index == 0 and leaf.text in ("return", "del", "assert"))):
            start = index + 1
    end = len(leaves)
    while end > 0 and leaves[end - 1].is_comment:
        end -= 1
    spans: list[tuple[int, int]] = []
    parts = [(start, end)] if start is not None else []
    if leaves[0].text == "assert":  # the test and the message each
        comma = next((index for index, leaf in enumerate(leaves) if leaf.depth == 0 and leaf.text == ","), None)
        if comma is not None:
            parts = [(1, comma), (comma + 1, end)]
    for begin, finish in parts:
        if begin < finish and not _wrapped_whole(leaves, begin, finish):
            spans.append((begin, finish))
    spans.extend(_ternary_spans(leaves, start or 0))
    openings: dict[int, list[_Leaf]] = {}
    closings: dict[int, list[_Leaf]] = {}
    for begin, finish in sorted(spans, key=lambda span: (span[0], -span[1])):  # outer spans first
        opening = _Leaf(token.OP, "", "", virtual=True)
        openings.setdefault(begin, []).append(opening)
        closings.setdefault(finish - 1, []).insert(0, _Leaf(token.OP, "", "", virtual=True, opening=opening))
    result = []
    for index, leaf in enumerate(leaves):
        added = openings.get(index, [])
        if added:
            added[0].prefix, leaf.prefix = leaf.prefix, ""
        result.extend(added)
        result.append(leaf)
        result.extend(closings.get(index, []))
    _match(result)
    _mark_delimiters(result)
    return result


def _wrapped_whole(leaves: list[_Leaf], start: int, end: int) -> bool:
    first = leaves[start]
    return first.text == "(" and leaves[end - 1].opening is first


def _ternary_spans(leaves: list[_Leaf], start: int) -> list[tuple[int, int]]:
    """(begin, end) of each conditional expression that black parenthesises."""
    spans = []
    for index, leaf in enumerate(leaves):
        if leaf.text != "if" or not _is_ternary_if(leaves, index):
            continue
        depth = leaf.depth
        begin = index
        while begin > start:
            before = leaves[begin - 1]
            if before.depth < depth or (before.depth == depth and (
                    before.text in (",", "=", ":", "return", "lambda", "else", "if") or before.text in _AUGMENTED)):
                break
            begin -= 1
        finish = index + 1
        while finish < len(leaves):
            after = leaves[finish]
            if after.is_comment or after.depth < depth or (after.depth == depth and after.text in (",", ":")):
                break
            finish += 1
        opening_before = leaves[begin - 1] if begin else None
        after = leaves[finish] if finish < len(leaves) else None
        alone = (opening_before is not None and opening_before.text == "(" and after is not None
                 and after.opening is opening_before)
        if not alone and begin != start:
            spans.append((begin, finish))
    # nested spans of one chain (`a if b else c if d else e`) count once
    outer = []
    for span in spans:
        if not any(other != span and other[0] <= span[0] and span[1] <= other[1] for other in spans):
            outer.append(span)
    return outer


def _is_ternary_if(leaves: list[_Leaf], index: int) -> bool:
    """An `if` of a conditional expression, not of a comprehension."""
    depth = leaves[index].depth
    for before in reversed(leaves[:index]):
        if before.depth < depth or (before.depth == depth and before.text == ","):
            return True
        if before.depth == depth and before.text == "for":
            return False
    return True


def _match(leaves: list[_Leaf]) -> None:
    stack: list[_Leaf] = []
    for index, leaf in enumerate(leaves):
        if leaf.is_closing:
            if not stack:
                raise _CannotSplit
            leaf.opening = stack.pop()
            leaf.depth = len(stack)
        else:
            leaf.depth = len(stack)
        if leaf.kind == token.OP and leaf.text in _OPENING or (leaf.virtual and leaf.opening is None):
            previous = leaves[index - 1] if index else None
            leaf.trailer = bool(
                leaf.text in ("(", "[") and not leaf.prefix and previous is not None
                and ((previous.kind in (token.NAME, token.STRING) and previous.text not in _KEYWORDS)
                     or previous.is_closing))
            stack.append(leaf)
    if stack:
        raise _CannotSplit


def _mark_delimiters(leaves: list[_Leaf]) -> None:
    """Each leaf after which black may break, with the priority (black/brackets.py)."""
    for leaf in leaves:
        leaf.split_after = 0
    lambda_depths: list[int] = []
    for_depths: list[int] = []
    previous: _Leaf | None = None
    extra = 0  # lambda arguments and for-loop targets count one level deeper
    for leaf in leaves:
        if leaf.is_comment:
            continue
        if for_depths and for_depths[-1] == leaf.depth and leaf.text == "in":
            for_depths.pop()
            extra -= 1
        if lambda_depths and lambda_depths[-1] == leaf.depth and leaf.text == ":":
            lambda_depths.pop()
            extra -= 1
        depth = leaf.depth + extra
        priority = _split_before(leaf, previous)
        if priority and previous is not None:
            if previous.split_after < priority or previous.split_depth != depth:
                previous.split_after, previous.split_depth = priority, depth
        if leaf.text == ",":
            leaf.split_after, leaf.split_depth = _COMMA, depth
        if leaf.text == "for":
            for_depths.append(leaf.depth)
            extra += 1
        if leaf.text == "lambda":
            lambda_depths.append(leaf.depth)
            extra += 1
        previous = leaf


def _split_before(leaf: _Leaf, previous: _Leaf | None) -> int:
    text = leaf.text
    unary_context = previous is None or previous.is_opening or previous.text in (",", "=", ":", "(", "return") or (
        previous.kind == token.OP and not previous.is_closing) or previous.text in _KEYWORDS
    if text == "." and previous is not None and previous.is_closing:
        return _DOT
    if leaf.kind == token.OP and text in _MATH and not unary_context:
        return _MATH[text]
    if leaf.kind == token.OP and text in _COMPARATORS:
        return _COMPARATOR
    if leaf.kind == token.STRING and previous is not None and previous.kind == token.STRING:
        return _STRING
    if leaf.kind != token.NAME:
        return 0
    if text == "for":
        return _COMPREHENSION
    if text == "if":
        return _TERNARY if leaf.ternary else _COMPREHENSION
    if text == "else":
        return _TERNARY
    if text == "is":
        return _COMPARATOR
    if text == "in" and not (previous is not None and previous.text == "not"):
        return _COMPARATOR
    if text == "not" and previous is not None and previous.text != "is" and not unary_context:
        return _COMPARATOR
    if text in ("and", "or"):
        return _LOGIC
    return 0


def _classify_ifs(leaves: list[_Leaf]) -> None:
    for index, leaf in enumerate(leaves):
        if leaf.text == "if" and leaf.kind == token.NAME:
            leaf.ternary = _is_ternary_if(leaves, index)


# -- the entry point ------------------------------------------------------------------------


def wrap_line(code: str, indent_width: int, unit: str, limit: int) -> str | None:
    """`code`, one statement on one line (no newline; a trailing comment allowed), written
    over several lines the way black would, when it is longer than `limit` columns at
    `indent_width` columns of indentation. Continuation lines are indented with `unit`
    relative to the statement's first line. None when it fits or cannot be split."""
    if indent_width + len(code) <= limit:
        return None
    leaves = _leaves(code)
    if leaves is None or any(leaf.is_comment and _PINNED_COMMENT.search(leaf.text) for leaf in leaves):
        return None
    try:
        _match(leaves)
        _classify_ifs(leaves)
        leaves = _add_optional_parens(leaves)
        _classify_ifs(leaves)
        _mark_delimiters(leaves)
        wrapper = _Wrapper(indent_width, unit, limit)
        lines = wrapper.transform(_Line(leaves, 0, False))
    except _CannotSplit:
        return None
    if len(lines) < 2:
        return None
    return "\n".join(unit * line.level + line.render() for line in lines)
