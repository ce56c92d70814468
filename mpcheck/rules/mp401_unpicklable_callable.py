"""MP401: a callable that cannot be pickled by reference, given where multiprocessing pickles it."""

from __future__ import annotations

from typing import Iterable

import libcst as cst

from ..findings import Applicability, Fix, Violation
from ..model import Kind, Scope, ScopeKind, SemanticModel
from ..model.names import is_generator
from ..model.workers import Carried, PickleProblem, Target
from .base import Explanation, Invalid, Rule, RuleContext, Valid, breakage_under, under_methods


# Keywords that say nothing of what the function they are given does.
_VAGUE_KEYWORDS = frozenset({"target", "fn", "func", "function", "callable"})

class UnpicklableCallable(Rule):
    code = "MP401"
    name = "unpicklable-callable"
    summary = "A lambda, nested function, local class or main-block function given to a process API that pickles it"
    explanation = Explanation(
        what=(
            "Flags a callable that pickle cannot send by reference, given where multiprocessing "
            "pickles it: `Process(target=...)` (any flavour, a context's, a subclass's), "
            "`Pool.map`/`map_async`/`imap`/`imap_unordered`/`starmap`/`starmap_async`/`apply`/"
            "`apply_async`, `Pool(initializer=...)`, `ProcessPoolExecutor(initializer=...)`, "
            "`executor.submit`/`map`, `torch.multiprocessing.spawn`, "
            "`loop.run_in_executor(process_pool, ...)`, a torch `DataLoader`'s `collate_fn`/"
            "`worker_init_fn` when it has workers, and the project's own functions that pass a "
            "parameter on to one of these (`parmap(fn, items)`), followed through the calls of "
            "the file and of the project. The callables: lambdas, nested functions and "
            "closures, local classes and their methods and instances, functions and classes "
            "defined under `if __name__ == \"__main__\":` or in a package's `__main__.py`, a "
            "module-level function whose decorator (of the same file) returns a nested "
            "function without `functools.wraps`, and `functools.partial` of any of these, "
            "followed through simple assignments. Thread pools, `multiprocessing.dummy`, and "
            "the dill- or cloudpickle-based `multiprocess`, `pathos`, `loky` and `joblib` are "
            "not flagged, nor is a pool or `Process` imported from `multiprocess` with "
            "multiprocessing's as the fallback (`try: from multiprocess import Pool` / `except "
            "ImportError: from multiprocessing import Pool`, in the file or in a module of the "
            "project it imports from): where multiprocess is installed it is what runs. Nor are "
            "module-level functions and methods of module-level classes."
        ),
        why=(
            "pickle sends a function or class as a reference, `module.qualname`, and the child "
            "imports it. A lambda, a nested function or a local class has no importable name, "
            "so pickling fails in the parent:\n\n"
            "    AttributeError: Can't pickle local object 'main.<locals>.work'\n\n"
            "(3.12.5 and 3.13: `Can't get local object`; 3.14: `_pickle.PicklingError: Can't "
            "pickle local object`), and for a module-level lambda `_pickle.PicklingError: "
            "Can't pickle <function <lambda>>: attribute lookup <lambda> on __main__ failed`. "
            "`Pool.*` and the executors pickle the callable under every start method, fork "
            "included, so these fail on Linux too; `Process(target=...)` and `initializer=` "
            "pickle only under spawn and forkserver. A function defined under the main guard, or "
            "in a package's `__main__.py` run with `python -m`, pickles, but the spawned child "
            "does not run that code and fails to find it:\n\n"
            "    AttributeError: Can't get attribute 'work' on <module '__mp_main__'>\n\n"
            "Where: everywhere for the APIs that pickle under fork; Windows, macOS (Python 3.8+), "
            "Linux from Python 3.14, and any platform choosing spawn or forkserver for the rest "
            "(`mpcheck facts 5`)."
        ),
        example=(
            "import multiprocessing\n\n"
            "def main(scale):\n"
            "    def work(n):\n"
            "        return n * scale\n\n"
            "    with multiprocessing.Pool() as pool:\n"
            "        print(pool.map(work, range(3)))\n"
        ),
        use_instead=(
            "import multiprocessing\n"
            "from functools import partial\n\n\n"
            "def work(scale, n):\n"
            "    return n * scale\n\n\n"
            "def main(scale):\n"
            "    with multiprocessing.Pool() as pool:\n"
            "        print(pool.map(partial(work, scale), range(3)))\n"
        ),
        fix_safety=(
            "The fix hoists a lambda or nested function to module level, under its own name when "
            "that is free there (a readable fresh name otherwise); the variables it captured "
            "become its leading parameters, bound where it was made or named with "
            "`functools.partial` (imported once, a local name of it respected). A function "
            "defined in the main block that reads only module-level names moves above the "
            "guard. It is safe: the hoisted function computes what the closure did from the "
            "same objects, because a captured variable is bound only before that point and not "
            "in a loop around it (for `Process` targets, which fork does not pickle), nothing "
            "assigns it through `nonlocal`, every use of the function is a hand-off to a child, "
            "and what it captures can itself be pickled. Otherwise, and for decorated nested "
            "functions, generators, functions that use `super()`/`__class__` or call "
            "themselves, local classes, decorator wrappers and `__main__.py` functions, the "
            "finding has no fix."
        ),
        references=(
            "`mpcheck facts 5` (docs/facts.md section 5): Picklability of targets and arguments",
            "https://docs.python.org/3/library/multiprocessing.html#the-spawn-and-forkserver-start-methods",
            "https://docs.python.org/3/library/pickle.html#what-can-be-pickled-and-unpickled",
        ),
    )

    VALID = [
        Valid(
            """
            import multiprocessing


            def square(n):
                return n * n


            if __name__ == "__main__":
                with multiprocessing.Pool(2) as pool:
                    print(pool.map(square, range(4)))
            """
        ),
        Valid(
            """
            from concurrent.futures import ThreadPoolExecutor
            from multiprocessing.pool import ThreadPool


            def main(scale):
                # threads share the interpreter: nothing is pickled
                with ThreadPoolExecutor() as executor:
                    print(list(executor.map(lambda n: n * scale, range(3))))
                with ThreadPool(2) as pool:
                    print(pool.map(lambda n: n + scale, range(3)))
            """
        ),
        Valid(
            """
            import multiprocess as mp  # dill pickles lambdas by value


            def main(scale):
                with mp.Pool(2) as pool:
                    print(pool.map(lambda n: n * scale, range(3)))
            """
        ),
        Valid(
            """
            try:
                from multiprocess import Pool  # installed, it runs: dill pickles the lambda
            except ImportError:
                from multiprocessing import Pool


            def main(scale):
                with Pool(2) as pool:
                    print(pool.map(lambda n: n * scale, range(3)))
            """
        ),
        Valid(
            """
            import functools
            import multiprocessing


            class Scaler:
                def __init__(self, factor):
                    self.factor = factor

                def apply(self, n):
                    return n * self.factor


            def scale(factor, n):
                return n * factor


            if __name__ == "__main__":
                with multiprocessing.Pool(2) as pool:
                    print(pool.map(Scaler(3).apply, range(3)))
                    print(pool.map(functools.partial(scale, 2), range(3)))
            """
        ),
        Valid(
            """
            import multiprocessing as mp


            def main():
                def work():
                    print("forked")

                # an explicit fork context pickles no Process target (MP101 covers Windows)
                mp.get_context("fork").Process(target=work).start()
            """
        ),
    ]

    INVALID = [
        Invalid(
            """
            import torch
            from torch.utils.data import DataLoader, TensorDataset


            def main():
                dataset = TensorDataset(torch.arange(8.0))
                loader = DataLoader(dataset, batch_size=4, num_workers=2,
                                    collate_fn=lambda batch: torch.stack([item[0] for item in batch]))
                for batch in loader:
                    print(batch.sum().item())
            """,
            line=8,
            column=36,
            message="a lambda is given to DataLoader(num_workers>0)",
            fixed="""
            import torch
            from torch.utils.data import DataLoader, TensorDataset


            def collate_fn(batch):
                return torch.stack([item[0] for item in batch])


            def main():
                dataset = TensorDataset(torch.arange(8.0))
                loader = DataLoader(dataset, batch_size=4, num_workers=2,
                                    collate_fn=collate_fn)
                for batch in loader:
                    print(batch.sum().item())
            """,
        ),
        Invalid(
            """
            import multiprocessing


            def main(scale):
                def work(n):
                    return n * scale

                with multiprocessing.Pool() as pool:
                    print(pool.map(work, range(3)))
            """,
            line=9,
            column=24,
            message="the closure 'main.<locals>.work' (line 5) is given to Pool.map()",
            fixed="""
            import multiprocessing
            from functools import partial


            def work(scale, n):
                return n * scale


            def main(scale):
                with multiprocessing.Pool() as pool:
                    print(pool.map(partial(work, scale), range(3)))
            """,
        ),
        Invalid(
            """
            from concurrent.futures import ProcessPoolExecutor


            def total(prices, rate):
                with ProcessPoolExecutor() as executor:
                    return sum(executor.map(lambda price: price * (1 + rate), prices))
            """,
            line=6,
            column=33,
            message="a lambda is given to ProcessPoolExecutor.map()",
            fixed="""
            from concurrent.futures import ProcessPoolExecutor
            from functools import partial


            def task(rate, price):
                return price * (1 + rate)


            def total(prices, rate):
                with ProcessPoolExecutor() as executor:
                    return sum(executor.map(partial(task, rate), prices))
            """,
        ),
        Invalid(
            """
            import multiprocessing


            if __name__ == "__main__":
                def report(name):
                    print("hello", name)

                worker = multiprocessing.Process(target=report, args=("spawn",))
                worker.start()
                worker.join()
            """,
            line=8,
            message="defined under `if __name__ == \"__main__\":`",
            fixed="""
            import multiprocessing


            def report(name):
                print("hello", name)


            if __name__ == "__main__":
                worker = multiprocessing.Process(target=report, args=("spawn",))
                worker.start()
                worker.join()
            """,
        ),
        Invalid(
            """
            import multiprocessing


            def parmap(fn, items):
                workers = [multiprocessing.Process(target=fn, args=(item,)) for item in items]
                for worker in workers:
                    worker.start()
                for worker in workers:
                    worker.join()


            def main(prefix):
                parmap(lambda item: print(prefix, item), ["a", "b"])
            """,
            line=13,
            message="a lambda is given to parmap() -> Process()",
            fixed="""
            import multiprocessing
            from functools import partial


            def parmap(fn, items):
                workers = [multiprocessing.Process(target=fn, args=(item,)) for item in items]
                for worker in workers:
                    worker.start()
                for worker in workers:
                    worker.join()


            def task(prefix, item):
                return print(prefix, item)


            def main(prefix):
                parmap(partial(task, prefix), ["a", "b"])
            """,
        ),
        Invalid(
            """
            import multiprocessing


            def main(jobs):
                for job in jobs:
                    def work():
                        print("running", job)

                    multiprocessing.Process(target=work).start()
            """,
            line=9,
            message="the closure 'main.<locals>.work' (line 6) is given to Process()",
            # No fix: `job` is rebound by the loop around the call; a forked child reads it
            # when it starts, a partial would bind it where the target is named.
        ),
        Invalid(
            """
            import functools
            import multiprocessing


            def logged(function):
                def wrapper(*args):
                    print("calling", function.__name__)
                    return function(*args)
                return wrapper


            @logged
            def square(n):
                return n * n


            if __name__ == "__main__":
                with multiprocessing.Pool(2) as pool:
                    print(pool.map(square, range(3)))
            """,
            line=19,
            message="whose decorator returns its nested function 'logged.<locals>.wrapper'",
        ),
        Invalid(
            """
            try:
                from billiard import Pool  # pickles by reference, as multiprocessing does
            except ImportError:
                from multiprocessing import Pool


            def main(scale):
                with Pool(2) as pool:
                    print(pool.map(lambda n: n * scale, range(3)))
            """,
            line=9,
            message="a lambda is given to Pool.map()",
            fixed="""
            try:
                from billiard import Pool  # pickles by reference, as multiprocessing does
            except ImportError:
                from multiprocessing import Pool
            from functools import partial


            def task(scale, n):
                return n * scale


            def main(scale):
                with Pool(2) as pool:
                    print(pool.map(partial(task, scale), range(3)))
            """,
        ),
    ]

    def check(self, context: RuleContext) -> Iterable[Violation]:
        model = context.model
        workers = model.workers
        reported: set[tuple[int, int]] = set()
        for handoff in workers.handoffs():
            for expression, carried in workers.pickled_values(handoff):
                if carried is Carried.ITEMS:
                    continue
                for target in workers.targets(expression):
                    key = (id(expression), id(target.node))
                    problem = workers.reference_problem(target)
                    if key in reported or problem is None:
                        continue
                    breaks = problem.breaks_under & handoff.pickled_by_pickle_under
                    if not breaks:
                        continue
                    reported.add(key)
                    fix = Hoist(context, target, problem).fix()
                    line = model.position(problem.definition).start.line
                    where = "" if problem.definition is target.named_by else f" (line {line})"
                    yield Violation(
                        expression,
                        f"{problem.what}{where} is given to {handoff.describe()}, which pickles it "
                        f"{under_methods(breaks)} ({problem.error}); {problem.advice}",
                        (fix,) if fix is not None else (),
                        breaks_on=breakage_under(breaks, handoff.start_method),
                    )


