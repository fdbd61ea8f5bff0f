"""An experiment as a standalone script: torch and torchvision only, runnable outside the app.

The model builders and the augmentation are copied from the engine's own source
(inspect.getsource), so the script builds exactly the network the app trained; the loop is the
course's: a validation split held out with a fixed seed, the best epoch kept by validation
accuracy, the test set evaluated once at the end.
"""

from __future__ import annotations

import inspect
from textwrap import dedent

from course.engine import data, models
from course.engine.train import RunConfig

HEADER = '''\
"""Fashion-MNIST experiment exported from PyTorch Course Lab (lesson 2.3.3).

    python {name} [--data DIR] [--epochs N] [--train-subset N]

Needs torch and torchvision; downloads Fashion-MNIST into --data the first time.
"""

from __future__ import annotations

import argparse
import copy
import time

import torch
from torch import nn
from torchvision import datasets
'''

BODY = '''

def model_for_this_run() -> nn.Module:
    return {builder}


def make_optimizer(parameters):
    {optimizer}


def normalised(images: torch.Tensor) -> torch.Tensor:
    """uint8 [N, 28, 28] -> float [N, 1, 28, 28], what ToTensor + Normalize give."""
    return ((images.float() / 255 - MEAN) / STD).unsqueeze(1)


def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(labels), 1000):
            batch = normalised(images[start:start + 1000]).to(DEVICE)
            correct += (model(batch).argmax(dim=1).cpu() == labels[start:start + 1000]).sum().item()
    return correct / len(labels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="./data")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--train-subset", type=int, default=TRAIN_SUBSET)
    args = parser.parse_args()

    train_set = datasets.FashionMNIST(args.data, train=True, download=True)
    test_set = datasets.FashionMNIST(args.data, train=False, download=True)
    # The validation split: the same images for every run (seed 0), never trained on.
    order = torch.randperm(len(train_set.targets), generator=torch.Generator().manual_seed(0))
    held_out, kept = order[:VALIDATION].sort().values, order[VALIDATION:].sort().values
    train_images, train_labels = train_set.data[kept], train_set.targets[kept]
    if args.train_subset:
        train_images, train_labels = train_images[:args.train_subset], train_labels[:args.train_subset]
    val_images, val_labels = train_set.data[held_out], train_set.targets[held_out]

    torch.manual_seed(SEED)
    model = model_for_this_run().to(DEVICE)
    optimizer = make_optimizer(model.parameters())
    loss_fn = nn.CrossEntropyLoss()
    shuffle = torch.Generator().manual_seed(SEED)
    augment = torch.Generator().manual_seed(SEED) if AUGMENT else None
    best_state, best_epoch, best_val = None, 0, -1.0
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        model.train()
        for indices in torch.randperm(len(train_labels), generator=shuffle).split(BATCH_SIZE):
            images = train_images[indices]
            if augment is not None:
                images = random_flips_and_shifts(images, augment)
            images, labels = normalised(images).to(DEVICE), train_labels[indices].to(DEVICE)
            loss = loss_fn(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        val = accuracy(model, val_images, val_labels)
        if val > best_val:  # the best-epoch checkpoint
            best_state, best_epoch, best_val = copy.deepcopy(model.state_dict()), epoch, val
        print(f"epoch {{epoch}}: validation accuracy {{val:.4f}} ({{time.perf_counter() - start:.1f}} s)")
    model.load_state_dict(best_state)
    torch.save(best_state, "best_model.pt")
    print(f"best epoch {{best_epoch}}: validation accuracy {{best_val:.4f}}")
    print(f"test accuracy {{accuracy(model, test_set.data, test_set.targets):.4f}} (reported once)")


if __name__ == "__main__":
    main()
'''


def builder_call(config: RunConfig) -> str:
    """The engine's builder call for this run's model, with its arguments written out."""
    model = config.model_config
    if model.kind == "mlp":
        return f"simple_mlp(hidden={model.hidden!r})"
    if model.kind == "mlp-bn":
        return (f"improved_mlp(hidden={model.hidden!r}, dropout={model.dropout!r}, "
                f"batch_norm={model.batch_norm!r})")
    return (f"small_cnn(dropout={model.dropout!r}, channels={model.channels!r}, "
            f"batch_norm={model.batch_norm!r})")


def optimizer_line(config: RunConfig) -> str:
    """The optimizer exactly as the engine builds it (fused Adam is the same update, unfused)."""
    if config.optimizer == "sgd":
        return (f"return torch.optim.SGD(parameters, lr={config.lr!r}, momentum=0.9, "
                f"weight_decay={config.weight_decay!r})")
    name = "AdamW" if config.optimizer == "adamw" else "Adam"
    return f"return torch.optim.{name}(parameters, lr={config.lr!r}, weight_decay={config.weight_decay!r})"


def standalone_script(config: RunConfig, name: str = "fashion_experiment.py") -> str:
    """The whole script for this run's settings."""
    builder = {"mlp": models.simple_mlp, "mlp-bn": models.improved_mlp,
               "cnn": models.small_cnn}[config.model]
    mean, std = data.NORMALIZATION[config.dataset]
    settings = dedent(f"""
        DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
        MEAN, STD = {mean!r}, {std!r}
        EPOCHS = {config.epochs!r}
        BATCH_SIZE = {config.batch_size!r}
        SEED = {config.seed!r}
        TRAIN_SUBSET = {config.train_subset!r}  # None: every training image not held out
        VALIDATION = {config.validation or 5_000!r}
        AUGMENT = {config.augment!r}  # random flips and small shifts (beyond the course)
    """)
    pieces = [HEADER.format(name=name), settings, "", inspect.getsource(builder), "",
              inspect.getsource(data.random_flips_and_shifts)]
    body = BODY.format(builder=builder_call(config), optimizer=optimizer_line(config))
    return "\n".join(pieces) + body
