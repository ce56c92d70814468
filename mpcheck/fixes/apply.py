"""Applying many fixes to one module in one pass.

Every edit of every fix is checked against the edits already admitted in this round; a fix
with any conflicting edit waits for the next round (the engine re-parses and re-checks
between rounds), all others are applied together in one traversal:

- replacements run bottom-up, so a function replacement receives its node with the inner
  edits (of any admitted fix) made;
- statement edits (insert, remove, take/move) are made when the traversal leaves the block
  that holds them, with the comment and blank-line rules of `insert_before`, `remove`,
  `take`;
- no comment is lost: one that a replacement leaves out goes to the end of the first line
  of the statement that holds it (when that has none) or on a line of its own above it; the
  comments of a removed statement stay where it was (see `_rescue_comments`); blank lines at the seams follow black (two around module-level definitions, one
  around nested ones, none at the top of a block, at most two/one);
- the imports fixes asked for are added once each;
- a line the edits made longer than the file's limit is wrapped (wrap.py);
- form feeds leave the indentation of a module the fixes change (see
  `_without_form_feeds_in_indentation`);
- the lines a backslash continues keep their indentation relative to their statement when
  it moves into a deeper block (`_continuations_moved_with_their_statements`), and its
  blank lines stay empty (`_BlankLinesUnindented`).
"""

from __future__ import annotations

from collections import Counter
from typing import Sequence

import libcst as cst

from ..findings import Fix
from .builder import PLACEHOLDER_PREFIX, Insert, Remove, Replace, Take
from .imports import ImportRequest, ModuleLayout, is_import_line
from .lines import blank_run, is_blank, split_leading_lines
from .style import Style
from .wrap import wrap_line

_BLANK = cst.EmptyLine(indent=False, whitespace=cst.SimpleWhitespace(""))


def apply_fixes(module: cst.Module, fixes: Sequence[Fix], text: str | None = None) -> tuple[cst.Module, list[Fix]]:
    """`module` with every fix applied that conflicts with no fix before it, and the list
    of those fixes. `text` is the module's source when the caller has it (for the line
    length). Raises ValueError for a fix that contradicts itself (see FixBuilder)."""
    plan = _Plan(module)
    applied = [fix for fix in fixes if plan.admit(fix)]
    if not applied:
        return module, []
    plan.add_imports()
    applier = _Applier(plan)
    fixed = applier.run(module)
    source = text if text is not None else module.code
    if "\f" in source:
        fixed = _without_form_feeds_in_indentation(fixed)
    if "\\\n" in source or "\\\r" in source:
        fixed = _continuations_moved_with_their_statements(module, fixed)
    return _wrap_long_lines(fixed, applier.dirty, Style(module, text)), applied


def _without_form_feeds_in_indentation(module: cst.Module) -> cst.Module:
    """`module` with no form feed in the indentation of its blocks.

    libcst keeps a form feed that starts a block's first line as part of that block's
    indentation (and of the file's indentation unit, which new blocks take, when it is the
    file's first block). Python's tokenizer counts columns afresh after a form feed, so once
    a fix nests such a block in a new one (`if __name__ == "__main__":`, `with`), its lines
    would no longer be indented more than the new block's header: the file would not
    compile. A form feed in indentation is only whitespace; one on a line of its own stays.
    """
    return module.visit(_FormFeedRemover()).with_changes(default_indent=module.default_indent.replace("\f", ""))


class _FormFeedRemover(cst.CSTTransformer):
    def leave_IndentedBlock(self, original_node, updated_node):  # type: ignore[override]
        if updated_node.indent is not None and "\f" in updated_node.indent:
            return updated_node.with_changes(indent=updated_node.indent.replace("\f", ""))
        return updated_node


