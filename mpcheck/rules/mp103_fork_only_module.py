"""MP103: imports of third-party modules that need fork themselves (Hugging Face `spaces`)."""

from __future__ import annotations

from typing import Iterable

import libcst as cst
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from .. import apis
from ..frozen import declared_requirements
from ..findings import WHERE_FORK_IS_MISSING, Applicability, Fix, Violation
from ..model import Binding, Kind
from .base import Explanation, Invalid, Rule, RuleContext, Valid

# The fallback of a no-op decorator: `@GPU`, `@GPU(duration=60)` and `GPU(function)` all give
# the function back unchanged.
_NO_OP_DECORATOR = (
    "def {name}(function=None, **options):\n"
    "    return function if function is not None else lambda function: function\n"
)


class ForkOnlyModule(Rule):
    code = "MP103"
    name = "fork-only-module"
    breaks_on = WHERE_FORK_IS_MISSING
    summary = "Third-party module that needs fork imported without a portability guard"
    explanation = Explanation(
        what=(
            "Flags imports of third-party modules that themselves use fork-only multiprocessing "
            "APIs when they are imported: mpcheck's table (`mpcheck/apis.py`, "
            "`FORK_ONLY_MODULES`, each entry with the releases affected and where that was "
            "read) holds Hugging Face's `spaces`, the ZeroGPU helper of Gradio Space apps; the "
            "`fork-only-modules` option adds your own. An import under a test that holds only "
            "where fork exists (`if \"fork\" in multiprocessing.get_all_start_methods():`, "
            "`if sys.platform != \"win32\":`, `hasattr(os, \"fork\")`), or in a `try` whose "
            "`except` catches ImportError, is not flagged."
        ),
        why=(
            "Windows has only the `spawn` start method: `multiprocessing.context` defines "
            "`ForkProcess` and `ForkContext` only `if sys.platform != 'win32'`. A module that "
            "imports one, or calls `get_context(\"fork\")`, while it is imported makes every "
            "program that imports it stop on Windows before it runs a line of its own. That is "
            "what broke the MuseTalk project's Gradio `app.py` on Windows: it did `import spaces`, "
            "and `spaces` 0.29.0 and earlier import `ForkProcess` at import time "
            "(`spaces/__init__.py` -> `spaces/zero/decorator.py` -> `spaces/zero/wrappers.py`):\n\n"
            "    ImportError: cannot import name 'ForkProcess' from 'multiprocessing.context'\n\n"
            "The users of other Space apps that `import spaces` and decorate functions with "
            "`@spaces.GPU` report the same error (MuseV, AnimateLCM, MagicTime). From 0.29.1, "
            "`spaces` imports that code only when ZeroGPU is on, on Hugging Face's Linux "
            "servers; the requirements of these apps rarely pin a version, and an environment "
            "made earlier keeps the old release. A project whose requirements all ask for a "
            "release without the problem (`spaces>=0.29.1`, `spaces==0.30.4`) is not flagged. "
            "Every Python version on Windows is affected (`mpcheck facts 2`)."
        ),
        example=(
            "import gradio as gr\n"
            "import spaces\n\n"
            "@spaces.GPU(duration=600)\n"
            "def generate(prompt):\n"
            "    ...\n"
        ),
        use_instead=(
            "import gradio as gr\n"
            "import multiprocessing\n\n"
            "if \"fork\" in multiprocessing.get_all_start_methods():\n"
            "    import spaces\n"
            "else:  # `spaces` needs fork (mpcheck MP103): its decorators return the function unchanged\n"
            "    class spaces:\n"
            "        @staticmethod\n"
            "        def GPU(function=None, **options):\n"
            "            return function if function is not None else lambda function: function\n\n"
            "@spaces.GPU(duration=600)\n"
            "def generate(prompt):\n"
            "    ...\n"
        ),
        fix_safety=(
            "The fix imports the module where fork exists, exactly as before, so Linux and macOS "
            "behave as they did; where fork is missing it binds a stand-in whose decorators "
            "return the decorated function unchanged (ZeroGPU only exists on Hugging Face's "
            "servers; without it, `spaces.GPU` does the same). It is offered, as safe, only when "
            "the module is imported alone on its line at module level and the file uses nothing "
            "of it but those decorators (`spaces.GPU`, bare or with options, or `from spaces "
            "import GPU`); anything else is reported with no fix: import it under the same "
            "test and give the Windows branch what the program needs, or pin a release that "
            "does not need fork."
        ),
        references=(
            "`mpcheck facts 2` (docs/facts.md section 2): Fork-only APIs on Windows",
            "`mpcheck facts 13` (docs/facts.md section 13.13): the `spaces` releases that need fork at import",
            "https://docs.python.org/3/library/multiprocessing.html#contexts-and-start-methods",
            "https://pypi.org/project/spaces/",
        ),
        options=(
            "`fork-only-modules`: more modules whose import needs fork (`[\"mylab.gpu_pool\"]`); "
            "an import of one, or of anything inside it, is reported like `spaces`",
            "`platforms`: reported only when `windows` is one of them (the default lists all three)",
        ),
    )

    VALID = [
        Valid(
            """
            import multiprocessing

            if "fork" in multiprocessing.get_all_start_methods():
                import spaces
            """
        ),
        Valid(
            """
            import sys

            if sys.platform != "win32":
                from spaces import GPU
            else:
                def GPU(function=None, **options):
                    return function if function is not None else lambda function: function
            """
        ),
        Valid(
            """
            try:
                import spaces
            except ImportError:
                spaces = None
            """
        ),
        Valid(
            """
            # import spaces  (commented out, as AnimateLCM's app has it)
            import gradio as gr

            with gr.Blocks() as demo:
                gr.Markdown("Replace tabs with spaces")
            """
        ),
        Valid(
            """
            from . import spaces  # the project's own module of that name
            """,
            path="app/main.py",
        ),
    ]

    INVALID = [
        Invalid(
            """
            import os
            import spaces
            import gradio as gr

            @spaces.GPU(duration=600)
            def inference(audio, bbox_shift):
                ...

            @spaces.GPU
            def check_video(video):
                ...
            """,
            line=2,
            column=8,
            message="cannot import name 'ForkProcess'",
            fixed="""
            import os
            import multiprocessing

            if "fork" in multiprocessing.get_all_start_methods():
                import spaces
            else:  # `spaces` needs fork (mpcheck MP103): its decorators return the function unchanged
                class spaces:
                    @staticmethod
                    def GPU(function=None, **options):
                        return function if function is not None else lambda function: function
            import gradio as gr

            @spaces.GPU(duration=600)
            def inference(audio, bbox_shift):
                ...

            @spaces.GPU
            def check_video(video):
                ...
            """,
        ),
        Invalid(
            """
            import multiprocessing as mp
            from spaces import GPU

            @GPU(duration=120)
            def render(scene):
                ...
            """,
            line=2,
            column=20,
            fixed="""
            import multiprocessing as mp

            if "fork" in mp.get_all_start_methods():
                from spaces import GPU
            else:  # `spaces` needs fork (mpcheck MP103): its decorators return the function unchanged
                def GPU(function=None, **options):
                    return function if function is not None else lambda function: function

            @GPU(duration=120)
            def render(scene):
                ...
            """,
        ),
        Invalid(
            """
            import spaces

            model = load_model()
            spaces.zero.startup()
            """,
            line=1,
            message="spaces 0.29.0 and earlier",
        ),
        Invalid(
            """
            def launch():
                import spaces  # only when the demo starts: still an ImportError on Windows
                return spaces
            """,
            line=2,
            column=12,
        ),
    ]

    def check(self, context: RuleContext) -> Iterable[Violation]:
        model = context.model
        reported: set[int] = set()
        for binding in model.imports:
            if binding.kind is not Kind.IMPORT or binding.qualname is None or binding.qualname.startswith("."):
                continue
            module = apis.fork_only_module(binding.qualname, context.settings.fork_only_modules)
            site = binding.site
            if module is None or id(site.statement) in reported or not model.runs_at_runtime(site) \
                    or model.fork_is_guarded(site, ("ImportError",)):
                continue
            reported.add(id(site.statement))
            if _requires_a_fixed_release(context, module):
                continue
            fix = _decorator_fallback(context, binding, module)
            yield Violation(
                binding.node,
                f"`{module.name}` needs fork when it is imported ({module.affected} {module.needs}): on "
                f"Windows the import fails ({module.error}); import it only where fork exists",
                fixes=(fix,) if fix else (),
            )


