"""The rule registry. A new rule is a module here and one line in ALL_RULES."""

from __future__ import annotations

from .base import Explanation, Invalid, Rule, RuleContext, Valid
from .mp101_fork_only_api import ForkOnlyApi
from .mp201_unguarded_process_start import UnguardedProcessStart
from .mp202_missing_freeze_support import MissingFreezeSupport
from .mp301_process_per_item import ProcessPerItem
from .mp302_unclosed_pool import UnclosedPool
from .mp303_join_before_drain import JoinBeforeDrain
from .mp304_too_many_windows_workers import TooManyWindowsWorkers
from .mp305_results_after_pool_exit import ResultsAfterPoolExit
from .mp306_unjoined_process_with_primitive import UnjoinedProcessWithPrimitive

ALL_RULES: tuple[type[Rule], ...] = (
    ForkOnlyApi, UnguardedProcessStart, MissingFreezeSupport, ProcessPerItem, UnclosedPool, JoinBeforeDrain, TooManyWindowsWorkers,
    ResultsAfterPoolExit, UnjoinedProcessWithPrimitive,
)

RULES_BY_CODE: dict[str, type[Rule]] = {rule.code: rule for rule in ALL_RULES}

__all__ = ["ALL_RULES", "RULES_BY_CODE", "Explanation", "Invalid", "Rule", "RuleContext", "Valid"]
