"""The optimizer audit (comparisons/audit/optimizer_audit.py) on learners' own optimizers.

Each file is tests/optimizer_files.py's: deeplearning.ai's functions or a class whose update is one
of manual/'s forms, a convention (every one must be named, and nothing found) or a known mistake
(every one must be found as its own kind, and no other), and files written by hand as learners
write them. Audited in this process (``memory=None``) on two epochs of four steps under one init:
the judge replays each convention from the learner's own state, so a few steps say it all.

The property test draws the optimizer, the form, the learning rate and the hyperparameters (given
to the learner's code, as the CLI's --beta1 and the like do) and asks the same. Bad input goes
through the CLI: one line, exit 2.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from comparisons.audit import optimizer_verdict
from comparisons.audit.optimizer_audit import KERAS_NAMES, OptimizerAudit, audit_optimizer, optimizer_spec
from comparisons.audit.optimizer_verdict import OptimizerRun
from comparisons.audit.render.json import optimizer_json
from comparisons.audit.render.text import optimizer_text
from comparisons.cli.main import main
from comparisons.spec import Spec
from comparisons.tolerances import AUDIT_FLOOR, AUDIT_THRESHOLDS
from comparisons.ulp import relative_distance
from manual.batch.conventions import CONVENTIONS
from manual.batch.optimizer_bugs import OPTIMIZER_BUGS
from manual.batch.optimizers import OptimizerConfig
from manual.network import Architecture, from_document_order
from tests.optimizer_files import (
    BOOK_ADAM,
    BOOK_RMSPROP,
    CLASS_KINDS,
    DLAI_ADAM,
    DLAI_ADAM_BETA2_TYPO,
    DLAI_ADAM_EPSILON_INSIDE,
    DLAI_KINDS,
    DLAI_MOMENTUM,
    SHAPE_SLIPS,
    class_source,
    dlai_source,
)
from tests.test_optimizer_bugs import FIRST_SHOWS

LR = 0.01
EPOCHS = 2  # of 4 steps: every mistake shows by step 2
KINDS = {"dlai": DLAI_KINDS, "class": CLASS_KINDS}
SOURCES = {"dlai": dlai_source, "class": class_source}

_names = itertools.count()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("optimizers")


def audit(
    folder: Path,
    contract: str,
    kind: str,
    source: str,
    lr: float = LR,
    epochs: int = EPOCHS,
    keras: bool = False,
    **given: float,
) -> OptimizerAudit:
    """The learner's ``source`` audited in this process under init random; ``given``: the
    hyperparameters the audit is told, beside the learning rate; ``keras``: Keras's own optimizer
    too (a graph compiled per optimizer and hyperparameters: only where a test reads its line)."""
    path = folder / f"optimizer_{next(_names)}.py"
    path.write_text(source)
    spec = optimizer_spec(kind, lr, epochs=epochs)
    return audit_optimizer(
        path, contract, kind, spec, ["random"], {"learning_rate": lr, **given}, memory=None, keras=keras
    )


_planted: dict[tuple[str, str, str], OptimizerAudit] = {}


def planted_audit(folder: Path, contract: str, kind: str, name: str) -> OptimizerAudit:
    """The audit of ``contract``'s file for the convention or known mistake ``name``, once per worker."""
    key = (contract, kind, name)
    if key not in _planted:
        _planted[key] = audit(folder, contract, kind, SOURCES[contract](kind, name))
    return _planted[key]


def kinds(result: OptimizerAudit) -> set[str]:
    return {f.kind for f in result.findings}


CONVENTION_CASES = [
    pytest.param(contract, kind, name, id=f"{contract}-{kind}-{name}")
    for contract, optimizers in KINDS.items()
    for kind in optimizers
    for name in CONVENTIONS[kind]
]
BUG_CASES = [
    pytest.param(contract, bug.optimizer, name, id=f"{contract}-{name}")
    for contract, optimizers in KINDS.items()
    for name, bug in OPTIMIZER_BUGS.items()
    if bug.optimizer in optimizers
]


@pytest.mark.parametrize(("contract", "kind", "name"), CONVENTION_CASES)
def test_every_convention_is_named(folder: Path, contract: str, kind: str, name: str) -> None:
    result = planted_audit(folder, contract, kind, name)
    assert (result.verdict, result.convention, result.findings) == ("match", name, [])