def _continuations_moved_with_their_statements(original: cst.Module, fixed: cst.Module) -> cst.Module:
    """`fixed` with the lines that a backslash continues indented by as much more as their
    statement now is (a statement moved under `if __name__ == "__main__":`): libcst indents a
    moved statement's lines, and those inside brackets, but a backslash continuation is
    whitespace it keeps as written, which would leave `total = a + \\` followed by `b` at the
    statement's own indentation (pycodestyle's E122; E125 for an `if` header). Found by the
    identity of the whitespace node, which transforms keep. A statement moved into a
    shallower block keeps its continuations as they were: still indented more than it."""
    before = _ContinuationIndents(original.default_indent)
    original.visit(before)
    if not before.indents:
        return fixed
    return fixed.visit(_ContinuationIndenter(fixed.default_indent, before.indents))


class _BlankLinesUnindented(cst.CSTTransformer):
    """A moved statement's blank lines left empty: libcst writes the indentation of their
    block on a blank line that had it, which was none at module level, so a statement moved
    under `if __name__ == "__main__":` would get lines of spaces (pycodestyle's W293) between
    its branches."""

    def leave_EmptyLine(self, original_node, updated_node):  # type: ignore[override]
        if updated_node.indent and updated_node.comment is None and not updated_node.whitespace.value:
            return updated_node.with_changes(indent=False)
        return updated_node


class _Indents:
    """The indentation of the code being visited (`current`), for a visitor or a
    transformer that visits a module or statements of its top level."""

    def __init__(self, default_indent: str) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.default_indent = default_indent

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self.stack.append(self.default_indent if node.indent is None else node.indent)

    def leave_IndentedBlock(self, original_node, updated_node=None):  # type: ignore[no-untyped-def]
        self.stack.pop()
        return updated_node

    @property
    def current(self) -> str:
        return "".join(self.stack)


class _ContinuationIndents(_Indents, cst.CSTVisitor):
    """The indentation of the statement of each whitespace that holds a backslash
    continuation, by the whitespace's identity."""

    def __init__(self, default_indent: str) -> None:
        super().__init__(default_indent)
        self.indents: dict[int, str] = {}

    def visit_SimpleWhitespace(self, node: cst.SimpleWhitespace) -> None:
        if "\\" in node.value:
            self.indents[id(node)] = self.current


class _ContinuationIndenter(_Indents, cst.CSTTransformer):
    def __init__(self, default_indent: str, indents: dict[int, str]) -> None:
        super().__init__(default_indent)
        self.indents = indents

    def leave_SimpleWhitespace(self, original_node, updated_node):  # type: ignore[override]
        was = self.indents.get(id(original_node))
        now = self.current
        if was is None or len(now) <= len(was) or not now.startswith(was):
            return updated_node
        deeper = now[len(was):]
        lines = updated_node.value.split("\n")
        return updated_node.with_changes(value="\n".join([lines[0], *(deeper + line for line in lines[1:])]))


