"""MP703: a shared memory segment attached by name without `track=False` or
`resource_tracker.unregister()`: the attaching process's resource tracker unlinks it."""

from __future__ import annotations

from typing import Iterable

import libcst as cst

from .. import apis
from ..findings import Breakage, Violation, narrow
from ..model import UNKNOWN, SemanticModel, Site, argument, keyword_argument, literal_string
from ..model.names import class_member
from .base import Explanation, Invalid, Rule, RuleContext, Valid

# Where a resource tracker registers shared memory: POSIX, macOS included. Windows has none
# (the OS frees a segment when its last handle closes), and ignores `track` (facts §9). The
# default `track=True` of 3.13+ registers too, so no Python version is spared.
WHERE_THE_RESOURCE_TRACKER_UNLINKS = (Breakage("linux"), Breakage("macos"))
_UNREGISTER = "multiprocessing.resource_tracker.unregister"
_REGISTER = "multiprocessing.resource_tracker.register"
_PATCH = frozenset({"unittest.mock.patch", "unittest.mock.patch.object", "mock.patch", "mock.patch.object"})
# `track=` of SharedMemory: Python 3.13 (gh-82300, PR #110778).
_TRACK_SINCE = (3, 13)


class SharedMemoryTrackedAttach(Rule):
    code = "MP703"
    name = "shared-memory-tracked-attach"
    summary = "Shared memory attached by name without `track=False` or `resource_tracker.unregister()`"
    breaks_on = WHERE_THE_RESOURCE_TRACKER_UNLINKS
    explanation = Explanation(
        what=(
            "Flags `shared_memory.SharedMemory(name=...)` (without `create=True`) and "
            "`ShareableList(name=...)` (without a sequence): a process attaching to a segment "
            "that another process created, when the call does not pass `track=False` and the "
            "file never calls `multiprocessing.resource_tracker.unregister()` (nor replaces "
            "`resource_tracker.register`, or patches it around the call: `with "
            "patch(\"multiprocessing.resource_tracker.register\", ...):`), nor when the same "
            "function unlinks the segment it attached (it acts as its owner). An attach in a "
            "function that this file's own `Process`/`Pool` workers run, in a file that creates segments too, is not "
            "flagged: children started by multiprocessing share their parent's resource "
            "tracker. Code that runs only on Windows is not flagged either."
        ),
        why=(
            "On Linux and macOS every `SharedMemory` call, attach included, registers the "
            "segment with the calling process's resource tracker. A process that was not "
            "started by multiprocessing from the creator (a separate program, a `subprocess`, "
            "a server's client) has a tracker of its own, and when it exits that tracker "
            "\"cleans up\" the segment the creator still uses:\n\n"
            "    UserWarning: resource_tracker: There appear to be 1 leaked shared_memory objects to clean up at shutdown\n\n"
            "after which the creator's next attach or `unlink()` fails with "
            "`FileNotFoundError: [Errno 2] No such file or directory: '/psm_...'`. This is "
            "bpo-38119 (gh-82300), observed here on Python 3.10 to 3.13. Python 3.13 added the "
            "`track` parameter to let such a process opt out, but its default is `track=True`, "
            "so 3.13 and later break the same way until the code passes `track=False`; before "
            "3.13 `track=False` is a TypeError and the known workaround is "
            "`resource_tracker.unregister(shm._name, \"shared_memory\")` right after attaching "
            "(a private API). `ShareableList` has no `track` parameter. Windows has no resource "
            "tracker (`mpcheck facts 9`)."
        ),
        example=(
            "import sys\n"
            "from multiprocessing import shared_memory\n\n"
            "frame = shared_memory.SharedMemory(name=sys.argv[1])  # made by the camera process\n"
            "print(bytes(frame.buf[:4]))\n"
            "frame.close()\n"
        ),
        use_instead=(
            "import sys\n"
            "from multiprocessing import resource_tracker, shared_memory\n\n"
            "if sys.version_info >= (3, 13):\n"
            "    frame = shared_memory.SharedMemory(name=sys.argv[1], track=False)\n"
            "else:\n"
            "    frame = shared_memory.SharedMemory(name=sys.argv[1])\n"
            "    resource_tracker.unregister(frame._name, \"shared_memory\")\n"
            "print(bytes(frame.buf[:4]))\n"
            "frame.close()\n"
        ),
        fix_safety=(
            "No automatic fix: `track=False` raises TypeError before 3.13 and changes who "
            "cleans up (a creator that exits without `unlink()` then leaves the segment behind), "
            "and the unregister workaround uses a private API. With `target-version` 3.13 or "
            "later the message names `track=False` only. Starting the attaching processes with "
            "multiprocessing from the creator, or a `SharedMemoryManager`, avoids the problem on "
            "every version."
        ),
        references=(
            "`mpcheck facts 9` (docs/facts.md section 9): multiprocessing.shared_memory and the resource tracker",
            "https://docs.python.org/3/library/multiprocessing.shared_memory.html#multiprocessing.shared_memory.SharedMemory",
            "https://github.com/python/cpython/issues/82300",
        ),
        options=("`target-version`: from 3.13 on, the message names `track=False` only",),
    )

    VALID = [
        Valid(
            """
            import sys
            from multiprocessing import shared_memory

            frame = shared_memory.SharedMemory(name=sys.argv[1], track=False)
            """
        ),
        Valid(
            """
            from multiprocessing import resource_tracker
            from multiprocessing.shared_memory import SharedMemory

            def attach(name):
                segment = SharedMemory(name)
                resource_tracker.unregister(segment._name, "shared_memory")
                return segment
            """
        ),
        Valid(
            """
            import multiprocessing as mp
            from multiprocessing import shared_memory

            def fill(name, value):
                segment = shared_memory.SharedMemory(name=name)  # a child: the parent's tracker
                segment.buf[0] = value
                segment.close()

            if __name__ == "__main__":
                segment = shared_memory.SharedMemory(create=True, size=1)
                worker = mp.Process(target=fill, args=(segment.name, 7))
                worker.start()
                worker.join()
                segment.close()
                segment.unlink()
            """
        ),
        Valid(
            """
            from multiprocessing.shared_memory import SharedMemory

            def open_buffer(name, size, create):
                return SharedMemory(name=name, create=create, size=size)
            """
        ),
    ]

    INVALID = [
        Invalid(
            """
            import sys
            from multiprocessing import shared_memory

            frame = shared_memory.SharedMemory(name=sys.argv[1])
            print(bytes(frame.buf[:4]))
            frame.close()
            """,
            line=4,
            column=9,
            message="this process's resource tracker unlinks it when the process exits",
        ),
        Invalid(
            """
            from multiprocessing.shared_memory import ShareableList


            class Telemetry:
                def __init__(self, name):
                    self.values = ShareableList(name=name)
            """,
            line=6,
            column=23,
            message="resource_tracker.unregister",
        ),
    ]

    def check(self, context: RuleContext) -> Iterable[Violation]:
        model = context.model
        attaches = []
        creates = False
        for site in model.calls:
            call = site.node
            assert isinstance(call, cst.Call)
            symbol = model.resolve(call.func)
            if symbol is None or not apis.has_role(symbol.qualname, apis.Role.SHARED_MEMORY) \
                    or apis.has_role(symbol.qualname, apis.Role.MANAGER):
                continue
            if isinstance(symbol.definition, cst.ClassDef) and \
                    class_member(model, symbol.definition, "__init__", instance=True) is not None:
                continue  # a subclass of this file whose constructor decides how it registers
            attached = _attaches(model, call, symbol.qualname.endswith("ShareableList"))
            creates = creates or attached is False
            if attached:
                attaches.append((site, symbol))
        if not attaches or _untracks(model):
            return
        for site, symbol in attaches:
            if not model.runs_at_runtime(site) or (creates and model.runs_in_worker(site)) \
                    or _register_patched(model, site) or _unlinked_here(model, site):
                continue
            yield self._violation(context, site, symbol.qualname.rsplit(".", 1)[1])

    def _violation(self, context: RuleContext, site: Site, kind: str) -> Violation:
        call = site.node
        assert isinstance(call, cst.Call)
        target = context.settings.target_version
        modern = target is not None and target >= _TRACK_SINCE
        if kind == "ShareableList":
            remedy = "call `resource_tracker.unregister(values.shm._name, \"shared_memory\")` after attaching"
        elif modern:
            remedy = "pass `track=False`"
        else:
            remedy = ("pass `track=False` (Python 3.13+), or call "
                      "`resource_tracker.unregister(shm._name, \"shared_memory\")` after attaching (before 3.13)")
        facts = context.model.facts(site)
        return Violation(
            call,
            f"`{kind}(name=...)` attaches to a segment another process made, and this process's resource "
            f"tracker unlinks it when the process exits (UserWarning: resource_tracker: There appear to be 1 "
            f"leaked shared_memory objects; FileNotFoundError in the owner later); {remedy}",
            breaks_on=narrow(self.breaks_on, facts.platforms, facts.versions),
        )


