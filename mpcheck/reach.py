"""Which top-level names of a project's modules reach some words: the cross-file part of
the prefilter, by a name-based pass over the text.

A file whose text names no process API can still start processes by calling a function of
another module of its project that does (MP201's `jobs.run_all()`). Parsing every module
that imports such a module is what made a run over the standard library parse nearly all of
it (logging imports a module that imports one that mentions multiprocessing). Instead:

- a module's top-level statements are its *chunks* (CPython's `ast` finds their lines; it is
  run only on modules whose code -- the text without its comments and strings, `code_text`
  -- holds a word or an imported name that reaches);
- a chunk *reaches* when one of the identifiers of its code (not of its strings or comments:
  the semantic model resolves names through imports, never through text) holds one of the
  words, or it names a name of its module that reaches, or a name this module imported from another module
  where that name reaches (`from .jobs import run_all`; `import jobs` then `jobs.run_all`);
  the names a reaching chunk binds reach (a def, a class, an assignment, an import:
  re-exports through `__init__.py` follow);
- a file *uses a reaching name* when it imports one (or refers to one through a module it
  imports).

Every step over-approximates (a chunk uses every identifier in it, binds every name stored
in it, and uses `jobs.run_all` when it names `jobs` and `run_all` anywhere; the checked file's
own text is searched, strings and comments included), so a file the pass rejects calls
nothing of its project that holds the words. Results are kept per module for the run; each
answer notes the modules it depends on, the file's import closure (dependencies.py).
"""

from __future__ import annotations

import ast
import functools
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

from .source import source_lines

if TYPE_CHECKING:
    from .project import ProjectIndex, _Module

_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_WILDCARD = "__getattr__"  # a module-level __getattr__ may hand out any attribute


@dataclass(frozen=True)
class ImportBinding:
    """A name an import statement binds. `import a.b` binds `a`, refers to the module
    `a.b` as `a.b` (`written`); `from p import n as m` binds `m` to `p.n` (a name of `p` or
    its submodule); `from p import *` binds `*`."""

    local: str
    target: str  # absolute dotted name
    module_import: bool  # `import ...` (not `from ... import ...`)
    written: str  # how the code refers to the target: `a.b` for `import a.b`, else `local`
    # The statement starts its line, unindented: it is at module level (or in a string).
    unindented: bool = False


_FROM = re.compile(r"[ \t]*from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]*(?:\(([^)]*)\)|([^#\n;\\]*(?:\\\n[^#\n;\\]*)*))")
_PLAIN = re.compile(r"[ \t]*import[ \t]+([^#\n;\\]+(?:\\\n[^#\n;\\]*)*)")


def _statement_starts(text: str) -> Iterator[int]:
    """Where an import statement may start: the start of each line that holds the word
    `import`, and every `;` or `:` on it (`a = 1; import b`, `if x: import y`). Found with
    `str.find`, which runs at memory speed, instead of a regular expression tried at every line."""
    line_end = -1
    position = text.find("import")
    while position >= 0:
        if position > line_end:
            line_start = text.rfind("\n", 0, position) + 1
            line_end = text.find("\n", position)
            if line_end < 0:
                line_end = len(text)
            yield line_start
            for index in range(line_start, line_end):
                if text[index] in ";:":
                    yield index + 1
        position = text.find("import", max(position + 6, line_end))