class _Plan:
    """The edits admitted so far in this round, indexed by the node they touch."""

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        self.layout = ModuleLayout(module)
        self.replacements: dict[int, Replace] = {}
        self.removed: dict[int, bool] = {}  # id -> keep the comments above it
        self.taken: dict[int, Take] = {}
        self.placeholders: dict[str, Take] = {}
        self.before: dict[int, list[cst.BaseStatement]] = {}
        self.after: dict[int, list[cst.BaseStatement]] = {}
        self.claimed: set[int] = set()  # nodes an edit replaces, removes or moves
        self.anchors: set[int] = set()  # statements something is inserted next to
        self.sealed: set[int] = set()  # nodes strictly inside a fixed replacement or a removal
        self.gone: set[int] = set()  # statements removed or moved away
        self.names: dict[str, object] = {}
        self.imports: dict[tuple, ImportRequest] = {}
        self.separated: set[int] = set()  # inserted imports the next statement keeps a blank line from

    def admit(self, fix: Fix) -> bool:
        targets: list[cst.CSTNode] = []
        anchors: list[cst.CSTNode] = []
        roots: list[cst.CSTNode] = []
        kinds: dict[int, list[str]] = {}
        for edit in fix.edits:
            if isinstance(edit, Replace):
                targets.append(edit.node)
                kinds.setdefault(id(edit.node), []).append("function" if edit.composes else "value")
                if not edit.composes:
                    roots.append(edit.node)
            elif isinstance(edit, Remove):
                targets.append(edit.statement)
                kinds.setdefault(id(edit.statement), []).append("remove")
                roots.append(edit.statement)
            elif isinstance(edit, Take):
                targets.append(edit.statement)
                kinds.setdefault(id(edit.statement), []).append("take")
            elif isinstance(edit, Insert):
                anchors.append(edit.anchor)
        anchors.extend(anchor for anchor in (self._import_anchor(request)[0] for request in fix.imports)
                       if anchor is not None)
        takes = [edit.statement for edit in fix.edits if isinstance(edit, Take)]
        target_ids = list(kinds)
        # one edit per node; a statement may be edited (by a function) and moved
        if any(len(found) > 1 and sorted(found) != ["function", "take"] for found in kinds.values()):
            raise ValueError(f"fix {fix.description!r} edits the same node twice")
        # A statement taken out of a removed or fixed-replaced subtree leaves before it goes,
        # with the edits inside it: those are not dropped.
        carried = set().union(*(_subtree_ids(statement) for statement in takes)) if takes else set()
        interiors = [_subtree_ids(root) - {id(root)} for root in roots]
        for interior in interiors:
            if any(id(node) in interior and id(node) not in carried for node in (*targets, *anchors)):
                raise ValueError(
                    f"fix {fix.description!r} replaces a node with a fixed value and also edits inside it; "
                    "pass a function to replace() so that the inner edits compose")
        # conflicts with the fixes admitted before: one edit per node; nothing inside what
        # another fix replaces with a fixed value or removes; no insertion next to a
        # statement another fix removes or moves (where would it go?)
        if any(key in self.claimed for key in target_ids):
            return False
        if any(id(node) in self.sealed for node in (*targets, *anchors)):
            return False
        if any(not interior.isdisjoint(self.claimed) or not interior.isdisjoint(self.anchors) for interior in interiors):
            return False
        if any(id(anchor) in self.gone for anchor in anchors) or any(
                kind in ("remove", "take") and key in self.anchors for key, found in kinds.items() for kind in found):
            return False
        if any(name in self.names and self.names[name] != binder for name, binder in fix.names):
            return False
        for edit in fix.edits:
            if isinstance(edit, Replace):
                self.replacements[id(edit.node)] = edit
            elif isinstance(edit, Remove):
                self.removed[id(edit.statement)] = edit.keep_comments_above
            elif isinstance(edit, Take):
                self.taken[id(edit.statement)] = edit
                self.placeholders[_placeholder_name(edit.placeholder)] = edit
            elif isinstance(edit, Insert):
                (self.after if edit.after else self.before).setdefault(id(edit.anchor), []).extend(edit.statements)
        self.claimed.update(target_ids)
        self.gone.update(key for key, found in kinds.items() if "remove" in found or "take" in found)
        self.anchors.update(id(anchor) for anchor in anchors)
        for interior in interiors:
            self.sealed |= interior
        self.names.update(fix.names)
        for request in fix.imports:
            known = self.imports.get(request.key)
            if known is None or self._position(request) < self._position(known):
                self.imports[request.key] = request
        return True

    def _import_anchor(self, request: ImportRequest) -> tuple[cst.BaseStatement | None, bool]:
        if request.after is not None:
            return request.after, True
        if request.before is not None:
            return request.before, False
        index, after = self.layout.anchor_for(request.module)
        return (self.layout.body[index] if index >= 0 else None), after

    def _position(self, request: ImportRequest) -> int:
        if request.after is not None:
            return self.layout.top_index(request.after) + 1
        if request.before is not None:
            return self.layout.top_index(request.before)
        index, after = self.layout.anchor_for(request.module)
        return index + 1 if after else max(index, 0)

    def add_imports(self) -> None:
        """Turn the admitted import requests into insertions, in the order asked: one line
        per module (`from m import a, b` for names), first among what is inserted there."""
        groups: dict[tuple, list[ImportRequest]] = {}
        for request in self.imports.values():
            anchor, after = self._import_anchor(request)
            if anchor is None:
                raise ValueError("an import cannot be added to an empty module")
            module_key = request.module if request.name else request.key
            groups.setdefault((id(anchor), after, module_key), []).append(request)
        placed: dict[tuple[int, bool], list[cst.BaseStatement]] = {}
        with_the_others: set[tuple[int, bool]] = set()
        for (anchor_id, after, _), requests in groups.items():
            first = requests[0]
            if first.name:
                names = ", ".join(f"{r.name} as {r.alias}" if r.alias else str(r.name) for r in requests)
                code = f"from {first.module} import {names}"
            else:
                code = first.code()
            placed.setdefault((anchor_id, after), []).append(cst.parse_statement(code))
            if first.before is None and first.after is None:
                with_the_others.add((anchor_id, after))
        for (anchor_id, after), statements in placed.items():
            if (anchor_id, after) in with_the_others and not self.layout.has_imports:
                # the module's first import: set apart from the docstring and from the code
                if after:
                    statements[0] = statements[0].with_changes(leading_lines=[_BLANK])
                self.separated.add(id(statements[-1]))
            target = self.after if after else self.before
            # imports come first: what else is inserted there may use them
            target.setdefault(anchor_id, [])[0:0] = statements