def _attaches(model: SemanticModel, call: cst.Call, shareable_list: bool) -> bool | None:
    """True when `call` attaches to an existing segment by name and registers it with the
    resource tracker, False when it creates one, None when that cannot be told (or it does
    not register: `track=False`, or a `**kwargs` that may say so)."""
    if any(arg.star == "**" for arg in call.args):
        return None
    name = argument(call, None if shareable_list else 0, "name")
    if shareable_list:
        sequence = argument(call, 0, "sequence")
        if sequence is not None and model.value_of(sequence) is not None:
            return False
        return name is not None and model.value_of(name) is not None or None
    create = argument(call, 1, "create")
    created = False if create is None else model.value_of(create)
    if created is UNKNOWN:
        return None
    if created:
        return False
    track = keyword_argument(call, "track")
    if track is not None and model.value_of(track.value) is not True:
        return None
    return name is not None and model.value_of(name) is not None or None


def _untracks(model: SemanticModel) -> bool:
    """The file unregisters segments from the resource tracker, or replaces its `register`."""
    if any((symbol := model.resolve(site.node.func)) is not None and symbol.qualname == _UNREGISTER
           for site in model.calls if isinstance(site.node, cst.Call)):
        return True
    return any((symbol := model.resolve(store.target)) is not None and symbol.qualname == _REGISTER
               for store in model.stores)