def import_bindings(text: str, own_name: str, is_package: bool) -> list[ImportBinding]:
    """The import statements of `text` as bindings, read with regular expressions (also
    inside functions and conditions: every one that could run)."""
    found: list[ImportBinding] = []
    plain_matches = []
    from_matches = []
    for start in _statement_starts(text):
        plain = _PLAIN.match(text, start)
        if plain is not None:
            plain_matches.append(plain)
        else:
            matched = _FROM.match(text, start)
            if matched is not None:
                from_matches.append(matched)
    for match in plain_matches:
        unindented = _unindented(text, match.start())
        for part in _names(match.group(1)):
            name, _, alias = part.partition(" as ")
            name, alias = name.strip(), alias.strip()
            if not _is_dotted(name):
                continue
            if alias:
                found.append(ImportBinding(alias, name, True, alias, unindented))
            else:
                found.append(ImportBinding(name.split(".", 1)[0], name, True, name, unindented))
    for match in from_matches:
        source, parenthesized, plain = match.groups()
        base = absolute_name(source, own_name, is_package)
        if base is None:
            continue
        unindented = _unindented(text, match.start())
        for part in _names(parenthesized if parenthesized is not None else plain):
            name, _, alias = part.partition(" as ")
            name, alias = name.strip(), alias.strip() or name.strip()
            if name == "*":
                found.append(ImportBinding("*", base, False, "*", unindented))
            elif name.isidentifier():
                found.append(ImportBinding(alias, f"{base}.{name}" if base else name, False, alias, unindented))
    return found


def _unindented(text: str, start: int) -> bool:
    """The statement matched at `start` begins its line, in the first column."""
    return (start == 0 or text[start - 1] == "\n") and text[start:start + 1] not in (" ", "\t")


def _names(listed: str) -> list[str]:
    listed = re.sub(r"#[^\n]*", "", listed).replace("\\\n", " ")
    return [part.strip() for part in listed.replace("\n", " ").split(",") if part.strip()]


def _is_dotted(name: str) -> bool:
    return bool(name) and all(part.isidentifier() for part in name.split("."))


def absolute_name(dotted: str, own_name: str, is_package: bool) -> str | None:
    """`dotted` with leading dots resolved against the module `own_name`."""
    level = len(dotted) - len(dotted.lstrip("."))
    if level == 0:
        return dotted
    package = own_name.split(".") if is_package else own_name.split(".")[:-1]
    if level - 1 > len(package):
        return None
    base = package[: len(package) - (level - 1)]
    rest = dotted[level:]
    return ".".join(base + ([rest] if rest else []))


@dataclass
class _Chunk:
    """A top-level statement. What it names is worked out when first asked: most chunks of a
    module are never asked (nothing in them reaches). (Its syntax tree is not kept.)"""

    binds: frozenset[str]
    segment: str  # its text
    has_word: bool  # an identifier of its code (not of a string or a comment) holds a word

    @functools.cached_property
    def names(self) -> frozenset[str]:
        """Every identifier in its text."""
        return frozenset(_IDENTIFIER.findall(self.segment))


@dataclass
class _Visible:
    """The names of other modules that reach, as one module's imports make them visible:
    plain names (`run_all` after `from jobs import run_all`) and attributes of a module
    name (`jobs` . `run_all` after `import jobs`; `*` for any attribute)."""

    names: set[str] = field(default_factory=set)
    attributes: dict[str, set[str]] = field(default_factory=dict)
    patterns: list[str] = field(default_factory=list)  # the same, as regular expressions over text

    def used_by(self, chunk: _Chunk) -> bool:
        return (bool(self.names) and not self.names.isdisjoint(chunk.names)) or any(
            module in chunk.names and ("*" in attributes or not attributes.isdisjoint(chunk.names))
            for module, attributes in self.attributes.items())


@dataclass
class _State:
    names: set[str] = field(default_factory=set)  # the module's names that reach
    chunks: list[_Chunk] | None = None
    closure: tuple[_Module, ...] = ()  # the modules it imports, directly or not, and itself
    pattern: re.Pattern[str] | None = None  # a use of what its imports make visible (once settled)
    has_word: bool | None = None  # a word is somewhere in its text