@pytest.mark.parametrize(("contract", "kind", "name"), BUG_CASES)
def test_every_known_mistake_is_its_own_kind(folder: Path, contract: str, kind: str, name: str) -> None:
    # first-moment-without-gradient never moves a weight (m stays 0), and could read as not-updated:
    # the known mistakes are tried first (optimizer_verdict._explain), and it reproduces every update
    result = planted_audit(folder, contract, kind, name)
    assert (result.verdict, result.convention, kinds(result)) == ("diverged", None, {OPTIMIZER_BUGS[name].kind})


# The step each mistake first shows at: the first at which it parts from the convention it is
# written on (tests/test_optimizer_bugs.py measures it against every convention): 2 where its first
# update is that convention's (a state that starts from 0 anyway, a bias correction right at t = 1,
# m_hat = g at t = 1), 1 where it parts at once (momentum's raw gradient against v = (1 - beta) g).


@pytest.mark.parametrize(("contract", "kind", "name"), BUG_CASES)
def test_every_known_mistake_first_shows_where_it_does(folder: Path, contract: str, kind: str, name: str) -> None:
    result = planted_audit(folder, contract, kind, name)
    written_on = optimizer_verdict.base_convention(kind, OPTIMIZER_BUGS[name].form)
    assert written_on is not None
    assert [f.first for f in result.findings] == [{"init": "random", "step": FIRST_SHOWS[name][written_on]}]


# Hand-written, as learners hand them in: the verdict, the convention, the findings' kinds


@pytest.mark.parametrize(
    ("contract", "kind", "source", "verdict", "convention", "found"),
    [
        pytest.param("dlai", "adam", DLAI_ADAM, "match", "textbook", set(), id="dlai-adam"),
        pytest.param(
            "dlai", "adam", DLAI_ADAM_EPSILON_INSIDE, "diverged", None, {"epsilon-placement"}, id="dlai-adam-eps"
        ),
        pytest.param("dlai", "adam", DLAI_ADAM_BETA2_TYPO, "diverged", "textbook", {"hyperparameter"}, id="beta2"),
        pytest.param("dlai", "momentum", DLAI_MOMENTUM, "match", "deeplearning.ai", set(), id="dlai-momentum"),
        pytest.param("class", "adam", BOOK_ADAM, "match", "keras", set(), id="book-adam"),
        pytest.param("class", "rmsprop", BOOK_RMSPROP, "match", "pytorch", set(), id="book-rmsprop"),
    ],
)
def test_hand_written_optimizers(
    folder: Path, contract: str, kind: str, source: str, verdict: str, convention: str | None, found: set[str]
) -> None:
    result = audit(folder, contract, kind, source)
    assert (result.verdict, result.convention, kinds(result)) == (verdict, convention, found)
    assert all(f.first == {"init": "random", "step": 1} for f in result.findings)


def test_the_books_adam_is_keras_and_says_how_far_keras_is(folder: Path) -> None:
    result = audit(folder, "class", "adam", BOOK_ADAM, keras=True)
    text = optimizer_text(result)
    assert text.startswith("MATCH: ")
    assert "the keras convention" in text
    assert "Keras's own adam" in text
    assert 0 < result.keras < 1e-6  # Keras's beta_1 and beta_2 through float32, the book's exact


def test_a_default_beta2_of_001_is_said_in_the_signature(folder: Path) -> None:
    result = audit(folder, "dlai", "adam", DLAI_ADAM_BETA2_TYPO)
    assert result.hyper["beta_2"] == (0.01, "yours")
    assert [f.parameters for f in result.findings] == [["beta_2"]]
    assert "beta_2 = 0.01 is not the usual 0.999" in optimizer_text(result)
    # every update right for its beta_2, so every tensor's points, less the default's one
    assert result.feedback.splitlines() == [
        "Score: 9/10. Your optimizer is Kingma and Ba's Adam (PyTorch's, deeplearning.ai's), epsilon added to "
        "sqrt(v_hat) (the textbook convention), but with the findings below.",
        "Right: layer 1 weights (W1), layer 1 biases (b1), layer 2 weights (W2), layer 2 biases (b2).",
        "To check:",
        "- a default: your default beta_2 = 0.01 is not the usual 0.999: check the constant in your function's or "
        "class's signature",
        "1 point off for findings that name no parameter.",
    ]