def _subtree_ids(node: cst.CSTNode) -> set[int]:
    ids: set[int] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        ids.add(id(current))
        stack.extend(current.children)
    return ids


def _placeholder_name(statement: cst.CSTNode) -> str | None:
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
        small = statement.body[0]
        if isinstance(small, cst.Expr) and isinstance(small.value, cst.Name) \
                and small.value.value.startswith(PLACEHOLDER_PREFIX):
            return small.value.value
    return None


def _as_list(result) -> list:
    if isinstance(result, cst.RemovalSentinel):
        return []
    if isinstance(result, cst.FlattenSentinel):
        return list(result.nodes)
    return [result]


class _Applier(cst.CSTTransformer):
    def __init__(self, plan: _Plan) -> None:
        super().__init__()
        self.plan = plan
        # what became of each edited statement, and how many places it took in libcst's
        # own rebuilt block (the others are there one for one)
        self.outcomes: dict[int, list[cst.BaseStatement]] = {}
        self.places: dict[int, int] = {}
        # statements an edit touches, whose block is rebuilt here
        self.edited = set(plan.before) | set(plan.after) | set(plan.removed) | set(plan.taken) | set(plan.replacements)
        self.moved: dict[int, cst.BaseStatement] = {}
        # module-level statements an edit reached (where a line may have grown), by id
        self.top_level = {id(statement) for statement in plan.module.body}
        self.edits_made = 0
        self.started: dict[int, int] = {}
        self.dirty: set[int] = set()
        self.moving: set[int] = set()
        self.placed: set[str] = set()
        self.filling: set[str] = set()
        self.seen_statements: set[int] = set()
        # per statement being traversed (innermost last): comments its replaced parts left out
        self.left_out: list[list[str]] = []

    def run(self, module: cst.Module) -> cst.Module:
        fixed = module.visit(self)
        assert isinstance(fixed, cst.Module)
        if id(module) in self.plan.replacements:  # a new module: any line may be new
            self.dirty = {id(statement) for statement in fixed.body}
        plan = self.plan
        unplaced = set(plan.placeholders) - self.placed
        if unplaced:
            raise ValueError("a statement was taken with take() but its placeholder was never placed")
        expected = set(plan.before) | set(plan.after) | set(plan.removed) | set(plan.taken)
        if not expected <= self.seen_statements:
            raise ValueError("statement edits need statements of a module or an indented block")
        return fixed

    # -- the traversal ---------------------------------------------------------------------

    def on_visit(self, node: cst.CSTNode) -> bool:
        key = id(node)
        if isinstance(node, cst.BaseStatement):
            self.left_out.append([])
        if key in self.top_level:
            self.started[key] = self.edits_made
        return key not in self.moved

    def on_leave(self, original_node, updated_node):  # type: ignore[override]
        key = id(original_node)
        result = self._leave(key, original_node, updated_node)
        if isinstance(original_node, cst.BaseStatement):
            self.left_out.pop()
        if key in self.top_level and self.edits_made != self.started.get(key):
            self.dirty.update(id(statement) for statement in _as_list(result))
        return result

    def _leave(self, key: int, original_node, updated_node):
        if key in self.moved:  # moved ahead of the traversal: already computed
            self.outcomes[key], self.places[key] = [], 0
            return cst.RemovalSentinel.REMOVE
        kind = type(original_node)
        if (kind is cst.Module or kind is cst.IndentedBlock) and any(
                id(statement) in self.edited for statement in original_node.body):
            updated_node = self._rebuild(original_node, updated_node)
            self.edits_made += 1
        if key not in self.edited:
            return self._with_left_out(original_node, updated_node)
        replace = self.plan.replacements.get(key)
        result = updated_node
        if replace is not None:
            result = replace.value(updated_node) if replace.composes else replace.value
            if self.left_out:  # (not for a new module)
                # counted before the moved statements are put in: they bring their own
                kept = sum((_comments(node) for node in _as_list(result)), Counter())
                self.left_out[-1].extend((_comments(updated_node) - kept).elements())
            result = self._fill(result)
            self.edits_made += 1
        result = self._with_left_out(original_node, result)
        if isinstance(original_node, cst.BaseStatement):
            statements = _as_list(result)
            if key in self.plan.taken:
                if len(statements) != 1:
                    raise ValueError("a moved statement must be one statement after its own edits")
                self.moved[key] = statements[0].visit(_BlankLinesUnindented())
                statements, result = [], cst.RemovalSentinel.REMOVE
            elif key in self.plan.removed:
                statements, result = [], cst.RemovalSentinel.REMOVE
            self.outcomes[key] = statements
            self.places[key] = len(_as_list(result))
        return result

    def _with_left_out(self, original_node: cst.CSTNode, result):
        """A statement's result with the comments its replaced parts left out (a removed
        statement's comments stay where it was instead: see _rebuild)."""
        if not isinstance(original_node, cst.BaseStatement) or id(original_node) in self.plan.removed:
            return result
        left_out, self.left_out[-1] = self.left_out[-1], []
        return _with_comments(result, left_out) if left_out else result

    def _moved_statement(self, take: Take) -> cst.BaseStatement:
        key = id(take.statement)
        if key not in self.moved:
            if key in self.moving:
                raise ValueError("a statement is moved into itself")
            self.moving.add(key)
            take.statement.visit(self)
            self.moving.discard(key)
        return self.moved[key]

    def _fill(self, node):
        """Put the moved statements in place of their placeholders inside new content."""
        if not self.plan.placeholders or isinstance(node, cst.RemovalSentinel):
            return node
        if isinstance(node, cst.FlattenSentinel):
            return cst.FlattenSentinel([self._fill(part) for part in node.nodes])
        return node.visit(_Filler(self))

    def _placeholder(self, statement: cst.CSTNode) -> cst.BaseStatement | None:
        name = _placeholder_name(statement)
        if name is None or name not in self.plan.placeholders:
            return None
        if name in self.filling:
            raise ValueError("a statement is moved into itself")
        if name in self.placed:
            raise ValueError("a placeholder from take() is used twice")
        self.filling.add(name)
        statement = self._moved_statement(self.plan.placeholders[name])
        self.filling.discard(name)
        self.placed.add(name)
        return statement

    # -- blocks --------------------------------------------------------------------------------

    def _rebuild(self, original, updated):
        plan = self.plan
        module_level = isinstance(original, cst.Module)
        out: list[cst.BaseStatement] = []
        changed: list[int] = []  # _KEPT, _SEAM or _NEW per statement of `out`
        reached: list[bool] = []  # per statement of `out`: new, or an edit reached it
        gap: list[cst.EmptyLine] = []
        seam = False  # a statement left from here: the next one's spacing is new

        def emit(statements: list[cst.BaseStatement], new: bool, edited: bool = False) -> None:
            nonlocal gap, seam
            for statement in statements:
                reached.append(new or edited)
                if gap:
                    if any(not is_blank(line) for line in gap) or not blank_run(statement.leading_lines):
                        # comments left behind go on; blank lines only where there were none
                        statement = statement.with_changes(leading_lines=_merge(gap, statement.leading_lines))
                    gap = []
                out.append(statement)
                changed.append(_NEW if new else _SEAM if seam else _KEPT)
                seam = False

        position = 0  # in libcst's rebuilt body
        for statement in original.body:
            key = id(statement)
            self.seen_statements.add(key)
            before = [self._inserted(s) for s in plan.before.get(key, ())]
            after = [self._inserted(s) for s in plan.after.get(key, ())]
            if key in self.outcomes:
                results = list(self.outcomes[key])
                position += self.places[key]
            else:
                results = [updated.body[position]]
                position += 1
            edited = any(id(result) in self.dirty for result in results)
            taken = key in plan.taken
            gone = taken or key in plan.removed or not results
            if gone:
                if taken or not plan.removed.get(key, True):
                    # it takes its comments along (or the fix put them elsewhere); the first
                    # one's blank lines keep the spacing
                    gap = gap or blank_run(statement.leading_lines)
                else:
                    gap = _merge(gap, statement.leading_lines)
                if not taken:
                    gap = [*gap, *_rescue_comments(statement, set(plan.taken))]
            elif before:
                detached, attached = split_leading_lines(results[0].leading_lines)
                results[0] = results[0].with_changes(leading_lines=attached)
                gap = _merge(gap, detached)
            if gone:
                seam = True
            emit(before, True)
            emit(results, False, edited)  # a statement replaced in place keeps its neighbours' spacing
            emit(after, True)
        if not out and not module_level:
            # the comments of what was removed stay above the `pass` that stands for it
            kept = [line for line in gap if line.comment is not None]
            out, changed, reached = [cst.SimpleStatementLine([cst.Pass()], leading_lines=kept)], [_NEW], [True]
            gap = []
        footer = list(updated.footer)
        comments = [line for line in gap if line.comment is not None]
        if comments:
            while gap and gap[-1].comment is None:
                gap.pop()
            footer = _merge(gap, footer)
        body = _normalize(out, changed, module_level, self.plan.separated)
        if module_level:
            self.dirty = {id(statement) for statement, flag in zip(body, reached) if flag}
        return updated.with_changes(body=body, footer=footer)

    def _inserted(self, statement: cst.BaseStatement) -> cst.BaseStatement:
        filled = self._placeholder(statement)
        if filled is not None:
            return filled
        return self._fill(statement)


