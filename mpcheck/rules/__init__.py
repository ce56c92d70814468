"""The rule registry: each rule's code, where its class is, and the prefilter's test of it --
what every file the rule can flag contains (prefilter.py).

A new rule is a module here and one entry in RULES. The entries are read before any file is
parsed; a rule's module (which imports libcst) is imported only when a file passes its test,
so a run whose files all fail every test, or whose results are cached, never imports libcst.
`ALL_RULES` and `RULES_BY_CODE` (the classes) import every rule's module when first used.

Which words: names resolve only through the file's own imports, so a rule that needs a
multiprocessing API resolved in the file needs the module that provides it named there
(`PROCESS_WORDS`); words that are common on their own (`Lock`, `Queue`, `Pool`, `qsize`,
`socket`) keep a file only together with one of those (`trigger_also`). A rule that also
follows calls into the project's own functions (`model.processes.process_start`,
`model.workers`) looks through the project (`trigger_through_project`).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Callable

from ..apis import FORK_ONLY_MODULES, PROCESS_WORDS

if TYPE_CHECKING:
    from ..project import ProjectIndex
    from .base import Rule


@dataclass(frozen=True)
class RuleSpec:
    """A rule as the pipeline knows it before parsing (see prefilter.py for the test)."""

    code: str
    location: str  # "module:Class", the module under this package (or an absolute one)
    # One of these words is in the text of every file the rule can flag...
    triggers: tuple[str, ...]
    # ... and, when set, one of these too.
    trigger_also: tuple[str, ...] = ()
    # ... and, when set, this regular expression matches the text.
    trigger_pattern: str | None = None
    # Only files with these names (globs; empty: any).
    trigger_files: tuple[str, ...] = ()
    # The words are modules the file imports (the `fork-only-modules` option adds some).
    trigger_imports: bool = False
    # The words count only in the file's code, not in its comments and strings: they are
    # names, and the semantic model resolves names through imports, never through text.
    trigger_in_code: bool = False
    # A file that fails the words is flagged when it uses a name of another module of its
    # project whose definition holds one (reach.py).
    trigger_through_project: bool = False
    # A test of the file's place in its project, asked after the words (no parsing): False
    # when the rule cannot flag anything in the file.
    applies_to: Callable[[str, ProjectIndex | None], bool] | None = None

    def load(self) -> type[Rule]:
        """The rule's class (imports its module, and so libcst)."""
        module, _, name = self.location.partition(":")
        return getattr(import_module(module if "." in module else f"{__name__}.{module}"), name)


def _imported_by_a_package(path: str, project: ProjectIndex | None) -> bool:
    """MP601 reports nothing in a module no package imports at import time (its check ends
    there): asked from the import lines first, then from the importers' import statements
    (without parsing: what CPython's ast cannot settle counts as imported)."""
    return project is not None and project.may_be_imported_by_a_package(path) \
        and project.may_be_imported_at_import_time_by_a_package(path)


_POOLS = ("Pool", "ProcessPoolExecutor")
_PRIMITIVES = ("Lock", "Semaphore", "Condition", "Event", "Barrier", "Queue", "Value", "Array")