def test_deeplearning_ais_momentum_in_json(folder: Path) -> None:
    out = optimizer_json(audit(folder, "dlai", "momentum", DLAI_MOMENTUM))
    assert (out["verdict"], out["convention"], out["contract"]) == ("match", "deeplearning.ai", "dlai")
    assert out["hyperparameters"]["momentum"] == {"value": 0.9, "source": "yours"}
    assert out["diagnosis"]["findings"] == []


# Bad input: exit 2, one line on stderr

TWO_CLASSES = """\
class Fast:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key in params:
            params[key] -= self.lr * grads[key]


class Slow(Fast):
    def update(self, params, grads):
        for key in params:
            params[key] -= 0.5 * self.lr * grads[key]
"""
NO_UPDATE = "def initialize_adam(parameters):\n    return {}, {}\n"
TWO_VALUES = NO_UPDATE + (
    "\n\ndef update_parameters_with_adam(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999,"
    " epsilon=1e-8):\n    return parameters, v\n"
)


def cli(capsys: pytest.CaptureFixture[str], folder: Path, source: str, arguments: str) -> tuple[int, str, str]:
    """``python -m comparisons audit`` on ``source`` written to a file, ``{path}`` in ``arguments``."""
    path = folder / f"optimizer_{next(_names)}.py"
    path.write_text(source)
    status = main(["audit", *arguments.format(path=path).split(), "--init", "random", "--epochs", "1"])
    out, err = capsys.readouterr()
    return status, out, err


# what the file holds, the command line ({path} the file), and what the one line says
BAD = {
    "no-update": (NO_UPDATE, "{path} --contract dlai", "defines no function 'update_parameters_with_adam'"),
    "two-classes": (TWO_CLASSES, "{path} --contract class", "several with an update(params, grads) method: Fast, Slow"),
    "two-values": (TWO_VALUES, "{path} --contract dlai", "update_parameters_with_adam must return (parameters, v, s)"),
    "no-contract": (
        DLAI_ADAM,
        "{path} --optimizer adam",
        "--optimizer describes a learner's optimizer: give --contract",
    ),
    "beta1-alone": (DLAI_ADAM, "{path} --beta1 0.9", "--beta1 describes a learner's optimizer: give --contract"),
    "function-named": (DLAI_ADAM, "{path}:update_parameters_with_adam --contract dlai", "finds its functions by name"),
    "dlai-rmsprop": (DLAI_ADAM, "{path} --contract dlai --optimizer rmsprop", "the dlai contract has no rmsprop"),
    "rho-for-adam": (DLAI_ADAM, "{path} --contract dlai --rho 0.9", "--rho: adam has no rho"),
    "problem": (DLAI_ADAM, "{path} --contract dlai --problem regression", "--problem: an optimizer is audited"),
    "bad-default": (
        DLAI_ADAM.replace("epsilon=1e-8", "epsilon=None"),
        "{path} --contract dlai",
        "update_parameters_with_adam's default epsilon=None is not a number",
    ),
}


@pytest.mark.parametrize(
    ("contract", "kind", "source", "found", "tensors"), list(SHAPE_SLIPS.values()), ids=list(SHAPE_SLIPS)
)
def test_an_update_that_changes_a_shape_is_a_finding(
    folder: Path, contract: str, kind: str, source: str, found: str, tensors: list[str]
) -> None:
    """The run stops at the step that changed a shape; the steps before it are judged as any others
    (here the first: nothing before it)."""
    result = audit(folder, contract, kind, source)
    assert (result.verdict, result.convention, result.steps) == ("diverged", None, 0)
    assert [(f.kind, f.parameters, f.first) for f in result.findings] == [
        (found, tensors, {"init": "random", "step": 1})
    ]
    assert "given back in " in result.findings[0].message
    # no update was judged: the tensors no finding names earn nothing either
    assert result.score == 0
    unnamed = {g.group: g.kinds for g in result.scored.groups if g.group not in tensors}
    assert unnamed == {t: ["not judged after init random, step 1"] for t in {"W1", "b1", "W2", "b2"} - set(tensors)}


