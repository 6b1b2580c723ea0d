"""The diagnosis of a network of one's own: every kind fires on its known-bad step, and stays quiet otherwise.

Each known-bad step is tests/network_steps.py's vectorized step with one line
switched, audited in this process against Keras (its side computed once per
network) under two inits; the assertion is the exact list of findings, so every
other kind is shown quiet on it, and the correct steps get none. Two networks,
two losses: one row at a time with squared error, and batches of 3 (the last
one partial) with softmax cross-entropy.

The property test plants one bug in a step for a drawn network and runs the
diagnosis on forced steps built by manual/ alone (the true gradients manual's,
which the harness proves equal to Keras's), so that a draw costs no Keras run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from comparisons.audit import audit
from comparisons.audit.findings import KINDS, ForcedSteps
from comparisons.audit.network_diagnosis import diagnose_network
from comparisons.data import synthetic_data
from comparisons.spec import Spec, random_params, row_order
from manual.batch.optimizers import OptimizerConfig
from manual.batch.training import backward, batch_loss, batch_rows, forward, row_losses
from manual.network import Architecture, Params, in_document_order
from tests.network_steps import network_step

SGD = OptimizerConfig("sgd", 0.05)
INITS = ["random", "keras"]
ONE_ROW = Spec((3, 4, 4, 2), ("tanh", "sigmoid", "linear"), "mean_squared_error", SGD, batch_size=1, rows=6, epochs=2)
BATCHES = Spec(
    (3, 4, 4, 3), ("relu", "tanh", "softmax"), "categorical_crossentropy", SGD, batch_size=3, rows=8, epochs=2
)
NETWORKS = {"one-row-mse": ONE_ROW, "batches-of-3-softmax": BATCHES}

EVERY = ["W1", "b1", "W2", "b2", "W3", "b3"]
BELOW_3 = EVERY[:4]
LOSS = ["loss"]

Found = tuple[str, list[str], int | None, float | None, str | None]


def found(
    kind: str, parameters: list[str], layer: int | None = None, factor: float | None = None, other: str | None = None
) -> Found:
    return (kind, parameters, layer, factor, other)


# (network, bug, the layer it is planted in) -> the findings: one line per known-bad step
KNOWN_BAD = {
    ("one-row-mse", "activation-derivative", 1): [found("activation-derivative", ["W1", "b1"], 1)],
    ("one-row-mse", "activation-derivative", 2): [found("activation-derivative", BELOW_3, 2)],
    ("one-row-mse", "loss-gradient", 3): [found("loss-gradient", EVERY, 3, 0.5)],
    ("one-row-mse", "transposed", 2): [found("transposed", ["W2"], 2)],
    ("one-row-mse", "backprop-through-W", 2): [found("transposed", ["W1", "b1"], 2)],
    ("one-row-mse", "db-summed-over-units", 2): [found("batch-reduction", ["b2"], 2)],
    ("one-row-mse", "stale-weights", 3): [found("stale-weights", BELOW_3, 3)],
    ("one-row-mse", "not-updated", 1): [found("not-updated", ["b1"], 1)],
    ("one-row-mse", "other-gradient", 1): [found("other-gradient", ["b1"], 1, other="b2")],
    ("one-row-mse", "sign", 2): [found("sign", ["b2"], 2, -1.0)],
    ("one-row-mse", "scaled", 1): [found("scaled", ["b1"], 1, 10.0)],
    ("one-row-mse", "forward", 3): [found("forward", LOSS)],
    ("one-row-mse", "loss-after-update", 3): [found("loss-after-update", LOSS)],
    ("one-row-mse", "wrong", 1): [found("wrong", ["W1"], 1)],
    ("batches-of-3-softmax", "activation-derivative", 1): [found("activation-derivative", ["W1", "b1"], 1)],
    ("batches-of-3-softmax", "activation-derivative", 2): [found("activation-derivative", BELOW_3, 2)],
    ("batches-of-3-softmax", "loss-gradient", 3): [found("loss-gradient", EVERY, 3)],
    ("batches-of-3-softmax", "batch-reduction", 3): [found("batch-reduction", EVERY, 3, 3.0)],
    ("batches-of-3-softmax", "first-row-only", 2): [found("first-row-only", ["b2"], 2)],
    ("batches-of-3-softmax", "transposed", 2): [found("transposed", ["W2"], 2)],
    ("batches-of-3-softmax", "backprop-through-W", 2): [found("transposed", ["W1", "b1"], 2)],
    ("batches-of-3-softmax", "db-summed-over-units", 1): [found("batch-reduction", ["b1"], 1)],
    ("batches-of-3-softmax", "stale-weights", 2): [found("stale-weights", ["W1", "b1"], 2)],
    ("batches-of-3-softmax", "stale-weights", 3): [found("stale-weights", BELOW_3, 3)],
    ("batches-of-3-softmax", "not-updated", 1): [found("not-updated", ["b1"], 1)],
    ("batches-of-3-softmax", "other-gradient", 1): [found("other-gradient", ["b1"], 1, other="b2")],
    ("batches-of-3-softmax", "sign", 2): [found("sign", ["b2"], 2, -1.0)],
    ("batches-of-3-softmax", "scaled", 1): [found("scaled", ["b1"], 1, 10.0)],
    ("batches-of-3-softmax", "forward", 3): [found("forward", LOSS)],
    ("batches-of-3-softmax", "loss-after-update", 3): [found("loss-after-update", LOSS)],
    ("batches-of-3-softmax", "wrong", 1): [found("wrong", ["W1"], 1)],
}

# A correct step in another style: the batch's mean taken at the end of each gradient, not in the delta.
MEAN_AT_THE_END = """
import numpy as np


