"""One cache of trajectories for the whole session: each is computed once, not once per test.

The disk cache lives in a folder of the session's own, never the user's.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator

import pandas as pd
import pytest
from hypothesis import settings

from comparisons import Spec, initial_params, run_keras, run_manual
from manual import Params, Step
from reference import numerics, runner

numerics.configure()  # before any test module imports keras: every worker's TensorFlow as the CLI's

# Property tests: few, fixed examples by default (CI's time budget); HYPOTHESIS_PROFILE=sweep
# draws many more, at random, for a local search
settings.register_profile("ci", max_examples=6, derandomize=True, deadline=None, database=None)
settings.register_profile("sweep", max_examples=300, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


class Trajectories:
    @functools.cache  # noqa: B019  # the instance lives for the session, which is the point
    def initial(self, spec: Spec) -> Params:
        return initial_params(spec)

    @functools.cache  # noqa: B019
    def keras(self, spec: Spec) -> pd.DataFrame:
        return run_keras(spec, self.initial(spec))

    @functools.cache  # noqa: B019
    def manual(self, spec: Spec, implementation: str) -> pd.DataFrame:
        return self.run(spec, implementation)

    def run(self, spec: Spec, implementation: str | Step) -> pd.DataFrame:
        return run_manual(spec, implementation, self.initial(spec))


@pytest.fixture(scope="session", autouse=True)
def _keras_where_its_jobs_run() -> None:
    """Under TF_ENABLE_ONEDNN_OPTS=1 the Keras side runs in a child process: started here, once per
    worker, so its notice and its TensorFlow import fall in no test."""
    if runner.in_child():
        runner.prepare()


@pytest.fixture(scope="session")
def trajectories() -> Trajectories:
    return Trajectories()


@pytest.fixture(scope="session", autouse=True)
def _disk_cache_of_the_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    saved = os.environ.get("XDG_CACHE_HOME")
    # one folder for every xdist worker of the run: a trajectory one worker computed, another reads
    # (entries are written whole, by rename, and keyed by the environment)
    shared = tmp_path_factory.getbasetemp().parent if "PYTEST_XDIST_WORKER" in os.environ else None
    folder = shared / "xdg-cache" if shared is not None else tmp_path_factory.mktemp("xdg-cache")
    folder.mkdir(exist_ok=True)
    os.environ["XDG_CACHE_HOME"] = str(folder)
    yield
    if saved is None:
        del os.environ["XDG_CACHE_HOME"]
    else:
        os.environ["XDG_CACHE_HOME"] = saved