def test_a_shape_changed_at_once_and_a_default_off_its_usual_value(folder: Path) -> None:
    from tests.optimizer_files import BOOK_MOMENTUM

    source = SHAPE_SLIPS["class-state"][2].replace("momentum=0.9", "momentum=0.8")
    assert source != SHAPE_SLIPS["class-state"][2]
    assert "momentum=0.9" in BOOK_MOMENTUM
    result = audit(folder, "class", "momentum", source)
    assert [(f.kind, f.first) for f in result.findings] == [
        ("hyperparameter", {"init": "random", "step": 1}),
        ("state", {"init": "random", "step": 1}),
    ]


def test_a_shape_change_that_changes_nothing_is_refused() -> None:
    """The child's record of a shape change must be one: a forged row naming the shape handed in
    would end the run, unjudged, at its first step."""
    import numpy as np_

    from comparisons.audit import protocol
    from comparisons.errors import InputError

    arch = optimizer_spec("momentum", LR).arch
    changed = np_.full((1, 4, protocol.CHANGED_WIDTH), -1, dtype=np_.int64)
    changed[0, 3, :3] = [0, 0, 3]  # b2 "given back" as (3,), the shape it was handed in the class contract
    with pytest.raises(InputError, match="a shape unchanged"):
        optimizer_verdict.shape_findings("class", arch, ["random"], changed)
    changed[0, 3, :4] = [0, 0, 3, 1]  # (3, 1): another shape, so a finding
    assert [f.kind for f in optimizer_verdict.shape_findings("class", arch, ["random"], changed)] == ["wrong"]


def test_a_shape_changed_late_keeps_the_steps_before_it(folder: Path) -> None:
    """A velocity reset to the wrong shape at step 3: steps 1 and 2 are deeplearning.ai's momentum."""
    source = DLAI_MOMENTUM.replace(
        "    L = len(parameters) // 2\n    for l in range(L):\n        v[",
        "    L = len(parameters) // 2\n    v['t'] = v.get('t', 0) + 1\n    for l in range(L):\n        v[",
    ).replace(
        'v["db" + str(l + 1)] = beta * v["db" + str(l + 1)]',
        'v["db" + str(l + 1)] = beta * (v["db" + str(l + 1)] if v["t"] < 3 else np.zeros((1, 7)))',
    )
    result = audit(folder, "dlai", "momentum", source)
    assert (result.verdict, result.steps) == ("diverged", 2)
    assert [(f.kind, f.parameters, f.first["step"]) for f in result.findings] == [("state", ["b1", "b2"], 3)]


def test_the_shapes_books_momentum_is_deeplearning_ais_keras(folder: Path) -> None:
    """The written-out-of-place book momentum the shape slips start from is Keras's own."""
    from tests.optimizer_files import BOOK_MOMENTUM

    result = audit(folder, "class", "momentum", BOOK_MOMENTUM)
    assert (result.verdict, result.convention) == ("match", "keras")


def test_an_error_names_the_init_and_the_step(capsys: pytest.CaptureFixture[str], folder: Path) -> None:
    source = DLAI_MOMENTUM.replace(
        "    L = len(parameters) // 2\n    for l in range(L):\n        v[",
        "    L = len(parameters) // 2\n    v['t'] = v.get('t', 0) + 1\n    assert v['t'] < 3\n"
        "    for l in range(L):\n        v[",
    )
    status, out, err = cli(capsys, folder, source, "{path} --contract dlai --optimizer sgd --momentum 0.9")
    assert (status, out) == (2, "")
    assert "raised AssertionError" in err, err
    assert "(init random, step 3: epoch 1, batch 3)" in err, err


@pytest.mark.parametrize(("source", "arguments", "said"), list(BAD.values()), ids=list(BAD))
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], folder: Path, source: str, arguments: str, said: str
) -> None:
    status, out, err = cli(capsys, folder, source, arguments)
    assert (status, out) == (2, "")
    assert err.count("\n") == 1, err
    assert said in err, err


def test_the_class_chosen_by_name_among_two(capsys: pytest.CaptureFixture[str], folder: Path) -> None:
    status, out, _ = cli(capsys, folder, TWO_CLASSES, "{path} --contract class --optimizer sgd --class Slow")
    assert status == 1
    assert ":Slow is none of sgd's conventions" in out
    assert "scaled" in out


