"""Shared pytest configuration: hypothesis settings profiles.

``default``: a bounded number of generated examples per property, so ``make test`` stays fast,
and derandomized: the same examples on every run, so CI passes or fails on the code, never on
the luck of the draw.
``fuzz``: many more examples, fresh ones on every run, for ``make fuzz``
(``pytest --hypothesis-profile=fuzz tests/test_properties.py``); what it finds becomes a
deterministic test.

Deadlines are off in both: the machine the suite runs on is shared, so wall-clock time per
example is noisy.  Hangs are caught instead by an explicit per-example time limit in the tests
that could hang (see ``tests/test_properties.py``).
"""

import os

# scikit-learn's estimator checks include check_array_api_input, which skips itself unless
# scipy's array-API mode is on; it must be set before scipy is first imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import pytest
from hypothesis import HealthCheck, settings  # noqa: E402

#: examples per property test in the two profiles (quoted in the README)
DEFAULT_EXAMPLES = 25
FUZZ_EXAMPLES = 1000

_common = dict(deadline=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                      HealthCheck.filter_too_much])

settings.register_profile("default", max_examples=DEFAULT_EXAMPLES, derandomize=True, **_common)
settings.register_profile("fuzz", max_examples=FUZZ_EXAMPLES, derandomize=False, **_common)



@pytest.fixture(scope="module")
def single_threaded_blas():
    """Run a module's many small fits with one BLAS thread: on a machine whose cores are
    shared, multithreaded BLAS on small matrices is many times slower than one thread."""
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def client():
    """A real Dask cluster for a module's tests: a LocalCluster of two worker processes (one
    thread each) on 127.0.0.1, no dashboard."""
    from dask.distributed import Client, LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, memory_limit="1GiB") as cluster:
        with Client(cluster) as c:
            yield c
