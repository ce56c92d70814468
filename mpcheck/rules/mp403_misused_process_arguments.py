"""MP403: `args=` that is not a tuple of arguments, and a target that is called instead of passed."""

from __future__ import annotations

from typing import Iterable

import libcst as cst

from ..findings import EVERYWHERE, Applicability, Violation
from ..model import UNKNOWN, SemanticModel, argument
from ..model.names import is_generator, returns_value
from ..model.workers import Carried
from .base import Explanation, Invalid, Rule, RuleContext, Valid

# The catalogue's arguments that hold the positional arguments of the callable, as a tuple.
_ARGUMENT_TUPLES = frozenset({"args", "initargs"})
_SCALARS = (str, bytes, int, float, complex)


class MisusedProcessArguments(Rule):
    code = "MP403"
    name = "misused-process-arguments"
    summary = "`args=(x)` (not a tuple), `args=\"text\"`, or `target=f()` (called in the parent)"
    breaks_on = EVERYWHERE
    explanation = Explanation(
        what=(
            "Flags the arguments of a process API that hold the callable's arguments "
            "(`Process(args=...)`, `Pool.apply*(func, args)`, `initargs=`, "
            "`torch.multiprocessing.spawn(args=...)`) when they are not a tuple: `args=(x)`, "
            "where the parentheses make no tuple, and `args=\"text\"` or `args=5`, a single "
            "string or number. Also flags a callable argument that is the result of calling a "
            "function of the file that returns nothing: `Process(target=work())`."
        ),
        why=(
            "multiprocessing calls `target(*args)`. `(x)` is just `x`: a string becomes one "
            "argument per character (`TypeError: work() takes 1 positional argument but 5 were "
            "given` in the child), a number fails at once (`TypeError: 'int' object is not "
            "iterable`). `target=work()` runs `work` in the parent, before any process exists, "
            "and hands the child `None`, so the work is done once, serially, and the child does "
            "nothing (`Pool.map(work(), ...)` raises `TypeError: 'NoneType' object is not "
            "callable`). These are bugs under every start method."
        ),
        example=(
            "import multiprocessing\n\n"
            "def greet(name):\n    print('hello', name)\n\n"
            "if __name__ == \"__main__\":\n"
            "    multiprocessing.Process(target=greet, args=(\"world\")).start()\n"
        ),
        use_instead=(
            "import multiprocessing\n\n"
            "def greet(name):\n    print('hello', name)\n\n"
            "if __name__ == \"__main__\":\n"
            "    multiprocessing.Process(target=greet, args=(\"world\",)).start()\n"
        ),
        fix_safety=(
            "The fix makes a one-tuple: `(x)` becomes `(x,)`, `\"text\"` becomes `(\"text\",)`. It "
            "is safe when the value is a string, bytes or number (a literal, or a name bound only "
            "to such literals), which was never meant as a sequence of arguments; for any other "
            "value it is unsafe, since `x` might already be a tuple of arguments. "
            "`target=work()` has no fix: whether `work` returns the real target is for the author "
            "to say."
        ),
        references=(
            "https://docs.python.org/3/library/multiprocessing.html#multiprocessing.Process",
        ),
    )

    VALID = [
        Valid(
            """
            import multiprocessing


            def greet(name, punctuation):
                print("hello", name + punctuation)


            def make_target():
                return greet


            if __name__ == "__main__":
                arguments = ("world", "!")
                multiprocessing.Process(target=greet, args=("world", "!")).start()
                multiprocessing.Process(target=greet, args=arguments).start()
                multiprocessing.Process(target=greet, args=["world", "?"]).start()
                multiprocessing.Process(target=make_target(), args=("factory", ".")).start()
            """
        ),
    ]

    INVALID = [
        Invalid(
            """
            import multiprocessing


            def greet(name):
                print("hello", name)


            if __name__ == "__main__":
                multiprocessing.Process(target=greet, args=("world")).start()
            """,
            line=9,
            column=49,
            message="`args=(\"world\")` is not a tuple (the callable gets one argument per character)",
            fixed="""
            import multiprocessing


            def greet(name):
                print("hello", name)


            if __name__ == "__main__":
                multiprocessing.Process(target=greet, args=("world",)).start()
            """,
        ),
        Invalid(
            """
            from multiprocessing import Pool


            def resize(path):
                print("resizing", path)


            def main(path):
                with Pool(2) as pool:
                    pool.apply(resize, (path))
            """,
            line=10,
            message="`(path)` is not a tuple (the callable gets one argument per item of it)",
            unsafe_fixed="""
            from multiprocessing import Pool


            def resize(path):
                print("resizing", path)


            def main(path):
                with Pool(2) as pool:
                    pool.apply(resize, (path,))
            """,
        ),
        Invalid(
            """
            import multiprocessing

            PORT = 8080


            def serve(port):
                print("serving on", port)


            if __name__ == "__main__":
                multiprocessing.Process(target=serve, args=PORT).start()
            """,
            line=11,
            message="`args=PORT` is not a tuple (TypeError: 'int' object is not iterable)",
            fixed="""
            import multiprocessing

            PORT = 8080


            def serve(port):
                print("serving on", port)


            if __name__ == "__main__":
                multiprocessing.Process(target=serve, args=(PORT,)).start()
            """,
        ),
        Invalid(
            """
            import multiprocessing


            def crunch():
                print("crunching")


            if __name__ == "__main__":
                worker = multiprocessing.Process(target=crunch())
                worker.start()
                worker.join()
            """,
            line=9,
            message="`crunch()` runs here, in the parent",
        ),
    ]

    def check(self, context: RuleContext) -> Iterable[Violation]:
        model = context.model
        for handoff in model.workers.handoffs():
            expression = handoff.expression
            if handoff.carried is Carried.CALLABLE:
                called = _returns_nothing(model, expression)
                if called is not None:
                    yield Violation(
                        expression,
                        f"`{called}()` runs here, in the parent, and {handoff.describe()} is given what it "
                        f"returns (None); pass `{called}` itself",
                    )
                continue
            if handoff.through:
                continue
            call = handoff.site.node
            assert isinstance(call, cst.Call)
            keyword = next((spec.keyword for spec in handoff.api.data_arguments
                            if argument(call, spec.position, spec.keyword) is expression), None)
            if keyword in _ARGUMENT_TUPLES:
                violation = _not_a_tuple(context, call, expression)
                if violation is not None:
                    yield violation


