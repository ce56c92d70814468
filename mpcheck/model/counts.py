"""How many: where a loop's number of passes comes from, and the most a worker count can be.

- `trip_count(loop)`: a For, While or comprehension node -> `Count`: a small CONSTANT
  (`range(4)`, a tuple of three paths), a WORKERS setting (`os.cpu_count()`, a `n_workers`,
  `args.jobs`, `devices` name), DATA (a list, dict, directory listing, file, query result,
  `range(len(items))`, an argument of the function), or UNKNOWN (a `while` loop, `range(n)` of
  an integer nothing tells about). What is iterated is followed through names
  (`videos = sorted(folder.glob("*.mp4"))`), comprehensions, `enumerate`/`zip`/`sorted`/
  `tqdm`, `.items()` and the like; data split into a number of parts
  (`np.array_split(frames, n_workers)`) has that many.
- `upper_bound(expr)`: the most an integer expression (a pool's size) can be, `math.inf`
  for a CPU count taken as it is (`os.cpu_count()`, `cpu_count() - 1`, `n or cpu_count()`),
  through `min`/`max`, arithmetic, `or`, conditional expressions, the names' reaching
  assignments and a parameter's default; `DEFAULT` where it may be None (the pool's default
  size); None where nothing tells. Given a platform, only the code that runs there counts
  (`min(n, 61) if sys.platform == "win32" else n` is at most 61 on Windows).

Both read only the file (the model's bindings); neither runs code.
"""

from __future__ import annotations

import enum
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from .. import apis
from .names import UNKNOWN, argument, dotted_name_of
from .scopes import Condition, Kind

if TYPE_CHECKING:
    from . import SemanticModel

# A constant number of passes above this is not "small" (issue 9: a literal <= 64).
SMALL_CONSTANT = 64
_DEPTH = 12

# Words that make a name a worker-count setting (`n_workers`, `args.jobs`, `num_gpus`,
# `world_size`, `devices`): the name's parts split at underscores and case changes.
_WORKER_WORDS = frozenset({
    "worker", "workers", "nworkers", "job", "jobs", "njobs", "proc", "procs", "nproc", "nprocs", "process",
    "processes", "nprocesses", "parallel", "parallelism", "concurrency", "cpu", "cpus", "ncpu", "ncpus", "core",
    "cores", "gpu", "gpus", "ngpu", "ngpus", "device", "devices", "world", "rank", "ranks", "thread", "threads",
    "node", "nodes", "replica", "replicas", "shard_count", "pool",
})
# Calls whose result is data read from outside (files, directories, queries, the network).
_DATA_SOURCES = frozenset({
    "os.listdir", "os.scandir", "os.walk", "glob.glob", "glob.iglob", "open", "io.open", "json.load",
    "json.loads", "csv.reader", "csv.DictReader", "pathlib.Path.glob", "pathlib.Path.rglob",
    "pathlib.Path.iterdir", "sys.stdin", "input",
})
# Methods whose result has as many items as the object they are called on, or comes from it.
_DATA_METHODS = frozenset({
    "glob", "rglob", "iterdir", "items", "keys", "values", "readlines", "splitlines", "split", "fetchall",
    "fetchmany", "all", "iterrows", "itertuples", "read_text", "find_all", "findall", "copy",
})
# Calls that split their input into as many parts as one of their arguments says, or fewer
# (`np.array_split(frames, n_workers)`: one part per worker): the argument's position and
# keywords. numpy's and torch's `indices_or_sections` may also be a list of indices, which
# makes one part more than it holds. (`torch.split(t, size)` gives parts of a size: as many
# as the data makes.) From numpy's, torch's and more-itertools' reference documentation.
_PARTS = {
    "numpy.array_split": (1, ("indices_or_sections",)),
    "numpy.split": (1, ("indices_or_sections",)),
    "numpy.hsplit": (1, ("indices_or_sections",)),
    "numpy.vsplit": (1, ("indices_or_sections",)),
    "numpy.dsplit": (1, ("indices_or_sections",)),
    "torch.chunk": (1, ("chunks",)),
    "torch.tensor_split": (1, ("indices_or_sections", "sections", "indices")),
    "more_itertools.divide": (0, ("n",)),
    "more_itertools.distribute": (0, ("n",)),
}
# Calls that give back as many items as their first argument (or fewer).
_SAME_LENGTH = frozenset({
    "enumerate", "sorted", "list", "tuple", "reversed", "set", "frozenset", "iter", "tqdm.tqdm", "filter",
    "dict", "itertools.islice", "more_itertools.chunked",
})


