"""Which top-level names of a project's modules reach some words: the cross-file part of
the prefilter, by a name-based pass over the text.

A file whose text names no process API can still start processes by calling a function of
another module of its project that does (MP201's `jobs.run_all()`). Parsing every module
that imports such a module is what made a run over the standard library parse nearly all of
it (logging imports a module that imports one that mentions multiprocessing). Instead:

- a module's top-level statements are its *chunks*, found only in modules whose code -- the
  text without its comments and strings, `code_text` -- holds a word or an imported name
  that reaches: read from the text (`top_level_statements`), or with CPython's `ast` where
  that reading is unsure;
- a chunk *reaches* when one of the identifiers of its code (not of its strings or comments:
  the semantic model resolves names through imports, never through text) holds one of the
  words, or it names a name of its module that reaches, or a name this module imported from another module
  where that name reaches (`from .jobs import run_all`; `import jobs` then `jobs.run_all`);
  the names a reaching chunk binds reach (a def, a class, an assignment, an import:
  re-exports through `__init__.py` follow);
- a module's attributes are its names, and for a package, the modules beneath it (once
  anything imported `shop.jobs`, `import shop` and `shop.jobs.run_all()` call it; the
  submodules a module's text names after a package it binds are followed), and the modules
  its names are bound to (`from . import jobs as kit` in shop/__init__.py: `shop.kit.run_all`);
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
import keyword
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

from .dependencies import Reads, last_recording
from .source import source_lines
from .syntax import cpython_tree

if TYPE_CHECKING:
    from .project import ProjectIndex, _Module

IDENTIFIER = re.compile(r"[^\W\d]\w*")
_KEYWORDS = frozenset(keyword.kwlist)  # never a name (a soft keyword, `match` or `type`, may be)
_WORD_CHARACTER = re.compile(r"\w")
_WILDCARD = "__getattr__"  # a module-level __getattr__ may hand out any attribute
_LISTED = 16  # the most attributes of a module that reach a pattern lists (see _see_names)


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
    position: int = -1  # where the statement starts in the text (its line's start, or after `;` or `:`)


_SPACE = r"(?:[ \t\f]|\\\r?\n)"  # a blank, or a backslash continuation
# `from .a.b import ...`, `from . a import (x,  # a comment (with brackets)\n y)`, `from .import x`,
# over backslash continuations anywhere: the module (group 1, blanks and continuations in it
# to be removed), then the names, bracketed (group 2) or not (group 3).
_FROM = re.compile(
    rf"[ \t\f]*from(?:{_SPACE}+|(?=\.))((?:\.|{_SPACE})*(?:\w+(?:{_SPACE}*\.{_SPACE}*\w+)*)?)"
    rf"(?:(?<=\.)|{_SPACE}+)import\b{_SPACE}*"
    r"(?:\(((?:[^)#]|#[^\n]*)*)\)|([^#\n;\\]*(?:\\\r?\n[^#\n;\\]*)*))")
_PLAIN = re.compile(rf"[ \t\f]*import{_SPACE}+([^#\n;\\]+(?:\\\r?\n[^#\n;\\]*)*)")
_BLANKS = re.compile(r"\s|\\")
_LONE_CR = re.compile(r"\r(?!\n)")


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
            while line_start >= 2 and (text[line_start - 2] == "\\" or text[line_start - 3:line_start - 1] == "\\\r"):
                above = text.rfind("\n", 0, line_start - 2) + 1
                if "#" in text[above:line_start]:
                    break  # the backslash may end a comment, which continues nothing
                line_start = above  # it continues the line above
            yield line_start
            for index in range(line_start, line_end):
                if text[index] in ";:":
                    yield index + 1
        position = text.find("import", max(position + 6, line_end))


def _import_matches(text: str) -> tuple[list[re.Match[str]], list[re.Match[str]]]:
    """The `import` statements of `text` and its `from ... import` statements, as matches
    of `_PLAIN` and `_FROM` (also inside functions and conditions: every one that could run),
    in a text where a carriage return alone ends a line as it does for Python."""
    if "\r" in text:  # (same length: positions stay)
        text = _LONE_CR.sub("\n", text)
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
    return plain_matches, from_matches


def import_bindings(text: str, own_name: str, is_package: bool) -> list[ImportBinding]:
    """The import statements of `text` as bindings, read with regular expressions (also
    inside functions and conditions: every one that could run)."""
    plain_matches, from_matches = _import_matches(text)
    if "\r" in text:
        text = _LONE_CR.sub("\n", text)
    found: list[ImportBinding] = []
    for match in plain_matches:
        unindented = _unindented(text, match.start())
        for part in _names(match.group(1)):
            name, _, alias = part.partition(" as ")
            name, alias = _BLANKS.sub("", name), alias.strip()  # `import a . b`
            if not _is_dotted(name):
                continue
            if alias:
                found.append(ImportBinding(alias, name, True, alias, unindented, match.start()))
            else:
                found.append(ImportBinding(name.split(".", 1)[0], name, True, name, unindented, match.start()))
    for match in from_matches:
        source, parenthesized, plain = match.groups()
        base = absolute_name(_BLANKS.sub("", source), own_name, is_package)
        if base is None:
            continue
        unindented = _unindented(text, match.start())
        for part in _names(parenthesized if parenthesized is not None else plain):
            name, _, alias = part.partition(" as ")
            name, alias = name.strip(), alias.strip() or name.strip()
            if name == "*":
                found.append(ImportBinding("*", base, False, "*", unindented, match.start()))
            elif name.isidentifier():
                found.append(ImportBinding(alias, f"{base}.{name}" if base else name, False, alias, unindented, match.start()))
    return found


def _unindented(text: str, start: int) -> bool:
    """The statement matched at `start` begins its line, in the first column."""
    return (start == 0 or text[start - 1] == "\n") and text[start:start + 1] not in (" ", "\t")


def _names(listed: str) -> list[str]:
    listed = re.sub(r"#[^\n]*", "", listed).replace("\\\r\n", " ").replace("\\\n", " ")
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
    """A top-level statement. What it names and binds is worked out when first asked: most
    chunks of a module are never asked (nothing in them reaches). (Its syntax tree is not
    kept.)"""

    segment: str  # its text
    has_word: bool  # an identifier of its code (not of a string or a comment) holds a word
    known_binds: frozenset[str] | None = None  # what it binds, when `ast` told
    code: str = ""  # otherwise: its text with the literals blanked (`_blank_literals`)

    @functools.cached_property
    def names(self) -> frozenset[str]:
        """Every identifier in its text."""
        return frozenset(IDENTIFIER.findall(self.segment))

    @functools.cached_property
    def binds(self) -> frozenset[str]:
        """The names it may bind at module level (over-approximated, see `_text_binds`; never
        a keyword, which the text reading takes for one: `as` in `import a as b`)."""
        if self.known_binds is not None:
            return self.known_binds - _KEYWORDS
        binds, self.code = frozenset(_text_binds(self.code)) - _KEYWORDS, ""  # the code is not needed again
        return binds


@dataclass(frozen=True)
class Reaching:
    """What a module's names reach, as a run found it: its names that reach the words, its
    names bound to a module of the project whose attributes reach (`from . import jobs as
    kit`: "kit" -> the path of jobs.py), and what the modules its names may use made visible
    when they were found (by path; see Reach._exported)."""

    names: frozenset[str]
    inputs: dict[str, frozenset[str]]
    modules: dict[str, str] = field(default_factory=dict)


@dataclass
class _Visible:
    """The names of other modules that reach, as one module's imports make them visible:
    plain names (`run_all` after `from jobs import run_all`) and attributes of a module
    name (`jobs` . `run_all` after `import jobs`; `*` for any attribute)."""

    names: set[str] = field(default_factory=set)
    attributes: dict[str, set[str]] = field(default_factory=dict)
    patterns: list[str] = field(default_factory=list)  # the same, as regular expressions over text (see `pattern`)
    modules: dict[str, _Module] = field(default_factory=dict)  # names bound to a module whose attributes reach
    # The ways the code writes those modules (`jobs`, `shop.jobs` and `shop`), as regular
    # expressions that find one written as a value (see `value_uses`), and their first names.
    values: list[str] = field(default_factory=list)
    value_names: set[str] = field(default_factory=set)

    def pattern(self) -> re.Pattern[str] | None:
        """A regular expression that finds a use of them in text, where a match that does
        not start inside a word is one (`word_matches`); None for none."""
        return re.compile("|".join(dict.fromkeys(self.patterns))) if self.patterns else None

    @functools.cached_property
    def value_uses(self) -> re.Pattern[str] | None:
        """A regular expression that finds one of the modules written with no attribute after
        it, as a value (`runner = jobs`, `runner = shop.jobs`, `runner = shop`): the semantic
        model follows the name it is bound to (`runner.run_all()`), in a function too, so any
        of the module's attributes may be used through it (`used_as_value` leaves out import
        statements). None for none."""
        return re.compile("|".join(dict.fromkeys(self.values))) if self.values else None

    def used_by(self, chunk: _Chunk) -> bool:
        return (bool(self.names) and not self.names.isdisjoint(chunk.names)) or any(
            module in chunk.names and ("*" in attributes or not attributes.isdisjoint(chunk.names))
            for module, attributes in self.attributes.items()) or (
            not self.value_names.isdisjoint(chunk.names)  # (before the pattern: most chunks name none)
            and self.value_uses is not None and used_as_value(self.value_uses, chunk.segment))


@dataclass
class _State:
    names: set[str] = field(default_factory=set)  # the module's names that reach
    modules: dict[str, _Module] = field(default_factory=dict)  # its names bound to a module that reaches
    chunks: list[_Chunk] | None = None  # while its group is settled
    closure: tuple[_Module, ...] | None = None  # the modules it imports, directly or not, and itself (once asked)
    pattern: re.Pattern[str] | None = None  # a use of what its imports make visible (once settled)
    values: re.Pattern[str] | None = None  # and a module among those written as a value (_Visible.value_uses)
    has_word: bool | None = None  # a word is somewhere in its text
    noted_in: Reads | None = None  # the recording its closure was last noted in (`_settled`)


class Reach:
    """The names of `index`'s modules that reach `words` (see the module docstring)."""

    def __init__(self, index: ProjectIndex, words: Iterable[str]) -> None:
        self.index = index
        self.words = tuple(words)
        self.key = " ".join(self.words)  # what the result cache keeps the names under
        self._states: dict[int, _State] = {}  # settled modules only
        self._edge_lists: dict[int, list[_Module]] = {}  # see _edges

    def file_uses(self, path: str | Path, text: str) -> bool:
        """Whether the file at `path` (its text: `text`) uses a name of another module of
        the project that reaches the words. The file's own text is not parsed: a name in a
        string or a comment counts. The answer depends on the modules the file imports,
        directly or not (noted)."""
        module = self.index.module_at(path)
        if module is None:
            return False
        state = self._settled(module)
        if state.pattern is None or state.values is None:
            visible = self._visible(module)
            state.pattern = visible.pattern() or _NOTHING
            state.values = visible.value_uses or _NOTHING
        return _uses(state.pattern, text) or used_as_value(state.values, text)

    def reaches(self, module: _Module, name: str) -> bool:
        """Whether the top-level `name` of `module` reaches the words, or is bound to a
        module whose attributes do (the answer depends on the modules it imports, directly or
        not: noted)."""
        state = self._settled(module)
        return name in state.names or name in state.modules

    def _settled(self, module: _Module) -> _State:
        self._settle(module)
        state = self._states[id(module)]
        if state.closure is None:
            state.closure = self._closure(module)
        recording = last_recording()
        if recording is not None and state.noted_in is not recording:
            # Asked for every name a check looks up: the closure is noted once per recording.
            for member in state.closure:
                self.index.note(member)
            state.noted_in = recording
        return state

    def _closure(self, start: _Module) -> tuple[_Module, ...]:
        """`start` and the modules whose names its own may use, directly or not (`_edges`)."""
        found = {id(start): start}
        pending = [start]
        while pending:
            for other in self._edges(pending.pop()):
                if id(other) not in found:
                    found[id(other)] = other
                    pending.append(other)
        return tuple(found.values())

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
            work.append((module, list(self._edges(module))))

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
        """Find the reaching names of `group`, modules that import one another, once those
        they import are settled: grow each module's names until none grows (`_grow`).

        A module an earlier run settled (ProjectIndex.kept_facts: its text is unchanged)
        starts from the names it found then, and is not read at all while the names of the
        modules it imports are within those it found them with (its inputs): its names
        depend on nothing else, and only grow with them. The result is the same as from
        scratch, or more names where a module it imports lost some since (the prefilter
        over-approximates: a file is then parsed when it need not be); never fewer."""
        states = [_State() for _ in group]
        for module, state in zip(group, states):
            self._states[id(module)] = state
        kept = [self._kept_reaching(module) for module in group]
        for state, found in zip(states, kept):
            if found is not None:
                state.names = set(found.names)
                state.modules = {alias: other for alias, path in found.modules.items()
                                 if (other := self.index.module_at(path)) is not None}
        texts: dict[int, str] = {}
        codes: dict[int, str] = {}  # their code, for those that hold a word or a visible name
        changed = True
        while changed:
            changed = False
            for module, state, found in zip(group, states, kept):
                if found is not None and self._within(module, found.inputs):
                    continue
                if id(module) not in texts:
                    texts[id(module)] = self.index.text_of(module) or ""
                changed |= self._grow(module, state, texts[id(module)], codes)
        for module, state in zip(group, states):
            state.chunks = None  # settled: the text of its statements is not read again
            if self.index.keeps_facts:
                modules = {alias: other.key for alias, other in state.modules.items()}
                reaching = Reaching(frozenset(state.names), self._inputs(module), modules)
                self.index.keep_reaching(module, self.key, reaching)

    def _kept_reaching(self, module: _Module) -> Reaching | None:
        facts = self.index.kept_facts(module)
        return None if facts is None else facts.reaching.get(self.key)

    def _inputs(self, module: _Module) -> dict[str, frozenset[str]]:
        """The reaching names of the modules `module` imports (settled), by path; none for
        those without."""
        inputs = {}
        for imported in self._edges(module):
            names = self._exported(imported)
            if names:
                inputs[imported.key] = names
        return inputs

    def _exported(self, module: _Module) -> frozenset[str]:
        """What a settled module makes visible: its names that reach, and `alias=path` for
        each name bound to a module that does."""
        state = self._states[id(module)]
        return frozenset(state.names) | {f"{alias}={other.key}" for alias, other in state.modules.items()}

    def _within(self, module: _Module, inputs: dict[str, frozenset[str]]) -> bool:
        """Whether the modules `module` imports reach no names beyond `inputs`."""
        for imported in self._edges(module):
            names = self._exported(imported)
            if names and not names <= inputs.get(imported.key, frozenset()):
                return False
        return True

    def _grow(self, module: _Module, state: _State, text: str, codes: dict[int, str]) -> bool:
        visible = self._visible(module)
        bound = not visible.modules.keys() <= state.modules.keys()
        state.modules.update(visible.modules)
        if state.chunks is None:
            # Parsed only when a word, or a name it imports that reaches, is in its code: looked
            # for in the text first, then in the text without its comments and strings.
            if state.has_word is None:
                state.has_word = any(word in text for word in self.words) and \
                    any(word in _code(module, text, codes) for word in self.words)
            uses = visible.pattern()
            if not state.has_word and not (uses and _uses(uses, text) and _uses(uses, _code(module, text, codes))) \
                    and not (any(name in text for name in visible.value_names)  # (before compiling the pattern)
                             and visible.value_uses and used_as_value(visible.value_uses, text)):
                return bound
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
        return bound or len(state.names) != before

    def _edges(self, module: _Module) -> list[_Module]:
        """The modules whose reaching names `module`'s names may use: those it imports, and
        the packages it binds with the submodules it names as their attributes
        (ProjectIndex.bound_packages)."""
        found = self._edge_lists.get(id(module))
        if found is None:
            edges = {id(other): other for other in (*self.index.imported(module), *self.index.bound_packages(module))}
            edges.pop(id(module), None)
            found = self._edge_lists[id(module)] = list(edges.values())
        return found

    def _parts(self, target: _Module, among: list[_Module] | None = None,
               aliases: bool = True) -> list[tuple[str, set[str]]]:
        """The reaching names of the module `target` (`("", names)`); for a package, those of
        each module beneath it (`among` them, when given), with the way there (`("sub.jobs",
        names)`); and those of the modules its names are bound to (`("kit", names)` for
        `from . import jobs as kit`)."""
        state = self._states.get(id(target))
        if state is None:
            return []
        parts = [("", state.names)]
        if target.path.name == "__init__.py":
            prefix = target.name + "."
            for beneath in self.index.beneath(target) if among is None else among:
                below = self._states.get(id(beneath)) if beneath.name.startswith(prefix) else None
                if below is not None and below.names:
                    parts.append((beneath.name[len(target.name) + 1:], below.names))
        if aliases:
            for alias, other in state.modules.items():
                parts += [(".".join(filter(None, (alias, way))), names)
                          for way, names in self._parts(other, aliases=False)]
        return parts

    def _visible(self, module: _Module) -> _Visible:
        """The reaching names of other modules that `module`'s imports make visible."""
        visible = _Visible()
        named = self._edges(module)  # the submodules its text names among them
        for binding in self.index.bindings(module):
            if binding.module_import and binding.written == binding.target and "." in binding.target:
                # `import shop.config` binds `shop`, whose submodules are its attributes.
                package = self.index.find(module.root, binding.local)
                if package is not None and package is not module and package.name == binding.local:
                    self._see_module(visible, binding.local, binding.local, package, named)
            target = self.index.find(module.root, binding.target)
            if target is None or target is module:
                continue
            if binding.local == "*":
                for way, names in self._parts(target, named):
                    if way:  # a submodule the package imported, or a module bound to a name
                        _see_names(visible, way.split(".", 1)[0], way, names)
                    else:
                        visible.names |= names
                        visible.patterns.extend(rf"{re.escape(name)}\b" for name in names)
                continue
            if target.name == binding.target:  # the binding names the module itself
                self._see_module(visible, binding.local, binding.written, target, named)
                continue
            state = self._states.get(id(target))
            name = binding.target.rsplit(".", 1)[-1]
            if state is not None and name in state.modules:  # a module bound to a name there
                self._see_module(visible, binding.local, binding.local, state.modules[name])
            names = state.names if state is not None else set()
            if name in names or _WILDCARD in names:
                visible.names.add(binding.local)
                visible.patterns.append(rf"{re.escape(binding.local)}\b")
        return visible

    def _see_module(self, visible: _Visible, local: str, written: str, target: _Module,
                    among: list[_Module] | None = None) -> None:
        """Make what reaches of the module `target` visible through the name `local`, which
        the code writes `written` (`import a.b` refers to the module `a.b` as `a.b`, and binds
        `a` to another); of the modules beneath it, those `among`, when given."""
        parts = [(way, names) for way, names in self._parts(target, among) if names]
        if parts and written == local:
            visible.modules[local] = target
        for way, names in parts:
            _see_names(visible, local, ".".join(filter(None, (written, way))), names)


