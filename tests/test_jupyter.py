"""Results inside Jupyter: the Python API, the HTML, and the example notebook run on a real kernel."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

import comparisons
from comparisons.audit import audit_json, audit_text, keras_side
from comparisons.audit.keras_steps import run_context
from comparisons.spec import INITS, Spec

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def step_without_b2(params: dict[str, np.ndarray], x: np.ndarray, y: float, lr: float) -> tuple[Any, Any]:
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    h = x @ W1 + b1
    y_hat = h @ W2[:, 0] + b2[0]
    e = -2 * (y - y_hat)
    new = {"W1": W1 - lr * np.outer(x, e * W2[:, 0]), "b1": b1 - lr * e * W2[:, 0], "W2": W2 - lr * e * h[:, None]}
    return new | {"b2": b2}, (y - y_hat) ** 2


def test_audit_step_runs_a_function_and_renders_it() -> None:
    result = comparisons.audit_step(step_without_b2, problem="regression", epochs=5)
    assert str(result) == audit_text(result)
    assert result.to_json() == audit_json(result)
    assert [(f["kind"], f["parameters"]) for f in result.to_json()["diagnosis"]["findings"]] == [
        ("not-updated", ["b_21"])
    ]
    page = result._repr_html_()
    assert page.startswith(
        '<div class="backprop-vs-keras"><p style="color:#b00"><b>DIVERGED: &lt;notebook&gt;:step_without_b2 '
    )
    assert "<li><b>not-updated</b> (first at init seed, epoch 1, step 1): b_21 (b2[0]): never updated" in page
    assert page.count('src="data:image/png;base64,') == 1
    assert (
        repr(result)
        == "<Audit diverged: <notebook>:step_without_b2, regression, float64, inits ['seed', 'random', 'keras']>"
    )
    # what an nbgrader autograded cell returns: the default rubric's points, out of 10
    assert (result.score, result.max_score) == (7.5, 10.0)
    assert result.feedback.splitlines()[:4] == [
        "Score: 7.5/10. Your code's updates differ from Keras's; the findings below say where.",
        "Right: hidden weights (W1), hidden biases (b1), output weights (W2).",
        "To check:",
        "- output bias (b2): b_21 (b2[0]): never updated, though the gradient is not zero; the update line is "
        "missing, or writes into another parameter",
    ]


def test_audit_step_diagnoses_a_network_of_ones_own_and_shows_the_finding() -> None:
    import runpy

    from manual.batch.optimizers import OptimizerConfig

    step = runpy.run_path(str(EXAMPLES / "network_learner.py"))["step"]  # tanh's slope written 1 - H
    network = Spec(
        (3, 4, 2), ("tanh", "linear"), optimizer=OptimizerConfig("sgd", 0.01), batch_size=3, rows=10, epochs=2
    )
    result = comparisons.audit_step(step, network=network, init="random")
    [finding] = result.to_json()["diagnosis"]["findings"]
    assert (finding["kind"], finding["parameters"], finding["layer"]) == ("activation-derivative", ["W1", "b1"], 1)
    assert "<li><b>activation-derivative</b> (first at init random, epoch 1, step 1): layer 1 (tanh)" in (
        result._repr_html_()
    )
    with pytest.raises(ValueError, match="a network of your own is audited through step"):
        comparisons.audit_step(forward=print, update=print, network=network)


def test_audit_step_needs_a_step_or_both_tutorial_functions() -> None:
    with pytest.raises(ValueError, match="give either step, or both forward and update"):
        comparisons.audit_step(problem="regression")
    with pytest.raises(ValueError, match="give either step, or both forward and update"):
        comparisons.audit_step(forward=print, problem="regression")
    with pytest.raises(ValueError, match="give either step, or both forward and update"):
        comparisons.audit_step(step_without_b2, update=print, problem="regression")


def test_a_comparison_renders_its_verdict_and_plots() -> None:
    result = comparisons.compare(comparisons.Spec.document(problem="classification", epochs=3))
    page = result._repr_html_()
    assert page.startswith('<div class="backprop-vs-keras"><p style="color:#070"><b>classification-float64-sequential')
    assert page.count('src="data:image/png;base64,') == 2


@pytest.mark.fresh  # a kernel of its own: a fresh Python that imports keras as a notebook does, 11 s
def test_the_example_notebook_runs_and_shows_the_verdicts() -> None:
    """examples/audit_in_jupyter.ipynb on a real ipykernel: the tutorial's rule is DIVERGED with its
    diagnosis, the corrected one is MATCH, each shown as HTML with its plot."""
    keras_side.cache_clear()  # held in memory from a test with a cache of its own: written to none we share
    run_context.cache_clear()
    for init in INITS:  # computed here, so the kernel finds them in the session's cache (it inherits it)
        keras_side(Spec.document(problem="regression", epochs=20, init=init))
    notebook = nbformat.read(EXAMPLES / "audit_in_jupyter.ipynb", as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []  # run afresh: the committed outputs must not count
    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(EXAMPLES)}}
    ).execute()
    pages = [
        output["data"]["text/html"]
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.get("output_type") == "execute_result"
    ]
    assert len(pages) == 2
    wrong, right = pages
    assert "<b>DIVERGED: &lt;notebook&gt;:L_layer_forward/update_parameters differs from Keras" in wrong
    assert "<b>Diagnosis</b>" in wrong
    for kind in ("from-other-parameter", "stale-weights", "other-gradient"):
        assert f"<li><b>{kind}</b>" in wrong
    assert "<b>MATCH: &lt;notebook&gt;:L_layer_forward/update_parameters agrees with Keras" in right
    assert all('src="data:image/png;base64,' in page for page in pages)
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == [], json.dumps(errors)[:500]


def test_audit_optimizer_names_a_convention_and_renders_it() -> None:
    import runpy

    adam = runpy.run_path(str(EXAMPLES / "optimizer_adam.py"))  # deeplearning.ai's, the textbook form
    result = comparisons.audit_optimizer(
        adam["update_parameters_with_adam"], initialize=adam["initialize_adam"], init="random", epochs=2
    )
    assert (result.verdict, result.convention, result.findings) == ("match", "textbook", [])
    assert (result.score, result.max_score) == (10.0, 10.0)
    assert result.to_json()["convention"] == "textbook"
    page = result._repr_html_()
    assert page.startswith('<div class="backprop-vs-keras"><p style="color:#070"><b>MATCH: &lt;notebook&gt;')
    assert "Keras&#x27;s own adam, from the same state" in page
    slip = runpy.run_path(str(EXAMPLES / "optimizer_adam_epsilon.py"))
    wrong = comparisons.audit_optimizer(
        slip["update_parameters_with_adam"], initialize=slip["initialize_adam"], init="random", epochs=2
    )
    assert [f.kind for f in wrong.findings] == ["epsilon-placement"]
    assert (wrong.findings[0].parameters, wrong.score) == (["W1", "b1", "W2", "b2"], 0.0)  # every tensor's epsilon
    assert wrong.feedback.splitlines()[0] == (
        "Score: 0/10. Your optimizer's updates follow none of adam's conventions; the findings below say where."
    )
    assert "<li><b>epsilon-placement</b> (first at init random, step 1)" in wrong._repr_html_()


def test_audit_optimizer_needs_the_functions_or_a_class() -> None:
    with pytest.raises(ValueError, match="give either update"):
        comparisons.audit_optimizer()
    with pytest.raises(ValueError, match="comes with initialize_adam"):
        comparisons.audit_optimizer(print)
    with pytest.raises(ValueError, match="have no rmsprop"):
        comparisons.audit_optimizer(print, optimizer="rmsprop")