class CountKind(enum.Enum):
    CONSTANT = "constant"
    WORKERS = "workers"
    DATA = "data"
    UNKNOWN = "unknown"


# How two counts combine when either may decide (the largest wins: data over unknown over a
# worker count over a constant).
_RANK = {CountKind.CONSTANT: 0, CountKind.WORKERS: 1, CountKind.UNKNOWN: 2, CountKind.DATA: 3}


@dataclass(frozen=True)
class Count:
    """How many passes a loop makes, or items an iterable has. `source`: what it comes from,
    for a message ("range(4)", "os.listdir()", "the argument `videos`"). `value`: the number,
    for a CONSTANT."""

    kind: CountKind
    source: str
    value: int | None = None

    @property
    def is_small(self) -> bool:
        """A constant of at most SMALL_CONSTANT, or a worker-count setting."""
        return self.kind is CountKind.WORKERS or (self.kind is CountKind.CONSTANT and self.value is not None
                                                  and self.value <= SMALL_CONSTANT)

    @property
    def from_data(self) -> bool:
        """The count grows with the input: DATA, or a constant too large to be a setting."""
        return self.kind is CountKind.DATA or (self.kind is CountKind.CONSTANT and not self.is_small)


def _larger(first: Count, second: Count) -> Count:
    if first.kind is CountKind.CONSTANT and second.kind is CountKind.CONSTANT:
        return first if (first.value or 0) >= (second.value or 0) else second
    return first if _RANK[first.kind] >= _RANK[second.kind] else second


def _smaller(first: Count, second: Count) -> Count:
    if first.kind is CountKind.CONSTANT and second.kind is CountKind.CONSTANT:
        return first if (first.value or 0) <= (second.value or 0) else second
    if first.is_small or second.is_small:
        return first if first.is_small and (not second.is_small or _RANK[first.kind] <= _RANK[second.kind]) else second
    return first if _RANK[first.kind] <= _RANK[second.kind] else second