class Reach:
    """The names of `index`'s modules that reach `words` (see the module docstring)."""

    def __init__(self, index: ProjectIndex, words: Iterable[str]) -> None:
        self.index = index
        self.words = tuple(words)
        self._states: dict[int, _State] = {}  # settled modules only

    def file_uses(self, path: str | Path, text: str) -> bool:
        """Whether the file at `path` (its text: `text`) uses a name of another module of
        the project that reaches the words. The file's own text is not parsed: a name in a
        string or a comment counts. The answer depends on the modules the file imports,
        directly or not (noted)."""
        module = self.index.module_at(path)
        if module is None:
            return False
        state = self._settled(module)
        if state.pattern is None:
            visible = self._visible(module)
            state.pattern = re.compile("|".join(visible.patterns) if visible.patterns else "(?!)")
        return state.pattern.search(text) is not None

    def reaches(self, module: _Module, name: str) -> bool:
        """Whether the top-level `name` of `module` reaches the words (the answer depends on
        the modules it imports, directly or not: noted)."""
        return name in self._settled(module).names

    def _settled(self, module: _Module) -> _State:
        self._settle(module)
        state = self._states[id(module)]
        for member in state.closure:
            self.index.note(member)
        return state

    def _settle(self, start: _Module) -> None:
        """Find the reaching names of `start` and of every module it imports, directly or
        not: the import graph's strongly connected groups (Tarjan's algorithm, iterative),
        each settled once those it imports are."""
        if id(start) in self._states:
            return
        index_of: dict[int, int] = {}
        low: dict[int, int] = {}
        stack: list[_Module] = []
        on_stack: set[int] = set()
        work: list[tuple[_Module, list[_Module]]] = []

        def open_module(module: _Module) -> None:
            index_of[id(module)] = low[id(module)] = len(index_of)
            stack.append(module)
            on_stack.add(id(module))
            work.append((module, list(self.index.imported(module))))

        open_module(start)
        while work:
            module, pending = work[-1]
            if pending:
                imported = pending.pop()
                if id(imported) in self._states:
                    continue
                if id(imported) not in index_of:
                    open_module(imported)
                elif id(imported) in on_stack:
                    low[id(module)] = min(low[id(module)], index_of[id(imported)])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[id(parent)] = min(low[id(parent)], low[id(module)])
            if low[id(module)] == index_of[id(module)]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(id(member))
                    group.append(member)
                    if member is module:
                        break
                self._settle_group(group)

    def _settle_group(self, group: list[_Module]) -> None:
        states = [_State() for _ in group]
        for module, state in zip(group, states):
            self._states[id(module)] = state
        texts = [self.index.text_of(module) or "" for module in group]
        codes: dict[int, str] = {}  # their code, for those that hold a word or a visible name
        changed = True
        while changed:
            changed = False
            for module, state, text in zip(group, states, texts):
                changed |= self._grow(module, state, text, codes)
        closure = {id(module): module for module in group}
        for module in group:
            for imported in self.index.imported(module):
                closure.update((id(member), member) for member in self._states[id(imported)].closure)
        members = tuple(closure.values())
        for state in states:
            state.closure = members

    def _grow(self, module: _Module, state: _State, text: str, codes: dict[int, str]) -> bool:
        visible = self._visible(module)
        if state.chunks is None:
            # Parsed only when a word, or a name it imports that reaches, is in its code: looked
            # for in the text first, then in the text without its comments and strings.
            if state.has_word is None:
                state.has_word = any(word in text for word in self.words) and \
                    any(word in _code(module, text, codes) for word in self.words)
            uses = re.compile("|".join(visible.patterns)) if visible.patterns else None
            if not state.has_word and not (uses and uses.search(text) and uses.search(_code(module, text, codes))):
                return False
            state.chunks = _chunks(text, self.words)
        before = len(state.names)
        grown = True
        while grown:  # names of this module that reach make the chunks using them reach
            grown = False
            for chunk in state.chunks:
                if (chunk.has_word or (state.names and not state.names.isdisjoint(chunk.names))
                        or visible.used_by(chunk)) and not chunk.binds <= state.names:
                    state.names |= chunk.binds
                    grown = True
        return len(state.names) != before

    def _visible(self, module: _Module) -> _Visible:
        """The reaching names of other modules that `module`'s imports make visible."""
        visible = _Visible()
        for binding in self.index.bindings(module):
            target = self.index.find(module.root, binding.target)
            state = None if target is None or target is module else self._states.get(id(target))
            if state is None or not state.names:
                continue
            names = state.names
            if binding.local == "*":
                visible.names |= names
                visible.patterns.extend(rf"\b{re.escape(name)}\b" for name in names)
            elif target.name == binding.target:  # the binding names the module itself
                attributes = {"*"} if _WILDCARD in names else names
                visible.attributes.setdefault(binding.local, set()).update(attributes)
                written = r"\s*\.\s*".join(map(re.escape, binding.written.split(".")))
                listed = r"\w+" if "*" in attributes else "|".join(map(re.escape, sorted(attributes)))
                visible.patterns.append(rf"\b{written}\s*\.\s*(?:{listed})\b")
            elif binding.target.rsplit(".", 1)[-1] in names or _WILDCARD in names:
                visible.names.add(binding.local)
                visible.patterns.append(rf"\b{re.escape(binding.local)}\b")
        return visible


