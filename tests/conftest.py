"""One cache of trajectories for the whole session: each is computed once, not once per test."""

from __future__ import annotations

import functools

import pandas as pd
import pytest

from comparisons import RunSpec, initial_params, manual_step, run_keras, run_manual
from manual import Params, Step


class Trajectories:
    @functools.cache  # noqa: B019  # the instance lives for the session, which is the point
    def initial(self, spec: RunSpec) -> Params:
        return initial_params(spec)

    @functools.cache  # noqa: B019
    def keras(self, spec: RunSpec) -> pd.DataFrame:
        return run_keras(spec, self.initial(spec))

    @functools.cache  # noqa: B019
    def manual(self, spec: RunSpec, implementation: str) -> pd.DataFrame:
        return self.run(spec, manual_step(spec, implementation))

    def run(self, spec: RunSpec, step: Step) -> pd.DataFrame:
        return run_manual(spec, step, self.initial(spec))


@pytest.fixture(scope="session")
def trajectories() -> Trajectories:
    return Trajectories()
