"""The pool the sweeps use, from one place: multiprocess (a hard dependency; it pickles with
dill, which sends lambdas and closures by value), the standard library's where it is missing."""

try:
    import multiprocess as mp
    from multiprocess import Pool, cpu_count
except ImportError:
    import multiprocessing as mp
    from multiprocessing import Pool, cpu_count