def is_worker_name(name: str) -> bool:
    """True for names of worker-count settings: `n_workers`, `numProcesses`, `world_size`."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
    parts = [part for part in spaced.split("_") if part]
    return any(part in _WORKER_WORDS or part.rstrip("s") in _WORKER_WORDS for part in parts) or \
        "shard_count" in spaced


def trip_count(model: SemanticModel, loop: cst.CSTNode) -> Count:
    """How many passes `loop` (a For, While or comprehension node) makes."""
    if isinstance(loop, cst.For):
        return size_of(model, loop.iter)
    if isinstance(loop, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
        count: Count | None = None
        for_in: cst.CompFor | None = loop.for_in
        while for_in is not None:
            size = size_of(model, for_in.iter)
            count = size if count is None else _product(count, size)
            for_in = for_in.inner_for_in
        assert count is not None
        return count
    return Count(CountKind.UNKNOWN, "a `while` loop")


def _product(first: Count, second: Count) -> Count:
    if first.kind is CountKind.CONSTANT and second.kind is CountKind.CONSTANT and \
            first.value is not None and second.value is not None:
        return Count(CountKind.CONSTANT, f"{first.source} × {second.source}", first.value * second.value)
    return _larger(first, second)


def size_of(model: SemanticModel, iterable: cst.BaseExpression | None, depth: int = 0) -> Count:
    """How many items iterating `iterable` gives (see the module docstring)."""
    if iterable is None or depth > _DEPTH:
        return Count(CountKind.UNKNOWN, "an iterable")
    text = _short(model, iterable)
    if isinstance(iterable, (cst.List, cst.Tuple, cst.Set)):
        if any(isinstance(element, cst.StarredElement) for element in iterable.elements):
            return Count(CountKind.DATA, text)
        return Count(CountKind.CONSTANT, text, len(iterable.elements))
    if isinstance(iterable, cst.Dict):
        return Count(CountKind.CONSTANT, text, len(iterable.elements))
    if isinstance(iterable, (cst.SimpleString, cst.ConcatenatedString)):
        value = model.value_of(iterable)
        return Count(CountKind.CONSTANT, text, len(value)) if isinstance(value, str) else Count(CountKind.DATA, text)
    if isinstance(iterable, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
        return trip_count(model, iterable)
    if isinstance(iterable, cst.Call):
        return _size_of_call(model, iterable, text, depth)
    if isinstance(iterable, cst.Name):
        return _size_of_name(model, iterable, text, depth)
    if isinstance(iterable, cst.Attribute):
        if is_worker_name(iterable.attr.value):
            return Count(CountKind.WORKERS, text)
        symbol = model.resolve(iterable)
        if symbol is not None and symbol.qualname == "sys.argv":
            return Count(CountKind.DATA, "the command line")
        return Count(CountKind.DATA, f"`{text}`")
    if isinstance(iterable, cst.Subscript):
        return Count(CountKind.DATA, f"`{text}`")
    if isinstance(iterable, cst.BinaryOperation):  # `first + rest`, `items * 2`
        return _larger(size_of(model, iterable.left, depth + 1), size_of(model, iterable.right, depth + 1))
    return Count(CountKind.UNKNOWN, f"`{text}`")


def _size_of_name(model: SemanticModel, name: cst.Name, text: str, depth: int) -> Count:
    reference = model.reference(name)
    if reference is None or not reference.bindings:
        return Count(CountKind.WORKERS if is_worker_name(name.value) else CountKind.UNKNOWN, f"`{text}`")
    found: Count | None = None
    for binding in reference.bindings:
        if binding.kind is Kind.PARAMETER:  # `devices`, `ranks`: one per worker; else the caller's data
            count = Count(CountKind.WORKERS, f"`{name.value}`") if is_worker_name(name.value) else \
                Count(CountKind.DATA, f"the argument `{name.value}`")
        elif binding.kind in (Kind.CLASS, Kind.IMPORT) and _names_a_class(model, binding):
            count = Count(CountKind.UNKNOWN, f"the members of `{name.value}`")  # an Enum: a fixed set
        elif binding.kind in (Kind.ASSIGN, Kind.WITH) and binding.value is not None:
            count = size_of(model, binding.value, depth + 1)
            if count.kind is CountKind.DATA and not count.source.startswith(("the ", "`")):
                count = Count(CountKind.DATA, f"`{name.value}` ({count.source})")
        elif binding.kind is Kind.AUGMENT:  # `paths += more`
            count = Count(CountKind.DATA, f"`{name.value}`")
        else:  # a loop variable, an import, an unpacked value: whatever the data holds
            count = Count(CountKind.DATA, f"`{name.value}`")
        found = count if found is None else _larger(found, count)
    assert found is not None
    if _appended_in_a_loop(model, name):
        return Count(CountKind.DATA, f"`{name.value}`")
    return found


def _names_a_class(model: SemanticModel, binding) -> bool:
    """A class of this file, or an imported CapWords name (iterating it: an Enum's members)."""
    if binding.kind is Kind.CLASS:
        return True
    name = binding.name
    return name[:1].isupper() and not name.isupper() and "_" not in name


def _appended_in_a_loop(model: SemanticModel, name: cst.Name) -> bool:
    """`items = []` filled by `items.append(...)` in a loop: as long as that loop."""
    reference = model.reference(name)
    if reference is None:
        return False
    for binding in reference.bindings:
        for other in binding.references:
            attribute = model.objects.attribute_of(other.node)
            if attribute is not None and attribute.attr.value in ("append", "extend", "update", "add") and \
                    any(True for _ in other.site.loops()):
                return True
    return False


def _callee(model: SemanticModel, call: cst.Call) -> str:
    """The qualified name of what `call` calls; a name the file never binds is the builtin of
    that name (a star import is not followed for it: `range` stays `range`)."""
    function = call.func
    if isinstance(function, cst.Name):
        reference = model.reference(function)
        if reference is not None and not reference.bindings and reference.owner is None:
            return function.value
    symbol = model.resolve(function)
    return symbol.qualname if symbol is not None else dotted_name_of(function) or ""


def _size_of_call(model: SemanticModel, call: cst.Call, text: str, depth: int) -> Count:
    qualname = _callee(model, call)
    if qualname == "range":
        return _range_count(model, call, text, depth)
    if qualname in ("zip", "map", "itertools.starmap"):
        given = [arg.value for arg in call.args if arg.keyword is None][1 if qualname != "zip" else 0:]
        counts = [size_of(model, value, depth + 1) for value in given]
        if not counts:
            return Count(CountKind.UNKNOWN, text)
        found = counts[0]
        for count in counts[1:]:
            found = _smaller(found, count)
        return found
    if qualname in _SAME_LENGTH and call.args:
        return size_of(model, call.args[0].value, depth + 1)
    if qualname in _PARTS:
        return _parts_count(model, call, qualname, text, depth)
    if qualname in _DATA_SOURCES or qualname.rsplit(".", 1)[-1] in ("listdir", "glob", "walk", "scandir"):
        return Count(CountKind.DATA, f"{qualname.rsplit('.', 1)[-1] if '.' not in qualname else qualname}()")
    if isinstance(call.func, cst.Attribute) and call.func.attr.value in _DATA_METHODS:
        inner = size_of(model, call.func.value, depth + 1)
        return inner if inner.kind is not CountKind.UNKNOWN else Count(CountKind.DATA, text)
    if apis.lookup(qualname) is not None or qualname in apis.CPU_COUNTS:
        return Count(CountKind.UNKNOWN, text)
    # The result of any other call (a query, a loader, the project's own function): data,
    # unless the function is named for workers (`workers_config()`, `get_devices()`).
    name = call.func.attr.value if isinstance(call.func, cst.Attribute) else \
        call.func.value if isinstance(call.func, cst.Name) else ""
    if is_worker_name(name):
        return Count(CountKind.WORKERS, f"`{_short(model, call.func)}()`")
    return Count(CountKind.DATA, f"the result of `{_short(model, call.func)}()`")


def _parts_count(model: SemanticModel, call: cst.Call, qualname: str, text: str, depth: int) -> Count:
    """How many parts a call of `_PARTS` makes: as many as its argument says (a list of
    indices: one more than it holds); data where that argument cannot be found."""
    position, keywords = _PARTS[qualname]
    parts = next((found for keyword in keywords if (found := argument(call, None, keyword)) is not None),
                 None) or argument(call, position)
    if parts is None:
        return Count(CountKind.DATA, f"the result of `{_short(model, call.func)}()`")
    if isinstance(parts, (cst.List, cst.Tuple)):
        indices = size_of(model, parts, depth + 1)
        return Count(indices.kind, text, None if indices.value is None else indices.value + 1)
    count = number_of(model, parts, depth + 1)
    return Count(count.kind, text if count.kind is not CountKind.DATA else f"{text} ({count.source})", count.value)


def _range_count(model: SemanticModel, call: cst.Call, text: str, depth: int) -> Count:
    positional = [arg.value for arg in call.args if arg.keyword is None and not arg.star]
    if not positional or len(positional) != len(call.args):
        return Count(CountKind.UNKNOWN, text)
    stop = positional[0] if len(positional) == 1 else positional[1]
    start = model.value_of(positional[0]) if len(positional) > 1 else 0
    count = number_of(model, stop, depth + 1)
    if count.kind is CountKind.CONSTANT and count.value is not None:
        step = model.value_of(positional[2]) if len(positional) > 2 else 1
        if isinstance(start, int) and start is not UNKNOWN and isinstance(step, int) and step:
            return Count(CountKind.CONSTANT, text, len(range(start, count.value, step)))
        return Count(CountKind.UNKNOWN, text)
    return Count(count.kind, text if count.kind is not CountKind.DATA else f"{text} ({count.source})")


def number_of(model: SemanticModel, expr: cst.BaseExpression | None, depth: int = 0) -> Count:
    """Where the integer `expr` (a count: `range`'s stop, a pool's size) comes from: a CONSTANT
    (with its value), a WORKERS setting, DATA (`len(items)`), or UNKNOWN."""
    if expr is None or depth > _DEPTH:
        return Count(CountKind.UNKNOWN, "a number")
    text = _short(model, expr)
    value = model.value_of(expr)
    if isinstance(value, int) and not isinstance(value, bool) and value is not UNKNOWN:
        return Count(CountKind.CONSTANT, text, value)
    if isinstance(expr, cst.Call):
        qualname = _callee(model, expr)
        if qualname in apis.CPU_COUNTS or _is_affinity_count(model, expr):
            return Count(CountKind.WORKERS, text)
        if qualname == "len" and expr.args:
            inner = size_of(model, expr.args[0].value, depth + 1)
            return inner if inner.kind is not CountKind.UNKNOWN else Count(CountKind.DATA, text)
        if qualname in ("min", "max") and expr.args:
            counts = [number_of(model, arg.value, depth + 1) for arg in expr.args if arg.keyword is None]
            found = counts[0]
            for count in counts[1:]:
                found = _smaller(found, count) if qualname == "min" else _larger(found, count)
            return found
        if qualname in ("int", "round", "abs", "math.ceil", "math.floor") and expr.args:
            return number_of(model, expr.args[0].value, depth + 1)
        return Count(CountKind.UNKNOWN, text)
    if isinstance(expr, cst.BinaryOperation):
        left = number_of(model, expr.left, depth + 1)
        right = number_of(model, expr.right, depth + 1)
        if isinstance(expr.operator, (cst.Divide, cst.FloorDivide, cst.Subtract, cst.Modulo, cst.RightShift)):
            return left if right.kind is CountKind.CONSTANT else _larger(left, right)
        return _larger(left, right)
    if isinstance(expr, cst.BooleanOperation):
        return _larger(number_of(model, expr.left, depth + 1), number_of(model, expr.right, depth + 1))
    if isinstance(expr, cst.IfExp):
        return _larger(number_of(model, expr.body, depth + 1), number_of(model, expr.orelse, depth + 1))
    if isinstance(expr, cst.Attribute):
        return Count(CountKind.WORKERS if is_worker_name(expr.attr.value) else CountKind.UNKNOWN, text)
    if isinstance(expr, cst.Name):
        if is_worker_name(expr.value):
            return Count(CountKind.WORKERS, text)
        reference = model.reference(expr)
        if reference is None or not reference.bindings:
            return Count(CountKind.UNKNOWN, text)
        found: Count | None = None
        for binding in _unclamped(reference.bindings):
            if binding.kind is Kind.ASSIGN and binding.value is not None:
                count = number_of(model, binding.value, depth + 1)
            else:
                count = Count(CountKind.UNKNOWN, text)
            found = count if found is None else _larger(found, count)
        assert found is not None
        return found
    return Count(CountKind.UNKNOWN, text)


def _is_affinity_count(model: SemanticModel, call: cst.Call) -> bool:
    """`len(os.sched_getaffinity(0))`: the CPUs this process may use."""
    symbol = model.resolve(call.func)
    if symbol is None or symbol.qualname != "len" or not call.args:
        return False
    inner = call.args[0].value
    if not isinstance(inner, cst.Call):
        return False
    function = model.resolve(inner.func)
    return function is not None and function.qualname == "os.sched_getaffinity"


def _short(model: SemanticModel, node: cst.CSTNode) -> str:
    text = model.module.code_for_node(node).strip()
    text = " ".join(text.split())
    return text if len(text) <= 40 else text[:37] + "..."


# -- the most a worker count can be --------------------------------------------------------------


class _Default:
    """The value None given as a pool's size: the pool's default."""

    def __repr__(self) -> str:
        return "DEFAULT"


DEFAULT = _Default()


# CPU counts that are None where the number cannot be told (multiprocessing's raises instead).
_MAY_BE_NONE = frozenset({"os.cpu_count", "os.process_cpu_count", "psutil.cpu_count"})


@dataclass(frozen=True)
class Bound:
    """The most an integer expression can be: `limit` (math.inf: a CPU count taken as it
    is, no bound), and what sets it, for a message ("os.cpu_count()", "64"). `may_be_none`:
    the CPU count it comes from is None where the number cannot be told."""

    limit: float
    source: str
    may_be_none: bool = False

    @property
    def unbounded(self) -> bool:
        return math.isinf(self.limit)


def upper_bound(model: SemanticModel, expr: cst.BaseExpression | None, platform: str | None = None,
                depth: int = 0) -> Bound | _Default | None:
    """The most `expr` can be where it stands (see the module docstring), on `platform`
    ("windows", ...; None: anywhere): a Bound, DEFAULT where it may be None, or None when
    the file does not tell."""
    if expr is None or depth > _DEPTH:
        return None
    value = model.value_of(expr)
    if value is None:
        return DEFAULT
    if isinstance(value, int) and not isinstance(value, bool) and value is not UNKNOWN:
        return Bound(value, str(value))
    if isinstance(expr, cst.Call):
        return _call_bound(model, expr, platform, depth)
    if isinstance(expr, cst.BinaryOperation):
        left = upper_bound(model, expr.left, platform, depth + 1)
        right = upper_bound(model, expr.right, platform, depth + 1)
        if not isinstance(left, Bound) or not isinstance(right, Bound):
            return left if isinstance(left, Bound) and left.unbounded and isinstance(right, Bound) else None
        if left.unbounded or right.unbounded:
            if isinstance(expr.operator, (cst.Add, cst.Multiply)) or left.unbounded:
                return Bound(math.inf, left.source if left.unbounded else right.source)
            return None
        try:
            result = _arithmetic(expr.operator, left.limit, right.limit)
        except ArithmeticError:
            return None
        return None if result is None else Bound(result, model.module.code_for_node(expr))
    if isinstance(expr, cst.BooleanOperation):
        return _largest([upper_bound(model, part, platform, depth + 1) for part in (expr.left, expr.right)])
    if isinstance(expr, cst.IfExp):
        parts = [part for part, holds in ((expr.body, True), (expr.orelse, False))
                 if platform is None or platform in model.test_facts(expr.test, holds).platforms]
        return _largest([upper_bound(model, part, platform, depth + 1) for part in parts])
    if isinstance(expr, cst.Name):
        reference = model.reference(expr)
        if reference is None or not reference.bindings:
            return None
        return _largest([_binding_bound(model, binding, platform, depth)
                         for binding in _unclamped(_on(model, reference.bindings, platform))])
    return None


_LESS = {cst.LessThan: "<", cst.LessThanEqual: "<", cst.GreaterThan: ">", cst.GreaterThanEqual: ">"}


def _is_clamp(binding) -> bool:
    """`n = len(paths)` under `if len(paths) < n:` (or `n > len(paths)`, `<=`, `>=`): the
    assignment only ever lowers `n`."""
    if binding.kind is not Kind.ASSIGN or binding.value is None or not binding.site.regions:
        return False
    region = binding.site.regions[-1]
    test = region.test if isinstance(region, Condition) and region.holds else None
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    operator = _LESS.get(type(test.comparisons[0].operator))
    smaller, larger = (test.left, test.comparisons[0].comparator) if operator == "<" else \
        (test.comparisons[0].comparator, test.left)
    return operator is not None and isinstance(larger, cst.Name) and larger.value == binding.name and \
        smaller.deep_equals(binding.value)


def _unclamped(bindings) -> list:
    """The bindings that can make a name larger than the others do: a clamp (`_is_clamp`)
    never can, when another binding reaches the read too."""
    bindings = list(bindings)
    kept = [binding for binding in bindings if not _is_clamp(binding)]
    return kept or bindings


def _on(model: SemanticModel, bindings, platform: str | None) -> list:
    """The bindings that reach a read on `platform`: those made only there win over the
    others (`n = cpu_count()` then `if sys.platform == "win32": n = min(n, 61)`)."""
    if platform is None:
        return list(bindings)
    there = [binding for binding in bindings if platform in model.facts(binding.site).platforms]
    only = [binding for binding in there if model.facts(binding.site).platforms == {platform}]
    return only or there


def _binding_bound(model: SemanticModel, binding, platform: str | None, depth: int) -> Bound | _Default | None:
    if binding.kind is Kind.ASSIGN and binding.value is not None:
        return upper_bound(model, binding.value, platform, depth + 1)
    if binding.kind is Kind.PARAMETER and isinstance(binding.node, cst.Param) and binding.node.default is not None:
        return upper_bound(model, binding.node.default, platform, depth + 1)
    return None


def _call_bound(model: SemanticModel, call: cst.Call, platform: str | None, depth: int) -> Bound | _Default | None:
    qualname = _callee(model, call)
    if qualname in apis.CPU_COUNTS or _is_affinity_count(model, call):
        return Bound(math.inf, f"{model.module.code_for_node(call.func)}()", qualname in _MAY_BE_NONE)
    arguments = [upper_bound(model, arg.value, platform, depth + 1) for arg in call.args
                 if arg.keyword is None and not arg.star]
    if qualname == "min" and arguments:
        finite = [bound for bound in arguments if isinstance(bound, Bound) and not bound.unbounded]
        if finite:
            return min(finite, key=lambda bound: bound.limit)
        return arguments[0] if all(isinstance(b, Bound) for b in arguments) else None
    if qualname == "max" and arguments:
        return _largest(arguments)
    if qualname in ("int", "round", "abs", "math.ceil", "math.floor") and arguments:
        return arguments[0]
    if isinstance(call.func, cst.Attribute) and call.func.attr.value in ("get", "pop", "getenv") and \
            len(call.args) >= 2:  # `kwargs.pop("processes", None)`: the default, or whatever is there
        default = upper_bound(model, argument(call, 1), platform, depth + 1)
        return _largest([default, None]) if default is not DEFAULT else DEFAULT
    return None


def _largest(bounds: list) -> Bound | _Default | None:
    """The largest of alternatives: unbounded if one is, DEFAULT if one may be None, else
    unknown if one is unknown."""
    for bound in bounds:
        if isinstance(bound, Bound) and bound.unbounded:
            return bound
    if any(bound is DEFAULT for bound in bounds):
        return DEFAULT
    if any(bound is None for bound in bounds) or not bounds:
        return None
    return max(bounds, key=lambda bound: bound.limit)


def _arithmetic(operator: cst.BaseBinaryOp, left: float, right: float) -> float | None:
    if isinstance(operator, cst.Add):
        return left + right
    if isinstance(operator, cst.Subtract):
        return left - right
    if isinstance(operator, cst.Multiply):
        return left * right
    if isinstance(operator, cst.FloorDivide):
        return left // right
    if isinstance(operator, cst.Divide):
        return left / right
    return None