class _Filler(cst.CSTTransformer):
    def __init__(self, applier: _Applier) -> None:
        super().__init__()
        self.applier = applier

    def on_leave(self, original_node, updated_node):  # type: ignore[override]
        filled = self.applier._placeholder(updated_node)
        if filled is not None:
            return filled
        if isinstance(updated_node, cst.IndentedBlock) and any(
                _placeholder_name(statement) for statement in original_node.body):
            body = list(updated_node.body)
            return updated_node.with_changes(body=_normalize(body, [_NEW] * len(body), False, set()))
        return updated_node


# -- blank lines and comments ----------------------------------------------------------------


def _comments(node: cst.CSTNode, skipped: set[int] = frozenset()) -> Counter:  # type: ignore[assignment]
    """The comments in `node` by text, in the order they come (not inside the nodes whose
    ids are `skipped`)."""
    found: Counter = Counter()
    stack = [node]
    while stack:
        current = stack.pop()
        if id(current) in skipped:
            continue
        if isinstance(current, cst.Comment):
            found[current.value] += 1
        stack.extend(reversed(current.children))
    return found


def _rescue_comments(statement: cst.BaseStatement, taken: set[int]) -> list[cst.EmptyLine]:
    """The comments of a removed statement other than those above it (at the end of its
    lines, inside it; not those of the statements taken out of it, which go along), as
    comment lines to stay where it was."""
    inner = _comments(statement.with_changes(leading_lines=()), taken)
    return [cst.EmptyLine(comment=cst.Comment(text)) for text in inner.elements()]


