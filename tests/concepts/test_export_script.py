"""The exported script runs on its own (torch + torchvision) and trains the run's model."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from course.concepts import export_script
from course.engine import models
from course.engine.train import RunConfig


def run_script(tmp_path, config: RunConfig, data_dir) -> str:
    path = tmp_path / "fashion_experiment.py"
    path.write_text(export_script.standalone_script(config))
    done = subprocess.run([sys.executable, str(path), "--data", str(data_dir), "--epochs", "1",
                           "--train-subset", "600"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=240,
                          env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": ""})
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.slow
def test_the_exported_mlp_script_trains_one_short_epoch_and_reports_test_once(tmp_path, data_dir):
    config = RunConfig(dataset="fashion-mnist", model="mlp-bn", hidden=(64, 32), dropout=0.1,
                       epochs=7, validation=5_000, optimizer="adamw", weight_decay=1e-3)
    out = run_script(tmp_path, config, data_dir)
    assert re.search(r"epoch 1: validation accuracy 0\.\d{4}", out)
    assert "best epoch 1" in out and len(re.findall(r"test accuracy", out)) == 1
    test = float(re.search(r"test accuracy (0\.\d+)", out).group(1))
    assert test > 0.5  # 600 images, one epoch: far above chance (0.1)
    import torch

    state = torch.load(tmp_path / "best_model.pt", weights_only=True)
    expected = models.build_model(config.model_config).state_dict()
    assert {k: v.shape for k, v in state.items()} == {k: v.shape for k, v in expected.items()}


@pytest.mark.slow
def test_the_exported_cnn_script_with_augmentation_runs(tmp_path, data_dir):
    config = RunConfig(dataset="fashion-mnist", model="cnn", channels=(8, 16), augment=True,
                       optimizer="sgd", lr=0.05, validation=5_000)
    out = run_script(tmp_path, config, data_dir)
    assert "best epoch 1" in out and "test accuracy" in out


def test_the_script_names_the_run_settings_and_holds_the_engine_builder_source():
    config = RunConfig(dataset="fashion-mnist", model="mlp", hidden=(128,), lr=3e-3, seed=5,
                       batch_size=128, epochs=4)
    script = export_script.standalone_script(config)
    assert "simple_mlp(hidden=(128,))" in script and "def simple_mlp(" in script
    assert "lr=0.003" in script and "SEED = 5" in script and "BATCH_SIZE = 128" in script
    assert "EPOCHS = 4" in script
    assert not re.search(r"^\s*(from|import) course", script, re.MULTILINE)  # standalone
    compile(script, "fashion_experiment.py", "exec")