def _see_names(visible: _Visible, local: str, written: str, names: set[str]) -> None:
    """Make the reaching `names` of a module visible as attributes of the name `local`, the
    module being written `written` in the code (`shop.jobs` is the submodule `jobs` of the
    package `shop` bound to `shop`)."""
    if not names:
        return
    attributes = {"*"} if _WILDCARD in names else names
    visible.attributes.setdefault(local, set()).update(attributes)
    pattern = r"\s*\.\s*".join(map(re.escape, written.split(".")))
    # Any attribute, for a long list: the regular expression costs more to compile than the
    # list saves (a module of multiprocessing has 60 names that reach).
    listed = r"\w+" if "*" in attributes or len(attributes) > _LISTED else "|".join(map(re.escape, sorted(attributes)))
    visible.patterns.append(rf"{pattern}\s*\.\s*(?:{listed})\b")
    parts = written.split(".")
    visible.value_names.add(parts[0])
    visible.values.extend(r"\s*\.\s*".join(map(re.escape, parts[:length])) + r"\b(?!\s*\.)"
                          for length in range(1, len(parts) + 1))


def word_matches(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """The matches of `pattern` in `text` that do not start inside a word, left to right and
    not overlapping: those `\\b` put before a pattern whose every match starts with a word
    character would leave. Without that `\\b` the regular expression engine can skip ahead
    to the pattern's first characters, which makes searching the stdlib's texts for a
    module's names twice as fast."""
    position = 0
    while (match := pattern.search(text, position)) is not None:
        start = match.start()
        if start and _WORD_CHARACTER.match(text, start - 1):
            position = start + 1
            continue
        yield match
        position = max(match.end(), start + 1)


def _uses(pattern: re.Pattern[str], text: str) -> bool:
    return next(word_matches(pattern, text), None) is not None


def used_as_value(pattern: re.Pattern[str], text: str) -> bool:
    """Whether `pattern` (_Visible.value_uses) finds a module written as a value in the code
    of `text`: a match that does not start inside a word, nor after a dot (an attribute of
    something else), nor inside an import statement (which binds the module, and uses none
    of it). Read in `code_text(text)`, where neither a name nor an import statement can be
    read in a comment or a string (an import statement in a docstring would run on to the
    next `)`), once the text itself has such a match outside its one-line imports."""
    return _written_as_value(pattern, text, one_line_imports=True) and \
        _written_as_value(pattern, code_text(text))


def _written_as_value(pattern: re.Pattern[str], text: str, one_line_imports: bool = False) -> bool:
    """`used_as_value`'s test in `text`; with `one_line_imports`, only import statements on
    one line with no quote or `#` before their end on it are left out: another may have
    begun in a comment or a string, and cover code."""
    spans: list[tuple[int, int]] | None = None
    for match in word_matches(pattern, text):
        start = match.start()
        if start and text[start - 1] == ".":
            continue
        if spans is None:
            spans = [statement.span() for statements in _import_matches(text) for statement in statements]
            if one_line_imports:
                spans = [(begin, end) for begin, end in spans if "\n" not in text[begin:end] and not any(
                    mark in text[text.rfind("\n", 0, begin) + 1:end] for mark in "'\"#")]
        if not any(begin <= start < end for begin, end in spans):
            return True
    return False


_NOTHING = re.compile("(?!)")


def _code(module: _Module, text: str, codes: dict[int, str]) -> str:
    """`code_text(text)` of `module`, kept in `codes` while its group is settled."""
    code = codes.get(id(module))
    if code is None:
        code = codes[id(module)] = code_text(text)
    return code


# A comment, or a string literal with its prefix (group 1, "" for none; None for a comment),
# the triple-quoted ones first. The loops are unrolled and the lookahead lets the engine skip
# to a character that can start one (on the stdlib, 0.32 s instead of 0.54 s for the lazy
# `(?:\\[\s\S]|[^\\])*?` form, with the same matches). A prefix
# follows no letter (`if"x"` holds no f-string).
_COMMENT_OR_STRING = re.compile(
    r"(?=[#'\"rRbBuUfF])(?:#[^\n]*"
    r"|((?:(?<!\w)[rRbBuUfF]{1,2})?)(?:'''[^'\\]*(?:(?:\\[\s\S]|'(?!''))[^'\\]*)*'''"
    r'|"""[^"\\]*(?:(?:\\[\s\S]|"(?!""))[^"\\]*)*"""'
    r"|'[^'\\\n]*(?:\\[\s\S][^'\\\n]*)*'"
    r'|"[^"\\\n]*(?:\\[\s\S][^"\\\n]*)*"))')


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
    """The top-level statements of `text`, with the names each binds and uses: read from
    the text (`_chunks_by_text`), or with CPython's `ast` where the text reading is unsure;
    the whole text as one chunk binding and using every identifier in it when CPython cannot
    parse it."""
    chunks = _chunks_by_text(text, words)
    return chunks if chunks is not None else _chunks_by_ast(text, words)


def _chunks_by_ast(text: str, words: tuple[str, ...]) -> list[_Chunk]:
    tree = cpython_tree(text)
    if tree is None:
        return [_Chunk(text, any(word in text for word in words), frozenset(IDENTIFIER.findall(text)))]
    lines = source_lines(text)
    chunks = []
    for statement in tree.body:
        first = min([statement.lineno, *(d.lineno for d in getattr(statement, "decorator_list", ()))])
        segment = "".join(lines[first - 1:statement.end_lineno])
        has_word = any(word in segment for word in words) and \
            any(word in name for name in _code_names(statement) for word in words)
        chunks.append(_Chunk(segment, has_word, frozenset(_bound(statement))))
    return chunks


# A line that starts in the first column (a top-level statement, once brackets are closed).
_LINE_START = re.compile(r"^[^ \t\n]", re.MULTILINE)
_CONTINUATION = re.compile(r"(?:else|elif|except|finally)\b")  # clauses of the statement above
_HEADER = re.compile(r"(?:async[ \t]+)?(?:def|class)[ \t]+([^\W\d]\w*)")
_NOT_NEWLINE = re.compile(r"[^\n]")
_BRACKETS = str.maketrans("[{]}", "(())")
# Where a name may be bound, each over-approximated: the names after `def`/`class`, after
# `as` (one, or a bracketed list), after `import` (all of them: `a.b`, the alias, `*`), between
# `for` and `in`, before `:=`, and in the targets of an assignment or an annotation.
_DEFINED = re.compile(rf"\b{_HEADER.pattern}")  # a definition anywhere, nested ones too
_AS = re.compile(r"\bas[ \t]*(?:[(\[]([^)\]]*)|([^\W\d]\w*))")
_IMPORTED = re.compile(r"\bimport\b[ \t]*(\([^)]*\)|[^\n;\\]*(?:\\[\s\S][^\n;\\]*)*)")
_FOR_TARGETS = re.compile(r"\bfor\b([\s\S]*?)\bin\b")
_WALRUS = re.compile(r"([^\W\d]\w*)[ \t]*:=")
_ANNOTATED = re.compile(r"^[ \t]*([^\W\d]\w*)[ \t]*:(?!=)", re.MULTILINE)
_CASE = re.compile(r"^[ \t]*case\b([^\n]*)", re.MULTILINE)
# `=` and the augmented assignments, not `==`, `!=`, `<=`, `>=` or `:=`.
_ASSIGNMENT = re.compile(r"(?<![=!<>:])(?://|\*\*|<<|>>|[-+*/%&|^@])?=(?!=)")
_TARGET_NAME = re.compile(r"(?<![.\w])[^\W\d]\w*")


def _chunks_by_text(text: str, words: tuple[str, ...]) -> list[_Chunk] | None:
    """`_chunks` from the text alone (`top_level_statements`), four to five times faster
    than `ast` on the stdlib. What a chunk binds and whether its code holds a word
    over-approximate `ast`'s answers (tests/test_reach_chunks.py compares them on the
    standard library). None when the reading is unsure."""
    found = top_level_statements(text)
    if found is None:
        return None
    bare, starts, headers = found
    chunks = []
    for number, start in enumerate(starts):
        end = starts[number + 1] if number + 1 < len(starts) else len(text)
        segment, code = text[start:end], bare[start:end]
        has_word = any(word in segment for word in words) and (
            any(word in code for word in words) or _F_STRING.search(segment) is not None)
        header = _HEADER.search(code) if headers[number] else None
        chunks.append(_Chunk(segment, has_word, frozenset((header.group(1),)) if header else None, code))
    return chunks


def top_level_statements(text: str) -> tuple[str, list[int], list[bool]] | None:
    """Where each top-level statement of `text` starts, read from the text alone: at a line
    that starts in the first column, outside brackets, strings and comments and after no
    backslash (`else:`, `except`, `finally:` and what follows a decorator continue the
    statement above); with whether each is one `def` or `class` (with its decorators), and
    `text` with its literals blanked (`_blank_literals`). None when the reading is unsure: a
    carriage return or a form feed, an f-string whose braces do not pair up (a 3.12 field
    holding the same quotes), unbalanced brackets."""
    if "\r" in text or "\f" in text or "\v" in text:
        return None
    bare = _blank_literals(text)
    if bare is None:
        return None
    starts: list[int] = []
    headers: list[bool] = []
    brackets = bare.translate(_BRACKETS)  # each opening one a "(", each closing one a ")"
    depth, counted, waiting = 0, 0, False  # waiting: for the def or class a decorator is on
    for match in _LINE_START.finditer(bare):
        start = match.start()
        depth += brackets.count("(", counted, start) - brackets.count(")", counted, start)
        counted = start
        if depth != 0 or bare.startswith("\\\n", start - 2):
            continue
        if starts and (waiting or _CONTINUATION.match(bare, start)):
            if waiting and _HEADER.match(bare, start):
                waiting, headers[-1] = False, True
            elif not waiting:
                headers[-1] = False  # `else:` after a def is not Python: read it generically
            continue
        starts.append(start)
        waiting = bare[start] == "@"
        headers.append(not waiting and _HEADER.match(bare, start) is not None)
    if depth + brackets.count("(", counted) - brackets.count(")", counted) != 0:
        return None
    return bare, starts, headers


def not_run_at_import(text: str) -> list[tuple[int, int]] | None:
    """The spans (start, end offsets) of `text` whose code does not run while the module is
    imported, read from the text alone: each `def` statement at any depth (a function, a
    method, a nested function: its body runs only when it is called), and the body of an
    `if __name__ == "__main__":` in the first column (a spawned child imports the main
    module as `__mp_main__`). A span runs from the start of its line to the next line
    outside brackets that is indented no deeper (its `else:` is not in it). None when the
    reading is unsure: `top_level_statements`' reasons, or an indentation with a tab."""
    if "\r" in text or "\f" in text or "\v" in text:
        return None
    bare = _blank_literals(text)
    if bare is None:
        return None
    brackets = bare.translate(_BRACKETS)
    spans: list[tuple[int, int]] = []
    open_: list[tuple[int, int]] = []  # (indentation, start) of the spans not closed yet
    depth, counted, position = 0, 0, 0
    for line in bare.split("\n"):
        start, position = position, position + len(line) + 1
        depth += brackets.count("(", counted, start) - brackets.count(")", counted, start)
        counted = start
        code = line.lstrip(" ")
        if depth != 0 or not code.strip() or bare.startswith("\\\n", start - 2):
            continue  # inside brackets, blank (or a string's inner line), or continued
        if code.startswith("\t"):  # (what lstrip left of the indentation)
            return None
        indentation = len(line) - len(code)
        while open_ and indentation <= open_[-1][0]:
            spans.append((open_.pop()[1], start))
        if _DEF.match(code) or (indentation == 0 and _MAIN_GUARD.match(text, start)):
            open_.append((indentation, start))
    if depth + brackets.count("(", counted) - brackets.count(")", counted) != 0:
        return None
    spans.extend((start, len(text)) for _, start in open_)
    return spans


_DEF = re.compile(r"(?:async[ \t]+)?def\b")
_MAIN_GUARD = re.compile(r"""if[ \t]+(?:__name__[ \t]*==[ \t]*(["'])__main__\1|(["'])__main__\2[ \t]*==[ \t]*__name__)[ \t]*:""")


_F_STRING = re.compile(r"[fF][rR]?['\"]|[rR][fF]['\"]")


def _blank_literals(text: str) -> str | None:
    """`text` with every comment and string literal (f-strings too) replaced by spaces (a
    string by a quote and spaces), its newlines kept (positions stay those of `text`); None when an f-string's braces do not
    pair up (code_text)."""
    unsure = []

    def blank(match: re.Match[str]) -> str:
        literal = match.group(0)
        prefix = match.group(1)
        if prefix and "f" in prefix.lower() and literal.count("{") != literal.count("}"):
            unsure.append(literal)
        if prefix is None:  # a comment
            return " " * len(literal)
        # A string keeps a quote where it starts: a statement may start with it (a docstring).
        return '"' + (" " * (len(literal) - 1) if "\n" not in literal else _NOT_NEWLINE.sub(" ", literal[1:]))

    bare = _COMMENT_OR_STRING.sub(blank, text)
    return None if unsure else bare


def _text_binds(code: str) -> set[str]:
    """The names a statement's code (its literals blanked) may bind (see `_DEFINED`)."""
    names = set(_DEFINED.findall(code))
    for bracketed, single in _AS.findall(code):
        names.update(IDENTIFIER.findall(bracketed) if bracketed else (single,))
    for imported in _IMPORTED.findall(code):
        names.update(IDENTIFIER.findall(imported))
        if imported.lstrip("( \t").startswith("*"):
            names.add("*")
    for targets in _FOR_TARGETS.findall(code):
        names.update(IDENTIFIER.findall(targets))
    names.update(_WALRUS.findall(code))
    names.update(_ANNOTATED.findall(code))
    for pattern in _CASE.findall(code):
        names.update(IDENTIFIER.findall(pattern))
    brackets = code.translate(_BRACKETS)
    line_start, targets = -1, ""
    counted, depth = 0, 0  # the depth of brackets at `counted`, a line's start
    for match in _ASSIGNMENT.finditer(code):
        start = code.rfind("\n", 0, match.start()) + 1
        depth += brackets.count("(", counted, start) - brackets.count(")", counted, start)
        counted = start
        inside = depth + brackets.count("(", start, match.start()) - brackets.count(")", start, match.start())
        if inside > 0:
            continue  # a keyword argument or a default
        if depth > 0:  # the target began on a line above (`(a,\n b) = pair`): anything may be bound
            return set(IDENTIFIER.findall(code))
        if start != line_start:
            names.update(_TARGET_NAME.findall(targets))
        line_start, targets = start, code[start:match.start()]
    names.update(_TARGET_NAME.findall(targets))
    return names


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