def _with_comments(result, comments: list[str]):
    """`result` (a statement, or what replaced one) holding `comments` as well: one at the
    end of its first line when that line has none, otherwise each on a line of its own
    above it."""
    statements = _as_list(result)
    if not statements:
        return result
    first = statements[0]
    if len(comments) == 1:
        ending = _first_line_ending(first)
        if ending is not None and ending.comment is None:
            ended = ending.with_changes(whitespace=cst.SimpleWhitespace("  "), comment=cst.Comment(comments[0]))
            first = _with_first_line_ending(first, ended)
            comments = []
    if comments:
        first = first.with_changes(leading_lines=[
            *first.leading_lines, *(cst.EmptyLine(comment=cst.Comment(text)) for text in comments)])
    return cst.FlattenSentinel([first, *statements[1:]]) if len(statements) > 1 else first


def _first_line_ending(statement: cst.BaseStatement) -> cst.TrailingWhitespace | None:
    if isinstance(statement, cst.SimpleStatementLine):
        return statement.trailing_whitespace
    body = getattr(statement, "body", None)
    if isinstance(body, cst.IndentedBlock):
        return body.header
    if isinstance(body, cst.SimpleStatementSuite):
        return body.trailing_whitespace
    return None


def _with_first_line_ending(statement: cst.BaseStatement, ending: cst.TrailingWhitespace) -> cst.BaseStatement:
    if isinstance(statement, cst.SimpleStatementLine):
        return statement.with_changes(trailing_whitespace=ending)
    body = statement.body  # type: ignore[attr-defined]
    if isinstance(body, cst.IndentedBlock):
        return statement.with_changes(body=body.with_changes(header=ending))
    return statement.with_changes(body=body.with_changes(trailing_whitespace=ending))