# Drawn: the optimizer, a convention or a mistake, the learning rate and the hyperparameters


@st.composite
def planted(draw: st.DrawFn) -> tuple[str, str, str, float, dict[str, float]]:
    contract = draw(st.sampled_from(sorted(KINDS)))
    kind = draw(st.sampled_from(KINDS[contract]))
    bugs = [name for name, bug in OPTIMIZER_BUGS.items() if bug.optimizer == kind]
    name = draw(st.sampled_from([*CONVENTIONS[kind], *bugs]))
    lr = 10 ** draw(st.floats(-4, -1))
    beta_1 = draw(st.floats(0.5, 0.95))
    beta_2 = draw(st.floats(0.9, 0.9999).filter(lambda b: abs(b - beta_1) > 1e-3))  # else beta_1's v is beta_2's
    epsilon = draw(st.sampled_from([1e-8, 1e-7]))
    given = {
        "sgd": {},
        "momentum": {"momentum": beta_1},
        "adam": {"beta_1": beta_1, "beta_2": beta_2, "epsilon": epsilon},
        "rmsprop": {"rho": beta_2, "epsilon": epsilon},
        "adagrad": {"epsilon": epsilon},
    }[kind]
    return contract, kind, name, lr, given


@settings(max_examples=25, deadline=None, derandomize=True)
@given(planted())
def test_drawn_conventions_are_named_and_mistakes_found(
    folder: Path, case: tuple[str, str, str, float, dict[str, float]]
) -> None:
    contract, kind, name, lr, hyper = case
    result = audit(folder, contract, kind, SOURCES[contract](kind, name), lr, 1, False, **hyper)
    assert {n: v for n, (v, _) in result.hyper.items()} == {"learning_rate": lr, **hyper}
    if name in CONVENTIONS[kind]:
        # PyTorch's momentum is Keras's rounded differently: both within 1e-10, the nearer is named,
        # and where the roundings vanish in w (lr 1e-4) both are 0 away and Keras's, listed first, is
        alike = {"keras", "pytorch"} if kind == "momentum" and name in ("keras", "pytorch") else {name}
        assert (result.verdict, result.findings) == ("match", [])
        assert result.convention in alike
    else:
        assert (result.verdict, kinds(result)) == ("diverged", {OPTIMIZER_BUGS[name].kind})


def test_without_keras_the_verdict_is_the_same_and_keras_is_not_said(folder: Path) -> None:
    """Keras's own optimizer is a line beside a convention found, never part of the verdict."""
    with_keras = audit(folder, "dlai", "momentum", DLAI_MOMENTUM, keras=True)
    without = audit(folder, "dlai", "momentum", DLAI_MOMENTUM)
    assert (
        (with_keras.verdict, with_keras.convention)
        == (without.verdict, without.convention)
        == ("match", "deeplearning.ai")
    )
    assert "Keras's own momentum" in str(with_keras)
    assert "Keras's own" not in str(without)


def test_the_json_is_strict_where_keras_is_not_run(folder: Path) -> None:
    """A divergence runs no Keras: its distance is null, never NaN, which strict JSON readers refuse."""
    import json

    out = optimizer_json(audit(folder, "dlai", "adam", DLAI_ADAM_EPSILON_INSIDE))
    assert out["keras_distance"] is None
    json.dumps(out, allow_nan=False)


# A class as learners write one, whose update is Keras's Adam with its constants in the book's places:
# ATTRIBUTES sets its fields, EPSILON is hard-coded, STATE holds what else it keeps.
CLASS_ADAM = """
import numpy as np


class Adam:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, decay=0.0):
        ATTRIBUTES
        self.iter, self.m, self.v = 0, None, None

    def update(self, params, grads):
        if self.m is None:
            self.m = {k: np.zeros_like(v) for k, v in params.items()}
            self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.iter += 1
        lr_t = self.LR * np.sqrt(1.0 - self.beta2**self.iter) / (1.0 - self.beta1**self.iter)
        for key in params:
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key] ** 2 - self.v[key])
            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + EPSILON)
"""


