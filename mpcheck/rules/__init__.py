"""The rule registry. A new rule is a module here and one line in ALL_RULES."""

from __future__ import annotations

from .base import Explanation, Invalid, Rule, RuleContext, Valid
from .mp101_fork_only_api import ForkOnlyApi
from .mp102_start_method_at_import import StartMethodAtImport
from .mp103_fork_only_module import ForkOnlyModule
from .mp201_unguarded_process_start import UnguardedProcessStart
from .mp202_missing_freeze_support import MissingFreezeSupport
from .mp301_process_per_item import ProcessPerItem
from .mp302_unclosed_pool import UnclosedPool
from .mp303_join_before_drain import JoinBeforeDrain
from .mp304_too_many_windows_workers import TooManyWindowsWorkers
from .mp305_results_after_pool_exit import ResultsAfterPoolExit
from .mp306_unjoined_process_with_primitive import UnjoinedProcessWithPrimitive
from .mp401_unpicklable_callable import UnpicklableCallable
from .mp402_unpicklable_argument import UnpicklableArgument
from .mp403_misused_process_arguments import MisusedProcessArguments
from .mp501_parent_only_state import ParentOnlyState
from .mp601_output_at_package_import import OutputAtPackageImport
from .mp701_queue_qsize import QueueQsize
from .mp702_reuse_port_and_shared_socket import ReusePortAndSharedSocket
from .mp703_shared_memory_tracked_attach import SharedMemoryTrackedAttach

ALL_RULES: tuple[type[Rule], ...] = (
    ForkOnlyApi, StartMethodAtImport, ForkOnlyModule, UnguardedProcessStart, MissingFreezeSupport,
    ProcessPerItem, UnclosedPool, JoinBeforeDrain, TooManyWindowsWorkers, ResultsAfterPoolExit,
    UnjoinedProcessWithPrimitive, UnpicklableCallable, UnpicklableArgument, MisusedProcessArguments,
    ParentOnlyState, OutputAtPackageImport, QueueQsize, ReusePortAndSharedSocket, SharedMemoryTrackedAttach,
)

RULES_BY_CODE: dict[str, type[Rule]] = {rule.code: rule for rule in ALL_RULES}

__all__ = ["ALL_RULES", "RULES_BY_CODE", "Explanation", "Invalid", "Rule", "RuleContext", "Valid"]