def _code(module: _Module, text: str, codes: dict[int, str]) -> str:
    """`code_text(text)` of `module`, kept in `codes` while its group is settled."""
    code = codes.get(id(module))
    if code is None:
        code = codes[id(module)] = code_text(text)
    return code


# A comment, or a string literal with its prefix (group 1; None for a comment), the
# triple-quoted ones first.
_COMMENT_OR_STRING = re.compile(
    r"#[^\n]*"
    r"|([rRbBuUfF]{0,2})(?:'''(?:\\[\s\S]|[^\\])*?'''"
    r'|"""(?:\\[\s\S]|[^\\])*?"""'
    r"|'(?:\\[\s\S]|[^'\\\n])*'"
    r'|"(?:\\[\s\S]|[^"\\\n])*")')


def code_text(text: str) -> str:
    """`text` with each comment and string literal replaced by a blank (so that the names on
    either side stay apart), but f-strings, whose fields are code: a word not in it is in no
    identifier of the code, which is what the semantic model resolves. When an f-string's
    braces do not pair up (a field that holds a string in the same quotes, Python 3.12), the
    lexing is not trusted and `text` is returned whole."""
    f_strings = []

    def blank(match: re.Match[str]) -> str:
        prefix = match.group(1)
        if prefix is None or "f" not in prefix.lower():
            return " "
        f_strings.append(match.group(0))
        return match.group(0)

    code = _COMMENT_OR_STRING.sub(blank, text)
    return text if any(literal.count("{") != literal.count("}") for literal in f_strings) else code


def _chunks(text: str, words: tuple[str, ...]) -> list[_Chunk]:
    """The top-level statements of `text`, with the names each binds and uses; the whole
    text as one chunk binding and using every identifier in it when CPython cannot parse it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return [_Chunk(frozenset(_IDENTIFIER.findall(text)), text, any(word in text for word in words))]
    lines = source_lines(text)
    chunks = []
    for statement in tree.body:
        first = min([statement.lineno, *(d.lineno for d in getattr(statement, "decorator_list", ()))])
        segment = "".join(lines[first - 1:statement.end_lineno])
        has_word = any(word in segment for word in words) and \
            any(word in name for name in _code_names(statement) for word in words)
        chunks.append(_Chunk(frozenset(_bound(statement)), segment, has_word))
    return chunks


def _code_names(statement: ast.stmt) -> set[str]:
    """The identifiers of a statement's code: names, attributes, imported modules and
    names, definitions, keywords."""
    names = set()
    for node in ast.walk(statement):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.alias):
            names.update(node.name.split("."))
            if node.asname:
                names.add(node.asname)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.update(node.module.split("."))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.keyword) and node.arg:
            names.add(node.arg)
    return names


def _bound(statement: ast.stmt) -> set[str]:
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {statement.name}
    names = set()
    for node in ast.walk(statement):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".", 1)[0])
    return names