def step(params, x, y, lr):
    X, Y = np.atleast_2d(x), np.atleast_2d(y)
    B = len(X)
    A1 = np.maximum(X @ params["W1"] + params["b1"], 0)
    A2 = np.tanh(A1 @ params["W2"] + params["b2"])
    Z3 = A2 @ params["W3"] + params["b3"]
    E = np.exp(Z3 - Z3.max(axis=1, keepdims=True))
    Y_hat = E / E.sum(axis=1, keepdims=True)
    loss = -np.sum(Y * np.log(Y_hat)) / B
    dZ3 = Y_hat - Y
    dZ2 = dZ3 @ params["W3"].T * (1 - A2**2)
    dZ1 = dZ2 @ params["W2"].T * (A1 > 0)
    new = {}
    for k, (A, dZ) in enumerate([(X, dZ1), (A1, dZ2), (A2, dZ3)], start=1):
        new[f"W{k}"] = params[f"W{k}"] - lr * (A.T @ dZ) / B
        new[f"b{k}"] = params[f"b{k}"] - lr * dZ.sum(axis=0) / B
    return new, loss
"""


def diagnosed(tmp_path: Path, network: Spec, source: str, inits: list[str] = INITS) -> tuple[str, list[Found]]:
    path = tmp_path / "step.py"
    path.write_text(source)
    result = audit(path, "step", network, inits, memory=None, known_bugs=False)
    return result.verdict, [(f.kind, f.parameters, f.layer, f.factor, f.other) for f in result.findings]


@pytest.mark.parametrize(
    ("network", "bug", "layer"), list(KNOWN_BAD), ids=[f"{n}-{b}-layer{layer}" for n, b, layer in KNOWN_BAD]
)
def test_each_known_bad_step_gets_its_finding_and_no_other(tmp_path: Path, network: str, bug: str, layer: int) -> None:
    spec = NETWORKS[network]
    verdict, findings = diagnosed(tmp_path, spec, network_step(spec.activations, spec.loss, bug, layer))
    assert (verdict, findings) == ("diverged", KNOWN_BAD[network, bug, layer])


def test_the_known_bad_steps_get_the_same_findings_in_float32(tmp_path: Path) -> None:
    """float32's noise (tolerances.py's DIAGNOSIS_RTOL) neither hides a finding nor adds one."""
    batches = {(n, b, layer): expected for (n, b, layer), expected in KNOWN_BAD.items() if n == "batches-of-3-softmax"}
    spec = BATCHES.with_(dtype="float32")
    source = {case: network_step(spec.activations, spec.loss, *case[1:]) for case in batches}
    assert {case: diagnosed(tmp_path, spec, source[case], ["random"])[1] for case in batches} == batches
    assert diagnosed(tmp_path, spec, MEAN_AT_THE_END, ["random"]) == ("match", [])


@pytest.mark.parametrize(
    ("network", "source"),
    [
        pytest.param("one-row-mse", network_step(ONE_ROW.activations, ONE_ROW.loss), id="one-row-mse-template"),
        pytest.param("batches-of-3-softmax", network_step(BATCHES.activations, BATCHES.loss), id="batches-template"),
        pytest.param("batches-of-3-softmax", MEAN_AT_THE_END, id="batches-mean-at-the-end"),
    ],
)
def test_correct_steps_get_no_finding(tmp_path: Path, network: str, source: str) -> None:
    assert diagnosed(tmp_path, NETWORKS[network], source) == ("match", [])


@pytest.mark.parametrize("bug", ["batch-reduction", "first-row-only"])
def test_a_batch_slip_cannot_show_one_row_at_a_time(tmp_path: Path, bug: str) -> None:
    """Summing over a batch of one, or taking its first row, is the right gradient: nothing to say."""
    assert diagnosed(tmp_path, ONE_ROW, network_step(ONE_ROW.activations, ONE_ROW.loss, bug, 2)) == ("match", [])


def test_every_kind_of_the_template_has_a_known_bad_step() -> None:
    from tests.network_steps import BUGS

    assert {bug for _, bug, _ in KNOWN_BAD} == set(BUGS)
    assert {f[0] for findings in KNOWN_BAD.values() for f in findings} | {"from-other-parameter"} == set(KINDS)


# The property: a bug planted in a drawn network is found, and nothing else is said.

OUTPUTS = [
    ("linear", "mean_squared_error"),
    ("sigmoid", "mean_squared_error"),
    ("sigmoid", "binary_crossentropy"),
    ("softmax", "categorical_crossentropy"),
    ("softmax", "sparse_categorical_crossentropy"),
]


@st.composite
def planted(draw: st.DrawFn) -> tuple[Spec, str, int]:
    hidden = draw(st.lists(st.integers(2, 4), min_size=1, max_size=2))  # one unit: a dead relu hides too much
    output, loss = draw(st.sampled_from(OUTPUTS))
    n_out = draw(st.integers(2 if output == "softmax" else 1, 3))
    sizes = (draw(st.integers(1, 3)), *hidden, n_out)
    activations = (
        *draw(
            st.lists(st.sampled_from(["tanh", "sigmoid", "relu", "linear"]), min_size=len(hidden), max_size=len(hidden))
        ),
        output,
    )
    L = len(activations)
    batch = draw(st.integers(1, 3))
    spec = Spec(
        sizes,
        activations,
        loss,
        SGD,
        batch_size=batch,
        rows=draw(st.integers(6, 9)),
        epochs=1,
        init="random",
        seed=draw(st.integers(0, 3)),
    )
    choices = [("activation-derivative", k) for k in range(1, L)]
    choices += [
        ("loss-gradient", L),
        ("stale-weights", draw(st.integers(2, L))),
        ("not-updated", draw(st.integers(1, L))),
    ]
    choices += [("sign", draw(st.integers(1, L))), ("scaled", draw(st.integers(1, L))), ("wrong", 1)]
    choices += [("transposed", k) for k in range(1, L + 1) if sizes[k - 1] == sizes[k]]
    choices += [("backprop-through-W", k) for k in range(2, L + 1) if sizes[k - 1] == sizes[k]]
    choices += [("db-summed-over-units", k) for k in range(1, L + 1) if sizes[k] > 1]
    choices += [("other-gradient", k) for k in range(1, L) if sizes[k] == sizes[k + 1]]
    if batch > 1:
        choices += [("batch-reduction", L), ("first-row-only", draw(st.integers(1, L)))]
    bug, layer = draw(st.sampled_from(choices))
    return spec, bug, layer


def forced_by_manual(spec: Spec, source: str) -> list[ForcedSteps]:
    """One init's teacher-forced pass, every state and true gradient from manual/: the user's step
    from each state of the correct trajectory, on its batch."""
    arch: Architecture = spec.arch
    X, Y = synthetic_data(spec)
    params: Params = random_params(arch, spec.dtype, spec.seed)
    namespace: dict[str, Any] = {}
    exec(compile(source, "step.py", "exec"), namespace)  # the test's own template
    lr = spec.learning_rate
    rows: dict[str, list[Any]] = {k: [] for k in ("states", "grads", "loss", "new", "user_loss", "bx", "by")}
    for batch in batch_rows(row_order(spec, len(X)), spec.batch_size):
        x, y = X[batch], Y[batch]
        outputs, z = forward(arch, params, x)
        grads = backward(arch, params, outputs, y)
        one = len(batch) == 1
        new, user_loss = namespace["step"](
            {k: v.copy() for k, v in params.items()}, x[0] if one else x, y[0] if one else y, lr
        )
        rows["states"].append(in_document_order(arch, params))
        rows["grads"].append(in_document_order(arch, grads))
        rows["loss"].append(batch_loss(row_losses(arch.loss, y, outputs[-1], z)))
        rows["new"].append(in_document_order(arch, {k: np.asarray(v, dtype=spec.dtype) for k, v in new.items()}))
        rows["user_loss"].append(user_loss)
        rows["bx"].append(x)
        rows["by"].append(y)
        params = {key: params[key] - lr * grads[key] for key in params}
    K = len(rows["states"])
    return [
        ForcedSteps(
            init="random",
            epochs=np.ones(K, dtype=int),
            steps=np.arange(1, K + 1),
            states=np.array(rows["states"], dtype=np.float64),
            X=np.array([x[0] for x in rows["bx"]]),
            y=np.array([y[0] for y in rows["by"]]),
            true_grads=np.array(rows["grads"], dtype=np.float64),
            keras_loss=np.array(rows["loss"], dtype=np.float64),
            user_new=np.array(rows["new"], dtype=np.float64),
            user_loss=np.array(rows["user_loss"], dtype=np.float64),
            batch_x=rows["bx"],
            batch_y=rows["by"],
        )
    ]


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(planted())
@example(  # np.sum(dZ) over a softmax output's units is 0: said as no update, with that reason
    (
        Spec((3, 3, 3, 3), ("tanh", "tanh", "softmax"), "categorical_crossentropy", SGD, rows=6, epochs=1),
        "db-summed-over-units",
        3,
    )
)
def test_a_bug_planted_in_any_network_is_found_and_nothing_else(case: tuple[Spec, str, int]) -> None:
    spec, bug, layer = case
    findings = diagnose_network(
        spec.arch,
        spec.learning_rate,
        spec.dtype,
        forced_by_manual(spec, network_step(spec.activations, spec.loss, bug, layer)),
    )
    assume(findings)  # [] only where nothing deviates: the draw hides the bug (a relu never negative, say)
    said = [(f.kind, f.message) for f in findings]
    assert {f.kind for f in findings} == {_reading(spec, bug, layer)}, (bug, layer, said)
    if (bug, _reading(spec, bug, layer)) == ("batch-reduction", "loss-gradient"):  # the message gives both readings
        assert all("the batch's sum" in f.message for f in findings), said
    if (bug, _reading(spec, bug, layer)) == ("db-summed-over-units", "not-updated"):
        assert all("np.sum(dZ), without axis=0" in f.message for f in findings), said


KIND_OF = {"backprop-through-W": "transposed", "db-summed-over-units": "batch-reduction"}


def _reading(spec: Spec, bug: str, layer: int) -> str:
    """The kind the planted bug is reported as: its own, except where a factor is also every batch's size.
    Summing over n outputs at batches of n rows is said as the loss's sum, its message naming the batch's."""
    sizes = {len(rows) for rows in batch_rows(row_order(spec, spec.rows), spec.batch_size)}
    if bug == "db-summed-over-units" and spec.activations[-1] == "softmax" and layer == len(spec.activations):
        return "not-updated"  # a softmax output's bias gradient sums to 0: no update, the message says why
    if bug in KIND_OF:
        return KIND_OF[bug]
    averaged = spec.loss in ("mean_squared_error", "binary_crossentropy")
    if bug == "batch-reduction" and averaged and sizes == {spec.layers[-1]} and spec.layers[-1] > 1:
        return "loss-gradient"
    return bug


@pytest.mark.parametrize(
    ("bug", "layer", "also", "expected"),
    [
        pytest.param(
            "activation-derivative",
            2,
            ('if BUG == "not-updated" and k == LAYER:', "if k == 1:"),
            [found("activation-derivative", ["W1", "W2", "b2"], 2), found("not-updated", ["b1"], 1)],
            id="a-wrong-slope-and-b1-never-updated",
        ),
        pytest.param(
            "stale-weights",
            3,
            ('if BUG == "sign" and k == LAYER:', "if k == 3:"),
            [found("stale-weights", BELOW_3, 3), found("sign", ["b3"], 3, -1.0)],
            id="a-stale-w3-and-b3-ascending",
        ),
    ],
)
def test_two_mistakes_at_once_get_a_finding_each(
    tmp_path: Path, bug: str, layer: int, also: tuple[str, str], expected: list[Found]
) -> None:
    """The cause explains what it can (b1's update, never made, is not the slope's), the slip the rest."""
    source = network_step(BATCHES.activations, BATCHES.loss, bug, layer).replace(*also)
    assert diagnosed(tmp_path, BATCHES, source) == ("diverged", expected)