RULES: tuple[RuleSpec, ...] = (
    RuleSpec("MP101", "mp101_fork_only_api:ForkOnlyApi", ("fork", "Fork"),
             trigger_pattern=r"\bfork(?:pty|server)?\b|Fork(?:Server)?(?:Process|Context)\b|register_at_fork"),
    # Primitives, pools and managers made through the module-level API fix the start method too.
    # torch's are torch.multiprocessing's ("multiprocess"); "torch" alone with "Value" (from
    # ValueError) or "Pool" (MaxPool2d) kept half the modules of a torch project.
    RuleSpec("MP102", "mp102_start_method_at_import:StartMethodAtImport",
             ("set_start_method", "get_start_method", "get_context", *_PRIMITIVES, "Pool", "Manager"),
             trigger_also=("set_start_method", "multiprocess", "billiard")),
    RuleSpec("MP103", "mp103_fork_only_module:ForkOnlyModule", tuple(FORK_ONLY_MODULES), trigger_imports=True),
    RuleSpec("MP201", "mp201_unguarded_process_start:UnguardedProcessStart", PROCESS_WORDS,
             trigger_through_project=True),
    RuleSpec("MP202", "mp202_missing_freeze_support:MissingFreezeSupport", PROCESS_WORDS,
             trigger_through_project=True),
    # A start through a project function called once per item counts.
    RuleSpec("MP301", "mp301_process_per_item:ProcessPerItem", PROCESS_WORDS, trigger_through_project=True),
    RuleSpec("MP302", "mp302_unclosed_pool:UnclosedPool", _POOLS, trigger_also=PROCESS_WORDS),
    RuleSpec("MP303", "mp303_join_before_drain:JoinBeforeDrain", ("Queue", "Pipe"), trigger_also=PROCESS_WORDS),
    RuleSpec("MP304", "mp304_too_many_windows_workers:TooManyWindowsWorkers", _POOLS, trigger_also=PROCESS_WORDS),
    RuleSpec("MP305", "mp305_results_after_pool_exit:ResultsAfterPoolExit", ("Pool",), trigger_also=PROCESS_WORDS),
    RuleSpec("MP306", "mp306_unjoined_process_with_primitive:UnjoinedProcessWithPrimitive", _PRIMITIVES,
             trigger_also=PROCESS_WORDS),
    # Project wrappers (parmap(fn, items)) hand their arguments to a child.
    RuleSpec("MP401", "mp401_unpicklable_callable:UnpicklableCallable", PROCESS_WORDS, trigger_through_project=True),
    RuleSpec("MP402", "mp402_unpicklable_argument:UnpicklableArgument", PROCESS_WORDS, trigger_through_project=True),
    RuleSpec("MP403", "mp403_misused_process_arguments:MisusedProcessArguments", PROCESS_WORDS,
             trigger_through_project=True),
    # A function handed to a project wrapper runs in a worker too.
    RuleSpec("MP501", "mp501_parent_only_state:ParentOnlyState", PROCESS_WORDS, trigger_through_project=True),
    # Output is print(), sys.stdout/stderr and pprint, or a logger of the logging module.
    RuleSpec("MP601", "mp601_output_at_package_import:OutputAtPackageImport",
             ("print", "stdout", "stderr", "logging"), trigger_in_code=True, applies_to=_imported_by_a_package),
    RuleSpec("MP701", "mp701_queue_qsize:QueueQsize", ("qsize", "get_value"), trigger_also=PROCESS_WORDS),
    # SO_REUSEPORT on its own; a shared listening socket needs a process API too (the pattern
    # is asked only of a text with one of the words: without the first two, "socket" is there).
    # As lookaheads from the text's start, the same test took four times as long.
    RuleSpec("MP702", "mp702_reuse_port_and_shared_socket:ReusePortAndSharedSocket",
             ("SO_REUSEPORT", "reuse_port", "socket"),
             trigger_pattern="|".join(("SO_REUSEPORT", "reuse_port", *PROCESS_WORDS))),
    RuleSpec("MP703", "mp703_shared_memory_tracked_attach:SharedMemoryTrackedAttach",
             ("SharedMemory", "ShareableList")),
)
RULE_CODES: tuple[str, ...] = tuple(spec.code for spec in RULES)


def __getattr__(name: str):
    """`ALL_RULES`, `RULES_BY_CODE` and the rule API of base.py, imported on first use."""
    if name == "ALL_RULES":
        value: object = tuple(spec.load() for spec in RULES)
    elif name == "RULES_BY_CODE":
        value = {rule.code: rule for rule in __getattr__("ALL_RULES")}
    elif name in ("Explanation", "Invalid", "Rule", "RuleContext", "Valid"):
        value = getattr(import_module(f"{__name__}.base"), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


__all__ = ["ALL_RULES", "RULES", "RULES_BY_CODE", "RULE_CODES", "Explanation", "Invalid", "Rule", "RuleContext",
           "RuleSpec", "Valid"]
