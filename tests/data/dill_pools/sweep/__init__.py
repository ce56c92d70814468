"""Parameter sweeps over a process pool (pathos's shape: a dill-based pool re-exported by
the package's helpers)."""