def class_adam(lr_name: str = "lr", epsilon: str = "1e-7") -> str:
    fields = f"self.{lr_name}, self.beta1, self.beta2, self.decay = lr, beta1, beta2, decay"
    return CLASS_ADAM.replace("ATTRIBUTES", fields).replace("LR", lr_name).replace("EPSILON", epsilon)


@pytest.mark.parametrize(
    ("source", "given", "convention"),
    [
        pytest.param(class_adam(), {}, "keras", id="a-decay-field-is-not-a-hyperparameter"),
        pytest.param(class_adam("step_size"), {}, "keras", id="lr-kept-under-its-own-name"),
        pytest.param(class_adam(epsilon="1e-8"), {"epsilon": 1e-8}, "keras", id="epsilon-given-where-hard-coded"),
    ],
)
def test_a_class_is_read_as_its_optimizer_has_it(
    folder: Path, source: str, given: dict[str, float], convention: str
) -> None:
    """Only the optimizer's own hyperparameters are read (an Adam's decay is not RMSprop's rho), one
    stored under a name of its own runs at the audit's value, and a value given reaches the replay."""
    result = audit(folder, "class", "adam", source, LR, EPOCHS, True, **given)
    assert (result.verdict, result.convention, result.findings) == ("match", convention, [])
    assert set(result.hyper) <= {"learning_rate", "beta_1", "beta_2", "epsilon"}
    assert "Keras's own adam" in optimizer_text(result)


def test_a_momentum_keras_refuses_is_a_finding_not_a_crash(folder: Path) -> None:
    source = class_source("momentum").replace("momentum=0.9", "momentum=1.5")
    result = audit(folder, "class", "momentum", source, keras=True)
    assert "hyperparameter" in kinds(result)
    assert "Keras's own" not in optimizer_text(result)  # Keras takes no momentum above 1


def test_the_books_adagrad_is_pytorchs_convention(folder: Path) -> None:
    """Deep Learning from Scratch's AdaGrad: the sum from 0, 1e-7 added to sqrt(h): PyTorch's form."""
    book = """
import numpy as np


class AdaGrad:
    def __init__(self, lr=0.01):
        self.lr, self.h = lr, None

    def update(self, params, grads):
        if self.h is None:
            self.h = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params.keys():
            self.h[key] += grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)
"""
    result = audit(folder, "class", "adagrad", book)
    assert (result.verdict, result.convention) == ("match", "pytorch")


def test_a_forged_record_is_refused(folder: Path) -> None:
    """The child's record must be the run it was asked for: chained, and manual/'s gradients."""
    from comparisons.audit.optimizer_audit import _check_run, optimizer_context
    from comparisons.errors import InputError

    result = audit(folder, "dlai", "adam", DLAI_ADAM)
    assert result.verdict == "match"
    spec = optimizer_spec("adam", LR, epochs=EPOCHS).with_(init="random")
    context = optimizer_context(spec)
    honest = _planted_run(folder, spec)
    values = [honest.before, honest.grads, honest.after]
    steps = len(honest.before)
    _check_run(folder, spec.arch, context, values, steps)
    ended = [np.where(np.arange(steps)[:, None] < 3, a, np.nan) for a in values]
    _check_run(folder, spec.arch, context, ended, 3)  # a shape changed at step 4: the rest NaN
    forged = [
        [honest.before, honest.grads * 2, honest.after],
        [honest.before + 1, honest.grads, honest.after],
        values,  # said to end at step 4, and carrying on
    ]
    for run, said in zip(forged, (steps, steps, 3), strict=True):
        with pytest.raises(InputError, match="a run it did not make"):
            _check_run(folder, spec.arch, context, run, said)


def _planted_run(folder: Path, spec: Spec) -> OptimizerRun:
    """The child's honest record of the textbook Adam, run in this process."""
    from comparisons.audit import protocol
    from comparisons.audit.isolation import user_runs
    from comparisons.audit.optimizer_audit import optimizer_context

    path = folder / "forged_base.py"
    path.write_text(DLAI_ADAM)
    context = optimizer_context(spec)
    arch = spec.arch
    fields = {"contract": "dlai", "optimizer": "adam", "class": None, "given": {"learning_rate": LR}}
    job = protocol.make_job(
        str(path), fields | {"activations": list(arch.activations)}, list(arch.sizes), arch.loss, {"random": context}
    )
    outcome = user_runs(path, "update_parameters_with_adam", job, 0.0, None)
    return OptimizerRun("random", *(outcome["optimizer"]["random"][w] for w in protocol.OPTIMIZER_VALUES))


