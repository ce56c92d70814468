"""What the conditions around a site tell: on which platforms it can run, whether only as the
main script, only for type checkers, never, and which attributes are known to exist.

A condition is any test code runs under: an `if`/`elif`/`else` branch, a conditional
expression, the right operand of `and`/`or`, a `while` body, a comprehension's `if`, or the
statements after an `if` whose body always leaves. Tests are read through names: a flag set
from a platform test (`IS_WINDOWS = os.name == "nt"`), set to a true value only where fork
is proven (`try: get_context("fork"); HAVE_FORK = True except ValueError: HAVE_FORK = False`),
or set in a branch of a platform test, tells what its own test would, in this module or
another of the project (ProjectIndex.flag_facts). A test skipped by a decorator
(`@pytest.mark.skipif`, a module's `pytestmark`) runs only where its condition lets it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from .. import apis
from .names import UNKNOWN, argument, literal_string
from .scopes import Binding, Condition, Kind, Scope, Site, SkipDecorator, TryElseRegion, TryRegion

if TYPE_CHECKING:
    from . import SemanticModel

PLATFORMS = frozenset({"windows", "macos", "linux"})
FORK_PLATFORMS = frozenset({"macos", "linux"})  # where the fork start method and os.fork exist
_TYPE_CHECKING_NAMES = {"typing.TYPE_CHECKING", "typing_extensions.TYPE_CHECKING"}
_CATCH_ALL = frozenset({"Exception", "BaseException", "*"})
# Decorators that skip a test where their first argument is true (False: where it is false).
_SKIP_DECORATORS = {"pytest.mark.skipif": True, "unittest.skipIf": True, "unittest.case.skipIf": True,
                    "unittest.skipUnless": False, "unittest.case.skipUnless": False}


@dataclass(frozen=True)
class Facts:
    """What holds where code runs. `platforms`: where it can run (all three when nothing
    is known). `versions`: the Python versions, as a half-open range of (major, minor)."""

    platforms: frozenset[str] = PLATFORMS
    main: bool = False  # only when the module runs as the main script
    type_checking: bool = False  # only for type checkers (`if TYPE_CHECKING:`)
    never: bool = False  # never at run time (`if False:`)
    attributes: frozenset[tuple[str, str]] = frozenset()  # (owner, name) known to exist
    versions: tuple[tuple[int, int], tuple[int, int]] = ((0, 0), (99, 0))

    def both(self, other: Facts) -> Facts:
        """What holds where both hold."""
        return Facts(
            self.platforms & other.platforms, self.main or other.main,
            self.type_checking or other.type_checking, self.never or other.never,
            self.attributes | other.attributes,
            (max(self.versions[0], other.versions[0]), min(self.versions[1], other.versions[1])),
        )

    def either(self, other: Facts) -> Facts:
        """What holds where one of them holds."""
        return Facts(
            self.platforms | other.platforms, self.main and other.main,
            self.type_checking and other.type_checking, self.never and other.never,
            self.attributes & other.attributes,
            (min(self.versions[0], other.versions[0]), max(self.versions[1], other.versions[1])),
        )

    @property
    def has_fork(self) -> bool:
        """Code here runs only where fork exists."""
        return self.platforms <= FORK_PLATFORMS

    @property
    def runs(self) -> bool:
        """Code here can run at all (not type-checking-only, not dead)."""
        return not (self.type_checking or self.never) and bool(self.platforms)


NOTHING = Facts()


@dataclass
class FactFinder:
    """Facts of tests, conditions and sites of one model, each worked out once."""

    model: SemanticModel
    _conditions: dict[int, Facts] = field(default_factory=dict)
    _depth: int = 0

    def of_site(self, site: Site) -> Facts:
        conditions = [region for region in site.regions if isinstance(region, Condition)]
        facts = NOTHING
        for condition in conditions:
            facts = facts.both(self.of_condition(condition))
        for condition in conditions:
            facts = facts.both(self._implied(condition, conditions))
        for region in site.regions:
            if isinstance(region, SkipDecorator):
                facts = facts.both(self._of_skip(region))
        return facts

    def _of_skip(self, region: SkipDecorator) -> Facts:
        """What holds where a test the decorator may skip runs: where its condition (an
        expression, not pytest's string form) says it is not skipped."""
        symbol = self.model.resolve(region.decorator.func)
        skips_when = _SKIP_DECORATORS.get(symbol.qualname) if symbol is not None else None
        test = argument(region.decorator, 0, "condition")
        if skips_when is None or test is None or literal_string(test) is not None:
            return NOTHING
        return self.of_test(test, not skips_when, region.scope)

    def _implied(self, condition: Condition, conditions: list[Condition]) -> Facts:
        """What a condition that is a disjunction tells once the other conditions refute all
        of its alternatives but one: after `if reuse and not hasattr(socket, "X"): raise`,
        code under `if reuse:` knows `hasattr(socket, "X")` (tornado's `bind_sockets`)."""
        test = condition.test
        if not isinstance(test, cst.BooleanOperation):
            return NOTHING
        disjunction = cst.Or if condition.holds else cst.And  # not (a and b) == not a or not b
        alternatives = [(operand, condition.holds) for operand in _operands(test, disjunction)]
        if len(alternatives) < 2:
            return NOTHING
        known = {(_code(other.test), other.holds) for other in conditions
                 if other is not condition and other.scope is condition.scope}
        left = [(operand, holds) for operand, holds in alternatives if (_code(operand), not holds) not in known]
        if len(left) != 1:
            return NOTHING
        operand, holds = left[0]
        return self.of_test(operand, holds, condition.scope)

    def of_condition(self, condition: Condition) -> Facts:
        key = id(condition)
        found = self._conditions.get(key)
        if found is None:
            found = self.of_test(condition.test, condition.holds, condition.scope)
            self._conditions[key] = found
        return found

    def of_test(self, test: cst.BaseExpression, holds: bool, scope: Scope) -> Facts:
        """What is known where `test` is truthy (`holds`) or falsy."""
        if self._depth > 12:
            return NOTHING
        self._depth += 1
        try:
            return self._of_test(test, holds, scope)
        finally:
            self._depth -= 1

    def _of_test(self, test: cst.BaseExpression, holds: bool, scope: Scope) -> Facts:
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            return self.of_test(test.expression, not holds, scope)
        if isinstance(test, cst.BooleanOperation):
            left = self.of_test(test.left, holds, scope)
            right = self.of_test(test.right, holds, scope)
            return left.both(right) if isinstance(test.operator, cst.And) == holds else left.either(right)
        if _is_literal(test):  # `if False:`, `while 1:`
            value = self.model.value_of(test)
            if value is not UNKNOWN:
                return Facts(never=True) if bool(value) != holds else NOTHING
        symbol = self.model.resolve(test)
        if symbol is not None and symbol.qualname in _TYPE_CHECKING_NAMES:
            return Facts(type_checking=True) if holds else NOTHING
        if isinstance(test, cst.Name):
            return self._of_flag(test, holds)
        if isinstance(test, cst.Attribute) and isinstance(test.value, cst.Name) and test.value.value in ("self", "cls"):
            owner = self.model.resolve(test.value)
            if owner is not None and isinstance(owner.definition, cst.ClassDef):
                class_scope = self.model.scope_of_definition(owner.definition)
                bindings = class_scope.final.get(test.attr.value, ()) if class_scope else ()
                return self._of_bindings(tuple(bindings), holds)
            return NOTHING
        if isinstance(test, cst.Attribute) and symbol is not None and symbol.definition is None:
            return self._of_imported(symbol.written, holds)
        if isinstance(test, cst.Call):
            return self._of_call(test, holds, scope)
        if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
            return self._of_comparison(test, holds, scope)
        return NOTHING

    # -- flags --------------------------------------------------------------------------

    def _of_flag(self, name: cst.Name, holds: bool) -> Facts:
        reference = self.model.reference(name)
        if reference is None or not reference.bindings:
            return NOTHING
        return self._of_bindings(reference.bindings, holds)

    def _of_imported(self, dotted: str, holds: bool) -> Facts:
        """A flag of another module of the project (`from .compat import WINDOWS`,
        `compat.WINDOWS`) tells what it tells there (ProjectIndex.flag_facts)."""
        project = self.model.project
        found = project.flag_facts(dotted, self.model.path, holds) if project is not None else None
        return found if found is not None else NOTHING

    def of_module_flag(self, name: str, holds: bool) -> Facts:
        """What holds where this module's top-level name `name`, as its import leaves it, is
        truthy (`holds`) or falsy: what its assignments tell (`_of_bindings`)."""
        bindings = self.model.module_scope.final.get(name)
        if not bindings:
            return NOTHING
        return self._of_bindings(tuple(sorted(bindings, key=lambda binding: binding.order)), holds)

    def _of_bindings(self, bindings: tuple[Binding, ...], holds: bool) -> Facts:
        """A flag is truthy only where one of its truthy assignments was made: what holds
        there (the assignment's own test, its conditions, a fork probe before it) holds. A
        flag imported from another module of the project tells what it tells there."""
        if len(bindings) == 1 and bindings[0].kind is Kind.IMPORT and bindings[0].qualname:
            return self._of_imported(bindings[0].qualname, holds).both(self.of_site(bindings[0].site))
        result: Facts | None = None
        for binding in bindings:
            if binding.kind is not Kind.ASSIGN or binding.value is None:
                return NOTHING
            value = self.model.value_of(binding.value)
            if value is not UNKNOWN and bool(value) != holds:
                continue  # this assignment cannot make the test come out this way
            facts = self.of_site(binding.site).both(self._probe(binding))
            if value is UNKNOWN:
                facts = facts.both(self.of_test(binding.value, holds, binding.scope))
            result = facts if result is None else result.either(facts)
        # No assignment gives that value: a flag a user edits (DEBUG = False) is not dead code.
        return result if result is not None else NOTHING

    def _probe(self, binding: Binding) -> Facts:
        """A binding in a `try` body after a statement that needs fork (`get_context("fork")`,
        `os.fork`, `from multiprocessing.context import ForkProcess`), or in its `else:`
        clause, is reached only where fork exists: elsewhere that statement raised."""
        regions = [region for region in binding.site.regions if isinstance(region, (TryRegion, TryElseRegion))]
        if not regions:
            return NOTHING
        try_node = regions[-1].node
        body = try_node.body.body if isinstance(try_node.body, cst.IndentedBlock) else ()
        for statement in body:
            if statement is binding.statement:
                break
            if self.model.needs_fork(statement):
                return Facts(platforms=FORK_PLATFORMS)
        return NOTHING

    # -- calls and comparisons --------------------------------------------------------------

    def _of_call(self, test: cst.Call, holds: bool, scope: Scope) -> Facts:
        function = self.model.resolve(test.func)
        if function is None:
            return NOTHING
        if function.qualname == "sys.platform.startswith":
            given = self.model.value_of(argument(test, 0))  # a prefix, or a tuple of them
            prefixes = given if isinstance(given, tuple) else (given,)
            if not prefixes or not all(isinstance(prefix, str) for prefix in prefixes):
                return NOTHING
            platforms = frozenset().union(*(_platforms_of("sys.platform", prefix, prefix=True) or frozenset()
                                            for prefix in prefixes))
            return Facts(platforms=platforms if holds else PLATFORMS - platforms) if platforms else NOTHING
        if function.qualname == "hasattr":
            owner = self.model.resolve(argument(test, 0))
            attribute = literal_string(argument(test, 1))
            if owner is None or attribute is None:
                return NOTHING
            fork_only = apis.has_role(f"{owner.qualname}.{attribute}", apis.Role.FORK_ONLY) or \
                apis.has_role(f"{owner.spelled}.{attribute}", apis.Role.FORK_ONLY)
            if holds:
                return Facts(platforms=FORK_PLATFORMS if fork_only else PLATFORMS,
                             attributes=frozenset({(owner.qualname, attribute)}))
            return Facts(platforms=frozenset({"windows"})) if fork_only else NOTHING
        return NOTHING

    def _of_comparison(self, test: cst.Comparison, holds: bool, scope: Scope) -> Facts:
        target = test.comparisons[0]
        operator = target.operator
        left, right = test.left, target.comparator
        if isinstance(operator, (cst.NotEqual, cst.NotIn, cst.IsNot)):
            holds = not holds
        elif isinstance(operator, (cst.GreaterThan, cst.GreaterThanEqual, cst.LessThan, cst.LessThanEqual)):
            return self._of_version(left, operator, right, holds)
        elif not isinstance(operator, (cst.Equal, cst.In, cst.Is)):
            return NOTHING
        if isinstance(operator, (cst.In, cst.NotIn)):
            needle = self.model.value_of(left)
            haystack = self.model.resolve(right)
            if isinstance(needle, str) and haystack is not None:
                if haystack.qualname == "multiprocessing.get_all_start_methods()" and needle in ("fork", "forkserver"):
                    return Facts(platforms=FORK_PLATFORMS) if holds else NOTHING
                return NOTHING
            values = self.model.value_of(right)
            subject = self.model.resolve(left)
            if not isinstance(values, (tuple, list)) or subject is None:
                return NOTHING
            platforms = frozenset().union(*(_platforms_of(subject.qualname, value) or PLATFORMS
                                            for value in values if isinstance(value, str)))
            if not values or platforms == PLATFORMS:
                return NOTHING
            return Facts(platforms=platforms if holds else PLATFORMS - platforms)
        value, subject_expr = self.model.value_of(right), left
        if not isinstance(value, str):
            value, subject_expr = self.model.value_of(left), right
        if not isinstance(value, str):
            return NOTHING
        if isinstance(subject_expr, cst.Name) and subject_expr.value == "__name__":
            return Facts(main=True) if holds and value == "__main__" else NOTHING
        subject = self.model.resolve(subject_expr)
        if subject is None:
            return NOTHING
        if subject.qualname == "multiprocessing.get_start_method()" and value == "fork":
            return Facts(platforms=FORK_PLATFORMS) if holds else NOTHING
        platforms = _platforms_of(subject.qualname, value)
        if not platforms:
            return NOTHING
        return Facts(platforms=platforms if holds else PLATFORMS - platforms)

    def _of_version(self, left, operator, right, holds: bool) -> Facts:
        """`sys.version_info >= (3, 13)` and the like."""
        subject = self.model.resolve(left)
        bound = self.model.value_of(right)
        if subject is None or subject.qualname != "sys.version_info" or not isinstance(bound, tuple) \
                or len(bound) < 2 or not all(isinstance(part, int) for part in bound[:2]):
            return NOTHING
        version = (bound[0], bound[1])
        at_least = isinstance(operator, (cst.GreaterThanEqual, cst.GreaterThan))
        if isinstance(operator, cst.GreaterThan) and len(bound) == 2:
            version = (version[0], version[1] + 1)
        if isinstance(operator, cst.LessThanEqual) and len(bound) == 2:
            version = (version[0], version[1] + 1)
        if at_least == holds:
            return Facts(versions=(version, (99, 0)))
        return Facts(versions=((0, 0), version))


def _platforms_of(subject: str, value: str, prefix: bool = False) -> frozenset[str] | None:
    """The platforms where `subject` (sys.platform, os.name, platform.system() and its
    lower case) equals (or, with `prefix`, starts with) `value`; None when the subject is not
    a platform test."""
    if subject == "sys.platform":
        known = {"win32": "windows", "cygwin": "windows", "darwin": "macos", "linux": "linux"}
        if prefix:
            return frozenset(platform for name, platform in known.items() if name.startswith(value)) or \
                (frozenset({"linux"}) if value in ("freebsd", "openbsd", "netbsd", "aix", "sunos") else frozenset())
        if value in known:
            return frozenset({known[value]})
        return frozenset({"linux"}) if value.startswith(("freebsd", "openbsd", "netbsd", "aix", "sunos")) \
            else frozenset()
    if subject == "os.name":
        return {"nt": frozenset({"windows"}), "posix": FORK_PLATFORMS}.get(value, frozenset())
    if subject in ("platform.system()", "os.uname().sysname"):
        return {"Windows": frozenset({"windows"}), "Darwin": frozenset({"macos"}),
                "Linux": frozenset({"linux"})}.get(value, frozenset())
    if subject == "platform.system().lower()":
        return {"windows": frozenset({"windows"}), "darwin": frozenset({"macos"}),
                "linux": frozenset({"linux"})}.get(value, frozenset())
    return None


def _operands(test: cst.BaseExpression, operator: type) -> list[cst.BaseExpression]:
    """The operands of a chain of one boolean operator (`a or b or c`); [test] otherwise."""
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, operator) and not test.lpar:
        return [*_operands(test.left, operator), *_operands(test.right, operator)]
    return [test]


def _code(expression: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(expression.with_changes(lpar=(), rpar=()) if isinstance(
        expression, cst.BaseExpression) else expression)


def _is_literal(test: cst.BaseExpression) -> bool:
    if isinstance(test, (cst.Integer, cst.Float, cst.SimpleString, cst.ConcatenatedString)):
        return True
    return isinstance(test, cst.Name) and test.value in ("True", "False", "None")


def catches(site: Site, raises: tuple[str, ...]) -> bool:
    """True when a `try` around `site` catches one of `raises` (or everything)."""
    names = set(raises) | _CATCH_ALL
    return any(isinstance(region, TryRegion) and region.caught & names for region in site.regions)