def _not_a_tuple(context: RuleContext, call: cst.Call, expression: cst.BaseExpression) -> Violation | None:
    """`args=(x)` or `args="text"`: a value where a tuple of arguments belongs."""
    model = context.model
    if isinstance(expression, (cst.Tuple, cst.List, cst.BaseComp, cst.Dict, cst.Set)):
        return None
    value = model.value_of(expression)
    scalar = value is not UNKNOWN and isinstance(value, _SCALARS) or isinstance(expression, cst.FormattedString)
    if not (expression.lpar or scalar):
        return None
    inner = expression.with_changes(lpar=[], rpar=[])
    fix = context.fix_context.fix()
    fix.replace(expression, cst.Tuple([cst.Element(inner, comma=cst.Comma())]))
    written = model.module.code_for_node(expression)
    keyword = next((arg.keyword.value for arg in call.args if arg.value is expression and arg.keyword), None)
    if isinstance(value, (int, float, complex)) and not isinstance(value, bool):
        effect = f"TypeError: '{type(value).__name__}' object is not iterable"
    elif scalar:
        effect = "the callable gets one argument per character"
    else:
        effect = "the callable gets one argument per item of it"
    return Violation(
        expression,
        f"`{keyword + '=' if keyword else ''}{written}` is not a tuple ({effect}); write a one-tuple, "
        f"`({model.module.code_for_node(inner)},)`",
        (fix.build(Applicability.SAFE if scalar else Applicability.UNSAFE, "Make it a one-tuple"),),
    )


def _returns_nothing(model: SemanticModel, expression: cst.BaseExpression) -> str | None:
    """The name of the function of this file that `expression` calls, when it returns
    nothing (no `return <value>`, not a generator): the call hands over None."""
    if not isinstance(expression, cst.Call):
        return None
    symbol = model.resolve(expression.func)
    definition = symbol.definition if symbol is not None else None
    if not isinstance(definition, cst.FunctionDef) or symbol.is_instance or definition.asynchronous \
            or is_generator(definition) or returns_value(definition):
        return None
    return model.module.code_for_node(expression.func)
