"""Each bug of the bug lab changes a real MNIST run the way the page says it does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from course.concepts import bugs
from course.engine.train import Run, RunConfig, fit
from course.lessons import REFERENCE_DIR
from course.runs import run_files

PUZZLE_REFERENCE = REFERENCE_DIR / "debugging_puzzle.json"  # where the page reads it

SMALL = dict(train_subset=5_000, epochs=2)


def epochs_of(config: RunConfig):
    return [event for event in bugs.bug_run(config).events(report_every=10)
            if event.kind == "epoch"]


@pytest.fixture(scope="module")
def healthy(data_dir, one_torch_thread):
    return epochs_of(RunConfig(**SMALL))


def test_every_bug_is_one_record_with_its_lines_and_a_symptom_of_the_lab():
    assert {"relu-on-logits", "zero-grad-misplaced", "no-eval", "sorted-data", "softmax-before-ce",
            "same-batch", "silent-accuracy"} == set(bugs.BUGS)
    for name, bug in bugs.BUGS.items():
        assert bug.name == name and bug.explanation and bug.buggy != bug.fixed
        assert bug.symptom in bugs.SYMPTOMS


def test_unknown_bug_is_refused_with_its_name(data_dir, tmp_path):
    with pytest.raises(ValueError, match="no-such-bug"):
        bugs.bug_run(RunConfig(bug="no-such-bug"))
    with pytest.raises(ValueError, match="no-such-bug"):
        run_files.create_run(tmp_path, RunConfig(bug="no-such-bug"))
    with pytest.raises(ValueError, match="loop pieces"):  # the engine never trains it healthy
        Run(RunConfig(bug="same-batch"))


def test_a_bug_runs_through_fit_itself_with_the_same_events(data_dir, one_torch_thread,
                                                            monkeypatch):
    """No second loop: a bug's run calls the engine's one `fit`, with its pieces swapped in."""
    from course.engine import train

    calls = []
    real_fit = train.fit

    def spying_fit(*args, **kwargs):
        calls.append(sorted(k for k in kwargs if k in ("step_fn", "evaluate_fn", "batches",
                                                        "count_correct")))
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(train, "fit", spying_fit)
    run = Run(RunConfig(train_subset=640, epochs=1))
    normal = [e.kind for e in run.events(report_every=3)]
    buggy = [e.kind for e in bugs.bug_run(RunConfig(train_subset=640, epochs=1,
                                                    bug="softmax-before-ce")).events(report_every=3)]
    assert normal == buggy == ["step"] * 3 + ["epoch"]
    assert calls == [[], ["evaluate_fn", "step_fn"]]
    run = Run(RunConfig(train_subset=640, epochs=1))
    direct = [e.kind for e in fit(run.model, run.optimizer, run.train_loader, None, 1,
                                  report_every=3, **bugs.loop_pieces("same-batch"))]
    assert direct == ["step"] * 3 + ["epoch"]


def test_silent_accuracy_loss_falls_to_about_half_while_accuracy_stays_near_ten_percent(
        data_dir, one_torch_thread):
    epochs = epochs_of(RunConfig(bug="silent-accuracy", train_subset=10_000, epochs=2, lr=1e-4))
    assert epochs[-1].train_loss == pytest.approx(0.5, abs=0.15)
    assert epochs[-1].train_accuracy == pytest.approx(0.10, abs=0.03)
    assert epochs[-1].test_accuracy == pytest.approx(0.10, abs=0.03)
    assert epochs[-1].test_loss < 0.6  # the model itself is good: only the measurement is broken


def test_broadcast_accuracy_reads_ten_percent_even_for_perfect_predictions():
    labels = torch.arange(10).repeat(10)
    perfect = torch.nn.functional.one_hot(labels, 10).float()
    assert bugs.batch_accuracy(perfect, labels) == 1.0
    assert bugs.batch_accuracy(perfect, labels, "silent-accuracy") == pytest.approx(0.1)


def test_zero_grad_misplaced_learns_nothing(healthy, data_dir, one_torch_thread):
    epochs = epochs_of(RunConfig(bug="zero-grad-misplaced", **SMALL))
    assert epochs[-1].train_loss == pytest.approx(2.30, abs=0.05)
    assert epochs[-1].test_accuracy < 0.2 < healthy[-1].test_accuracy


def test_softmax_before_ce_keeps_the_loss_above_its_floor(healthy, data_dir, one_torch_thread):
    epochs = epochs_of(RunConfig(bug="softmax-before-ce", **SMALL))
    floor = -torch.log(torch.tensor(torch.e / (torch.e + 9))).item()  # 1.46 for 10 classes
    assert all(e.train_loss > floor for e in epochs)
    assert epochs[-1].test_accuracy < healthy[-1].test_accuracy


def test_relu_on_logits_costs_accuracy(healthy, data_dir, one_torch_thread):
    epochs = epochs_of(RunConfig(bug="relu-on-logits", **SMALL))
    assert epochs[-1].test_accuracy < healthy[-1].test_accuracy - 0.1
    assert epochs[-1].train_loss > healthy[-1].train_loss


def test_sorted_data_leaves_test_accuracy_near_chance(healthy, data_dir, one_torch_thread):
    epochs = epochs_of(RunConfig(bug="sorted-data", **SMALL))
    assert epochs[-1].test_accuracy < 0.3 < healthy[-1].test_accuracy


def test_same_batch_memorises_one_batch_and_generalises_poorly(healthy, data_dir, one_torch_thread):
    epochs = epochs_of(RunConfig(bug="same-batch", **SMALL))
    assert epochs[-1].train_accuracy == 1.0 and epochs[-1].train_loss < 0.01
    assert epochs[-1].test_accuracy < healthy[-1].test_accuracy - 0.1


def test_no_eval_lowers_test_accuracy_of_the_improved_mlp(data_dir, one_torch_thread):
    with_eval = epochs_of(RunConfig(model="mlp-bn", **SMALL))
    without = epochs_of(RunConfig(model="mlp-bn", bug="no-eval", **SMALL))
    assert without[-1].test_accuracy < with_eval[-1].test_accuracy


class Recorder:
    def __init__(self):
        self.scalars: dict[str, list[float]] = {}

    def add_scalar(self, tag, value, step):
        self.scalars.setdefault(tag, []).append(value)


def test_capstone_script_fails_on_shapes_then_learns_nothing(data_dir, one_torch_thread):
    from course.concepts import diagnostics
    from course.engine import data

    split = data.split_tensors("mnist", True)
    batches = [(data.normalize_batch(split.images[i:i + 64], "mnist"), split.labels[i:i + 64])
               for i in range(0, 640, 64)]
    with pytest.raises(RuntimeError, match="mat1 and mat2"):
        bugs.capstone_training(bugs.capstone_model(), batches, Recorder(), epochs=1)
    model = diagnostics.fixed_model()
    before = [p.detach().clone() for p in model.parameters()]
    log = Recorder()
    bugs.capstone_training(model, batches, log, epochs=1)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    assert len(log.scalars["loss/train"]) == 10
    norms = bugs.capstone_norms_at_step(diagnostics.fixed_model(), *batches[0])
    # Since PyTorch 2.0 zero_grad() sets .grad to None: the gradients are gone, not zero.
    assert len(norms) == 6 and all(value is None for value in norms.values())


def measured_puzzle_reference(run_dir: Path) -> dict:
    """What the debugging page's section 8 shows before a learner's own puzzle run, measured the
    way the page measures a learner's run: the worker trains bugs.puzzle_config() in run_dir, the
    step-1 gradient norms are read back from its event files, and its final model is scored on
    the first 2,000 test images the buggy way and the right way.

    When the engine changes, write this function's result (with one torch thread, as the
    workers train) to PUZZLE_REFERENCE.
    """
    from course.concepts import diagnostics
    from course.runs import jobs, recorder, run_files
    from course.runs.checkpoints import load_run_model

    run_dir.mkdir(parents=True, exist_ok=True)
    run_files.create_run(run_dir, bugs.puzzle_config())
    assert jobs.execute(str(run_dir)) == "done"
    norms = diagnostics.step_one_norms(diagnostics.read_scalars(recorder.events_dir(run_dir)))
    buggy, right = bugs.puzzle_accuracies(load_run_model(run_dir)[0])
    return {"config": bugs.puzzle_config().to_dict(), "torch": torch.__version__,
            "threads": torch.get_num_threads(), "grad_norms_step_1": norms,
            "accuracy_buggy": buggy, "accuracy_right": right,
            "final_train_loss": run_files.status(run_dir)["history"][-1]["train_loss"]}


@pytest.mark.slow
def test_puzzle_reference_is_what_the_engine_measures(data_dir, one_torch_thread, tmp_path):
    reference = bugs.puzzle_reference()
    measured = measured_puzzle_reference(tmp_path / "run")
    # the same run: settings added to RunConfig since keep their defaults, so they do not count
    assert RunConfig.from_dict(reference["config"]) == RunConfig.from_dict(measured["config"])
    assert reference["grad_norms_step_1"] == pytest.approx(measured["grad_norms_step_1"], rel=1e-4)
    for key in ("accuracy_buggy", "accuracy_right", "final_train_loss"):
        assert reference[key] == pytest.approx(measured[key], abs=0.005), key


def test_lab_pairs_each_bug_with_a_healthy_run_of_the_same_settings():
    assert "silent-accuracy" not in bugs.LAB_BUGS  # the opening puzzle's answer stays hidden
    assert set(bugs.LAB_BUGS) == set(bugs.BUGS) - {"silent-accuracy"}
    for bug in bugs.LAB_BUGS:
        healthy, buggy = bugs.lab_configs(bug).values()
        assert list(bugs.lab_configs(bug)) == ["healthy", f"bug: {bug}"]
        assert not healthy.bug and buggy.bug == bug
        assert RunConfig.from_dict({**buggy.to_dict(), "bug": healthy.bug}) == healthy
        assert bugs.BUGS[bug].symptom in bugs.LAB_SYMPTOMS
    # model.eval() only matters with Dropout or BatchNorm: no-eval trains the improved MLP.
    assert {bugs.lab_configs(bug)["healthy"].model for bug in bugs.LAB_BUGS} == {"mlp", "mlp-bn"}
    assert bugs.lab_configs("no-eval")["healthy"].model == "mlp-bn"
    assert bugs.BUGS["silent-accuracy"].symptom not in bugs.LAB_SYMPTOMS
    assert list(bugs.LAB_SYMPTOMS) == [s for s in bugs.SYMPTOMS if s in bugs.LAB_SYMPTOMS]
    with pytest.raises(ValueError, match="silent-accuracy"):
        bugs.lab_configs("silent-accuracy")


def test_puzzle_accuracy_line_compares_a_column_with_a_row_on_a_real_batch(data_dir):
    from course.concepts import diagnostics
    from course.engine import models

    images, labels = diagnostics.first_batch()
    assert bugs.compared_shapes(models.simple_mlp(), images, labels) == ([64, 1], [64], [64, 64])


def test_puzzle_accuracies_score_a_trained_model_both_ways_in_eval_mode(data_dir, one_torch_thread):
    run = Run(RunConfig(model="mlp-bn", train_subset=2_000, epochs=1))
    for _ in run.events(report_every=100):
        pass
    run.model.train()  # left in train mode: the score must not depend on it
    buggy, right = bugs.puzzle_accuracies(run.model)
    assert right > 0.8 and buggy == pytest.approx(0.1, abs=0.02)
    assert not run.model.training
    assert bugs.puzzle_accuracies(run.model) == (buggy, right)


def test_puzzle_reference_holds_what_the_page_shows_before_a_run():
    reference = bugs.puzzle_reference()
    assert reference == json.loads(PUZZLE_REFERENCE.read_text())
    assert RunConfig.from_dict(reference["config"]) == bugs.puzzle_config()
    from course.engine import models

    assert set(reference["grad_norms_step_1"]) == {
        name for name, _ in models.simple_mlp().named_parameters()}