def _requires_a_fixed_release(context: RuleContext, module: apis.ForkOnlyModule) -> bool:
    """The project declares the module's distribution, and every declaration excludes the
    releases that need fork (a lower bound at or above `fixed_in`: `==0.30.4`, `>=0.29.1`,
    `~=0.30`). A file with no path (stdin) has no project to ask."""
    if module.fixed_in is None or context.project is None:
        return False
    requirements = declared_requirements(context.path, module.name)
    return bool(requirements) and all(_lower_bound_at_least(requirement.specifier, Version(module.fixed_in))
                                      for requirement in requirements)


def _lower_bound_at_least(specifiers: SpecifierSet, fixed: Version) -> bool:
    for specifier in specifiers:
        if specifier.operator in ("==", "===", ">=", "~=", ">"):
            try:
                bound = Version(specifier.version.removesuffix(".*"))
            except InvalidVersion:
                continue
            if bound >= fixed:
                return True
    return False


def _decorator_fallback(context: RuleContext, binding: Binding, module: apis.ForkOnlyModule) -> Fix | None:
    """Import the module where fork exists, and elsewhere bind no-op stand-ins for its
    decorators: only when the import is alone on its line at module level and the file uses
    nothing of the module but those decorators."""
    statement = binding.site.statement
    if not module.no_op_decorators or statement is None or statement is not binding.site.top \
            or not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    fallback = _fallback(context, statement.body[0], module)
    if fallback is None:
        return None
    fix = context.fix_context.fix()
    mp = fix.need_module("multiprocessing", before=statement)
    comment = f"# `{module.name}` needs fork (mpcheck MP103): its decorators return the function unchanged"
    fallback_code = "\n".join("    " + line if line else "" for line in fallback.splitlines())

    def guarded(updated: cst.CSTNode) -> cst.BaseStatement:
        assert isinstance(updated, cst.SimpleStatementLine)
        node = fix.statement(
            f'if "fork" in {mp}.get_all_start_methods():\n    {{original}}\nelse:  {comment}\n{fallback_code}\n',
            original=updated.with_changes(leading_lines=()),
        )
        return node.with_changes(leading_lines=updated.leading_lines or (cst.EmptyLine(indent=False),))

    fix.replace(statement, guarded)
    return fix.build(Applicability.SAFE, f"Import `{module.name}` only where fork exists; "
                                         "elsewhere its decorators return the function unchanged")