def _unlinked_here(model: SemanticModel, site: Site) -> bool:
    """The code that attaches also unlinks the segment (`shm = SharedMemory(name); ...;
    shm.unlink()` later in the same function): it acts as the owner, and `unlink()` unregisters
    the segment from its tracker (a clean-up of leaked segments, for example)."""
    statement = site.statement
    if not isinstance(statement, cst.SimpleStatementLine) or not isinstance(statement.body[0], cst.Assign) \
            or statement.body[0].value is not site.node or len(statement.body[0].targets) != 1:
        return False
    target = _code(statement.body[0].targets[0].target)
    owner = site.scope.enclosing_function()
    calls = model.processes.calls_of(owner.node if owner is not None else None)
    after = calls[next(index for index, other in enumerate(calls) if other.node is site.node) + 1:]
    for other in after:  # in source order: an unlink before it removed another segment
        call = other.node
        if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and call.func.attr.value == "unlink" \
                and _code(call.func.value) == target and _whenever(other, site, target):
            return True
    return False


def _whenever(unlink: Site, attach: Site, target: str) -> bool:
    """The unlink runs whenever the attach did: it is under no condition the attach is not
    under, except tests of the segment object itself (`if shm:`, `if shm is not None:`).
    lightllm unlinks only when the size is wrong, and otherwise keeps the tracked attach."""
    known = {id(region) for region in attach.regions}
    for condition in unlink.conditions():
        if id(condition) in known:
            continue
        test = condition.test
        subject = test.left if isinstance(test, cst.Comparison) else test
        if _code(subject) != target:
            return False
    return True


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def _register_patched(model: SemanticModel, site: Site) -> bool:
    """`site` is in `with patch("multiprocessing.resource_tracker.register", ...):` (or
    `patch.object(resource_tracker, "register", ...)`), the idiom of vLLM and others."""
    for region in site.withs():
        for item in region.node.items:
            call = item.item
            function = model.resolve(call.func) if isinstance(call, cst.Call) else None
            if function is None or function.qualname not in _PATCH:
                continue
            if function.qualname.endswith(".object"):
                owner = model.resolve(argument(call, 0, "target"))
                if owner is not None and f"{owner.qualname}.{literal_string(argument(call, 1, 'attribute'))}" == _REGISTER:
                    return True
            elif literal_string(argument(call, 0, "target")) == _REGISTER:
                return True
    return False
