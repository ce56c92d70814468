"""The rule registry. A new rule is a module here and one line in ALL_RULES."""

from __future__ import annotations

from .base import Explanation, Invalid, Rule, RuleContext, Valid
from .mp101_fork_only_api import ForkOnlyApi
from .mp201_unguarded_process_start import UnguardedProcessStart
from .mp202_missing_freeze_support import MissingFreezeSupport
from .mp401_unpicklable_callable import UnpicklableCallable
from .mp402_unpicklable_argument import UnpicklableArgument
from .mp403_misused_process_arguments import MisusedProcessArguments
from .mp501_parent_only_state import ParentOnlyState

ALL_RULES: tuple[type[Rule], ...] = (
    ForkOnlyApi, UnguardedProcessStart, MissingFreezeSupport, UnpicklableCallable, UnpicklableArgument,
    MisusedProcessArguments, ParentOnlyState,
)

RULES_BY_CODE: dict[str, type[Rule]] = {rule.code: rule for rule in ALL_RULES}

__all__ = ["ALL_RULES", "RULES_BY_CODE", "Explanation", "Invalid", "Rule", "RuleContext", "Valid"]