def test_nan_updates_give_strict_json(folder: Path) -> None:
    import json

    source = DLAI_ADAM.replace("learning_rate * step", "learning_rate * step * np.nan")
    out = optimizer_json(audit(folder, "dlai", "adam", source))
    assert out["verdict"] == "diverged"
    json.dumps(out, allow_nan=False)


# Drawn at the verdict itself, no file: the network, the gradients' scale (zeros among them), the
# hyperparameters and the form; the run is the form's own updates, each step's gradient drawn


@st.composite
def drawn_runs(draw: st.DrawFn) -> tuple[str, str, Architecture, OptimizerConfig, OptimizerRun]:
    kind = draw(st.sampled_from(CLASS_KINDS))
    bugs = [name for name, bug in OPTIMIZER_BUGS.items() if bug.optimizer == kind]
    name = draw(st.sampled_from([*CONVENTIONS[kind], *bugs]))
    sizes = tuple(draw(st.lists(st.integers(1, 5), min_size=2, max_size=4)))
    arch = Architecture(sizes, ("linear",) * (len(sizes) - 1), "mean_squared_error")
    beta_1 = draw(st.floats(0.5, 0.95))
    beta_2 = draw(st.floats(0.9, 0.9999).filter(lambda b: abs(b - beta_1) > 1e-3))
    config = OptimizerConfig(
        KERAS_NAMES[kind],
        10 ** draw(st.floats(-4, -1)),
        momentum=beta_1 if kind == "momentum" else 0.0,
        beta_1=beta_1,
        beta_2=beta_2,
        rho=beta_2,
        epsilon=draw(st.sampled_from([1e-8, 1e-7])),
    )
    steps = draw(st.integers(3, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    P = sum(int(np.prod(shape)) for _, shape in arch.shapes())
    scale = 10.0 ** rng.uniform(draw(st.integers(-9, -1)), 1, size=(steps, P))  # tiny to large, per entry
    grads = rng.normal(size=(steps, P)) * scale * (rng.random((steps, P)) > 0.2)  # a fifth exactly zero
    form = CONVENTIONS[kind][name][0] if name in CONVENTIONS[kind] else OPTIMIZER_BUGS[name].form
    optimizer = form(config, np.dtype("float64"))
    before, after, w = [], [], rng.normal(size=P)
    with np.errstate(all="ignore"):
        for g in grads:
            new = optimizer.apply(from_document_order(arch, w), from_document_order(arch, g))
            before.append(w)
            w = np.concatenate([new[key].ravel() for key, _ in arch.shapes()])
            after.append(w)
    return kind, name, arch, config, OptimizerRun("random", np.array(before), grads, np.array(after))


@settings(max_examples=40, deadline=None, derandomize=True)
@given(drawn_runs())
def test_any_network_and_gradient_scale_the_form_is_named(
    case: tuple[str, str, Architecture, OptimizerConfig, OptimizerRun],
) -> None:
    """A convention is named; a mistake is found as its kind, or else its updates are, on these
    gradients, another form's too (within the threshold: measured here, not assumed)."""
    kind, name, arch, config, run = case
    result = optimizer_verdict.judge(kind, config, arch, [run], {})
    threshold = AUDIT_THRESHOLDS["float64"]

    def reproduces(form: type) -> bool:
        with np.errstate(all="ignore"):
            d = relative_distance(run.after, optimizer_verdict.replay(form, config, arch, run), AUDIT_FLOOR)
        return bool((np.nan_to_num(d, nan=np.inf) <= threshold).all())

    same = {n for n, (form, _) in CONVENTIONS[kind].items() if reproduces(form)}
    if name in CONVENTIONS[kind] or same:
        assert (result.convention in same, result.findings) == (True, [])
        return
    kinds_found = {f.kind for f in result.findings}
    also = {bug.kind for bug in OPTIMIZER_BUGS.values() if bug.optimizer == kind and reproduces(bug.form)}
    assert result.convention is None
    assert kinds_found == {OPTIMIZER_BUGS[name].kind} or kinds_found <= also, (name, kinds_found, also)