def _merge(first: Sequence[cst.EmptyLine], second: Sequence[cst.EmptyLine]) -> list[cst.EmptyLine]:
    """`first` then `second`, the blank lines where they meet counted once (the longer run)."""
    first, second = list(first), list(second)
    tail = 0
    while tail < len(first) and is_blank(first[len(first) - 1 - tail]):
        tail += 1
    head = len(blank_run(second))
    kept = first[:len(first) - tail] if tail else first
    return [*kept, *[_BLANK] * max(tail, head), *second[head:]]


def _is_definition(statement: cst.CSTNode) -> bool:
    return isinstance(statement, (cst.FunctionDef, cst.ClassDef))


_KEPT, _SEAM, _NEW = 0, 1, 2  # a statement as it was; one a removal left next to others; a new one


def _normalize(body: list[cst.BaseStatement], changed: list[int], module_level: bool,
               separated: set[int]) -> list[cst.BaseStatement]:
    """Blank lines at the seams the edits made, as black writes them: none at the top of a
    block; around a new or moved definition two at module level, one in a block; at most
    two/one. A statement that stayed keeps its spacing unless a new statement before it
    needs more (a definition, the module's first import)."""
    cap = 2 if module_level else 1
    result = list(body)
    for index, statement in enumerate(body):
        before = changed[index - 1] if index else _KEPT
        if changed[index] == _KEPT and before != _NEW:
            continue
        lines = [_BLANK if is_blank(line) else line for line in statement.leading_lines]
        run = len(blank_run(lines))
        if index == 0:
            wanted = 0
        else:
            previous = body[index - 1]
            least = 0
            new = changed[index] == _NEW
            if (_is_definition(previous) and (new or before == _NEW)) or (new and _is_definition(statement)):
                least = cap
            if id(previous) in separated and not is_import_line(statement):
                least = max(least, 1)
            wanted = max(run, least)
            if changed[index] != _KEPT:
                wanted = min(wanted, cap)
        lines = [*[_BLANK] * wanted, *lines[run:]]
        if lines != list(statement.leading_lines):
            result[index] = statement.with_changes(leading_lines=lines)
    return result