class Hoist:
    """The hoisting codemod for one finding: a lambda or nested function moves to module
    level, captured variables becoming leading parameters bound with `functools.partial`; a
    function of the main block moves above the guard. `fix()` is None when it is not safe."""

    def __init__(self, context: RuleContext, target: Target, problem: PickleProblem) -> None:
        self.context = context
        self.model: SemanticModel = context.model
        self.target = target
        self.problem = problem

    def fix(self) -> Fix | None:
        node = self.target.node
        scope = self.model.scope_of_definition(node)
        if scope is None or scope.parent is None or isinstance(node, cst.ClassDef):
            return None
        if any(inner.uses_super or inner.declared_nonlocal for inner in scope.walk()):
            return None
        if isinstance(node, cst.FunctionDef) and (node.decorators or is_generator(node)):
            return None
        if not self._reads_only_import_time_globals(scope) or not self._signature_reads_globals_only(node):
            return None
        if isinstance(node, cst.Lambda):
            return self._lambda(node, scope)
        if scope.parent.kind is ScopeKind.MODULE:
            return self._main_block_function(node)
        if scope.parent.kind is ScopeKind.FUNCTION:
            return self._nested_function(node, scope)
        return None

    # -- the three shapes -----------------------------------------------------------------------

    def _nested_function(self, node: cst.FunctionDef, scope: Scope) -> Fix | None:
        site = self.model.workers.site_of(node)
        outer = scope.parent
        assert outer is not None
        if site is None or site.top is None or not isinstance(outer.node, cst.FunctionDef) or \
                site.block is not outer.node.body:
            return None
        name = node.name.value
        bindings = outer.bindings.get(name, [])
        if len(bindings) != 1 or name in scope.frees:
            return None  # rebound, or recursive (its own name is a free variable)
        uses = [reference.node for reference in bindings[0].references]
        allowed = self._handed_over_names()
        if any(id(use) not in allowed for use in uses):
            return None  # called or stored in the parent too: its signature must not change
        captured = self._captured(scope, uses)
        if captured is None:
            return None
        fix = self.context.fix_context.fix()
        new_name = fix.fresh_name(name, reusable={name} if self._free_at_module(name, bindings[0]) else set())
        fix.replace(node, lambda updated: updated.with_changes(
            name=cst.Name(new_name), params=_with_leading(updated.params, captured)))
        fix.move([node], before=site.top)
        self._bind_uses(fix, uses, new_name, captured, site.top)
        return fix.build(Applicability.SAFE, f"Move `{name}` to module level")

    def _lambda(self, node: cst.Lambda, scope: Scope) -> Fix | None:
        site = self.model.workers.site_of(node)
        if site is None or site.top is None or scope.parent is None or scope.parent.kind is ScopeKind.CLASS:
            return None
        captured = self._captured(scope, [node])
        if captured is None:
            return None
        fix = self.context.fix_context.fix()
        new_name = fix.fresh_name(self._lambda_name(node))
        written = self.model.module.code_for_node(node.params).strip()
        parameters = ", ".join([*captured, *([written] if written else [])])
        definition = fix.statement(f"def {new_name}({parameters}):\n    return {{body}}\n", body=node.body)
        definition = definition.with_changes(leading_lines=[cst.EmptyLine(indent=False)] * 2)
        fix.insert_before(site.top, [definition])
        self._bind_uses(fix, [node], new_name, captured, site.top)
        return fix.build(Applicability.SAFE, "Move the lambda to module level")

    def _main_block_function(self, node: cst.FunctionDef) -> Fix | None:
        site = self.model.workers.site_of(node)
        if site is None or site.top is None or not self.model.is_main_guard(site.top):
            return None
        name = node.name.value
        if len(self.model.module_scope.bindings.get(name, [])) != 1:
            return None
        fix = self.context.fix_context.fix()
        fix.move([node], before=site.top)
        return fix.build(Applicability.SAFE, f"Move `{name}` above the main guard")

    # -- the conditions -------------------------------------------------------------------------

    def _handed_over_names(self) -> set[int]:
        """Names that are hand-offs to a child (or the function of a partial that is one)."""
        found = set()
        workers = self.model.workers
        for handoff in workers.handoffs():
            for expression, carried in workers.pickled_values(handoff):
                if carried is not Carried.ITEMS and isinstance(expression, cst.Name):
                    found.add(id(expression))
        return found

    def _captured(self, scope: Scope, uses: list[cst.CSTNode]) -> list[str] | None:
        """The free variables of `scope`, in the order they were bound, when binding each with
        a partial at `uses` gives the function what the closure saw; None otherwise."""
        workers = self.model.workers
        pickled_by_fork = self.problem.breaks_under >= {"fork"}
        ordered = []
        for name in scope.frees:
            owner = _owner(scope, name)
            if owner is None or owner.kind is not ScopeKind.FUNCTION:
                return None  # a comprehension's variable, a class cell
            bindings = owner.bindings.get(name, [])
            if not bindings:
                return None
            for binding in bindings:
                if binding.nested or binding.kind in (Kind.DEF, Kind.CLASS, Kind.DELETE):
                    return None
                if binding.value is not None and binding.kind in (Kind.ASSIGN, Kind.WITH) and (
                        workers.unpicklable(binding.value) is not None
                        or any(workers.reference_problem(t) for t in workers.targets(binding.value))):
                    return None
                for use in uses:
                    if not self._bound_before(binding, use, pickled_by_fork):
                        return None
            ordered.append((min(binding.order for binding in bindings), name))
        return [name for _, name in sorted(ordered)]

    def _bound_before(self, binding, use: cst.CSTNode, pickled_by_fork: bool) -> bool:
        """`binding` is made before `use` and, unless the API pickles under fork too (the
        original never ran), not in a loop around it: the value a partial binds at `use` is
        the one the closure read when the child ran it."""
        if binding.kind is Kind.PARAMETER:
            return True
        if self.model.position(binding.node).start.line >= self.model.position(use).start.line and \
                binding.kind is not Kind.PARAMETER:
            return False
        use_site = self._site(use)
        if use_site is None:
            return False
        loops = set(map(id, binding.site.loops()))
        return pickled_by_fork or not any(id(loop) in loops for loop in use_site.loops())

    def _site(self, node: cst.CSTNode):
        reference = self.model.reference(node)
        if reference is not None:
            return reference.site
        return self.model.workers.site_of(node)

    def _reads_only_import_time_globals(self, scope: Scope) -> bool:
        """What the function reads at module level is bound while the module is imported and
        not changed by the parent afterwards: a spawned child sees the same."""
        module = self.model.module_scope
        changed = {change.name for change in self.model.parent_state.changes()}
        for inner in scope.walk():
            for reference in inner.references:
                if reference.owner is not module:
                    continue
                if reference.name in changed or any(
                        self.model.under_main_guard(b.site) or b.site.in_function for b in reference.bindings):
                    return False
        return True

    def _signature_reads_globals_only(self, node: cst.FunctionDef | cst.Lambda) -> bool:
        """Defaults and annotations run where the def stands: at module level they must read
        only module-level names bound before it."""
        parts: list[cst.CSTNode] = [node.params]
        if isinstance(node, cst.FunctionDef) and node.returns is not None:
            parts.append(node.returns)
        module = self.model.module_scope
        stack = parts
        while stack:
            current = stack.pop()
            if isinstance(current, cst.Name):
                reference = self.model.reference(current)
                if reference is not None and (reference.owner not in (None, module) or any(
                        self.model.under_main_guard(b.site) for b in reference.bindings)):
                    return False
            stack.extend(current.children)
        return True

    def _free_at_module(self, name: str, binding) -> bool:
        """`name` can be bound at module level without changing what any other read sees."""
        if self.model.module_scope.bindings.get(name):
            return False
        for scope in self.model.scopes():
            for reference in scope.references:
                if reference.name == name and binding not in reference.bindings and \
                        reference.owner in (None, self.model.module_scope):
                    return False
        return True

    def _lambda_name(self, node: cst.Lambda) -> str:
        """The name a lambda gets: from the name it is assigned to (`key_task`), or the
        keyword it is given as when that says what it is (`collate_fn=`, `worker_init_fn=`,
        `initializer=`); "task" otherwise."""
        for binding in self.model.bindings:
            if binding.value is node and binding.kind is Kind.ASSIGN and binding.scope is not self.model.module_scope:
                return binding.name + "_task"
        for site in self.model.calls:
            for arg in site.node.args:
                if arg.value is node and arg.keyword is not None and arg.keyword.value not in _VAGUE_KEYWORDS:
                    return arg.keyword.value
        return "task"

    # -- the edits --------------------------------------------------------------------------------

    def _bind_uses(self, fix, uses: list[cst.CSTNode], new_name: str, captured: list[str], top) -> None:
        """Each use names the hoisted function, with the captured variables bound first."""
        if not captured:
            for use in uses:
                fix.replace(use, cst.Name(new_name))
            return
        partial = fix.need_name("functools", "partial", before=top)
        outer_partials = {id(call.args[0].value): call for call in self._partials()}
        for use in uses:
            call = outer_partials.get(id(use))
            bound = [cst.Arg(cst.Name(name)) for name in captured]
            if call is not None:  # partial(work, x) -> partial(work, scale, x)
                fix.replace(call, lambda updated, bound=bound: updated.with_changes(
                    args=[updated.args[0].with_changes(value=cst.Name(new_name)), *bound, *updated.args[1:]]))
            else:
                fix.replace(use, fix.expression(f"{partial}({new_name}, {', '.join(captured)})"))

    def _partials(self) -> list[cst.Call]:
        found = []
        for site in self.model.calls:
            call = site.node
            assert isinstance(call, cst.Call)
            symbol = self.model.resolve(call.func)
            if symbol is not None and symbol.qualname == "functools.partial" and call.args and \
                    call.args[0].keyword is None and not call.args[0].star:
                found.append(call)
        return found


def _with_leading(params: cst.Parameters, names: list[str]) -> cst.Parameters:
    """`params` with positional parameters `names` first."""
    leading = [cst.Param(cst.Name(name)) for name in names]
    if params.posonly_params:
        return params.with_changes(posonly_params=[*leading, *params.posonly_params])
    return params.with_changes(params=[*leading, *params.params])


def _owner(scope: Scope, name: str) -> Scope | None:
    """The enclosing function scope whose variable `scope` reads as `name`."""
    current = scope.parent
    while current is not None:
        if current.kind is not ScopeKind.CLASS and current.binds(name):
            return current
        current = current.parent
    return None