def _fallback(context: RuleContext, small: cst.BaseSmallStatement, module: apis.ForkOnlyModule) -> str | None:
    """The code bound where the module cannot be imported, or None when the file uses
    more of the module than its no-op decorators."""
    model = context.model
    if isinstance(small, cst.Import):
        if len(small.names) != 1:
            return None
        alias = small.names[0]
        if (alias.asname is None and not isinstance(alias.name, cst.Name)) or \
                cst.Module([]).code_for_node(alias.name) != module.name:
            return None
        binding = _binding_of(model, alias)
        if binding is None or not _uses_only(model, binding, module.no_op_decorators):
            return None
        methods = "".join("@staticmethod\n" + _NO_OP_DECORATOR.format(name=name)
                          for name in _used(model, binding, module.no_op_decorators))
        return f"class {binding.name}:\n" + "".join(f"    {line}\n" for line in methods.splitlines())
    if isinstance(small, cst.ImportFrom) and not small.relative and not isinstance(small.names, cst.ImportStar):
        if small.module is None or cst.Module([]).code_for_node(small.module) != module.name:
            return None
        names = []
        for alias in small.names:
            if alias.asname is not None or not isinstance(alias.name, cst.Name) \
                    or alias.name.value not in module.no_op_decorators:
                return None
            binding = _binding_of(model, alias)
            if binding is None or _rebound(model, binding):
                return None
            names.append(alias.name.value)
        return "".join(_NO_OP_DECORATOR.format(name=name) for name in names)
    return None


def _binding_of(model, alias: cst.ImportAlias) -> Binding | None:
    return next((binding for binding in model.imports if binding.node is alias), None)


def _rebound(model, binding: Binding) -> bool:
    return any(other is not binding for other in model.module_scope.bindings.get(binding.name, ()))


def _used(model, binding: Binding, names: tuple[str, ...]) -> list[str]:
    """The decorator names the file reads from the module, in table order."""
    read = {site.node.attr.value for site in model.attributes
            if isinstance(site.node, cst.Attribute) and any(ref.node is site.node.value for ref in binding.references)}
    return [name for name in names if name in read]


def _uses_only(model, binding: Binding, names: tuple[str, ...]) -> bool:
    """Every read of the module's name is `module.NAME` with NAME one of `names`."""
    if _rebound(model, binding) or not binding.references:
        return False
    attribute_of = {id(site.node.value): site.node.attr.value for site in model.attributes
                    if isinstance(site.node, cst.Attribute)}
    return all(attribute_of.get(id(reference.node)) in names for reference in binding.references)