# -- long lines ----------------------------------------------------------------------------------


def _wrap_long_lines(module: cst.Module, dirty: set[int], style: Style) -> cst.Module:
    """Wrap the long lines of the module-level statements in `dirty` (those an edit
    reached: no other line can have grown past the limit, which is at least the file's
    longest line)."""
    body = list(module.body)
    wrapper: _LineWrapper | None = None
    for index, statement in enumerate(body):
        if id(statement) in dirty:
            wrapper = wrapper or _LineWrapper(module, style)
            body[index] = statement.visit(wrapper)  # type: ignore[assignment]
    return module if wrapper is None else module.with_changes(body=body)


class _LineWrapper(_Indents, cst.CSTTransformer):
    """Wraps each one-line simple statement, and each one-line `with` header, longer than
    the file's limit."""

    def __init__(self, module: cst.Module, style: Style) -> None:
        super().__init__(module.default_indent)
        self.module = module
        self.style = style

    def leave_SimpleStatementLine(self, original_node, updated_node):  # type: ignore[override]
        indent = self.current
        code = self.module.code_for_node(updated_node.with_changes(leading_lines=())).rstrip("\r\n")
        if "\n" in code or "\r" in code or len(indent) + len(code) <= self.style.line_length:
            return updated_node
        wrapped = wrap_line(code, len(indent), self.style.indent, self.style.line_length)
        if wrapped is None:
            return updated_node
        try:
            statement = cst.parse_statement(wrapped + "\n", config=self.module.config_for_parsing)
        except cst.ParserSyntaxError:
            return updated_node
        return statement.with_changes(leading_lines=updated_node.leading_lines)

    def leave_With(self, original_node, updated_node):  # type: ignore[override]
        return self._wrap_header(updated_node)

    def _wrap_header(self, node: cst.With) -> cst.BaseCompoundStatement:
        """`with ...:` with its header wrapped when that one line is too long (a
        `with Pool(...) as pool:` a fix wrote)."""
        if not isinstance(node.body, cst.IndentedBlock):
            return node
        indent = self.current
        code = self.module.code_for_node(node.with_changes(leading_lines=()))
        header, newline, rest = code.partition(self.module.default_newline)
        header = header.rstrip()
        if not header.endswith(":") or "#" in header or len(indent) + len(header) <= self.style.line_length:
            return node
        wrapped = wrap_line(header, len(indent), self.style.indent, self.style.line_length)
        if wrapped is None:
            return node
        try:
            statement = cst.parse_statement(wrapped + newline + rest, config=self.module.config_for_parsing)
        except cst.ParserSyntaxError:
            return node
        return statement.with_changes(leading_lines=node.leading_lines)
