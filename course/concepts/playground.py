"""A 2-D classification playground in torch: toy datasets, a small MLP and its live training state.

`Playground` holds one learner's network, optimizer and history. Controls change it while it
trains: the learning rate and optimizer keep the weights, a new activation keeps every weight,
new widths keep the weights whose shapes still fit, Rewind goes back to the same initialisation.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import torch
from torch import nn

from course.concepts import heartbeat

DATASETS = ("moons", "circles", "spiral", "xor")
ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid}
OPTIMIZERS = ("adam", "momentum", "sgd")
DEFAULT_BUDGET = 300  # optimizer steps: enough for > 95% test accuracy on two moons
EXTENT = 2.0  # the input plane drawn: [-EXTENT, EXTENT] on both axes


def make_dataset(name: str = "moons", n: int = 400, noise: float = 0.1, seed: int = 0):
    """Points (n, 2) and labels (n,) of a 2-D toy dataset, generated in torch from a seed."""
    g = torch.Generator().manual_seed(seed)
    half = n // 2
    if name == "moons":
        t = torch.rand(half, generator=g) * math.pi
        upper = torch.stack([torch.cos(t), torch.sin(t)], 1)
        lower = torch.stack([1 - torch.cos(t), 0.5 - torch.sin(t)], 1)
        x = torch.cat([upper, lower]) - torch.tensor([0.5, 0.25])
    elif name == "circles":
        t = torch.rand(n, generator=g) * 2 * math.pi
        r = torch.cat([torch.full((half,), 1.0), torch.full((n - half,), 0.5)])
        x = torch.stack([r * torch.cos(t), r * torch.sin(t)], 1)
    elif name == "spiral":
        t = torch.rand(half, generator=g) * 3 * math.pi + 0.5
        arm = torch.stack([t * torch.cos(t), t * torch.sin(t)], 1) / 7
        x = torch.cat([arm, -arm])
    elif name == "xor":
        x = torch.rand(n, 2, generator=g) * 2 - 1
    else:
        raise ValueError(f"unknown dataset {name!r}")
    if name == "xor":
        labels = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).long()
    else:
        labels = torch.cat([torch.zeros(half), torch.ones(n - half)]).long()
    x = x + noise * torch.randn(x.shape, generator=g)
    order = torch.randperm(n, generator=g)
    return x[order], labels[order]


def split(x, labels, test_fraction: float = 0.3):
    """The first part trains, the rest tests (the data is already shuffled)."""
    cut = int(len(x) * (1 - test_fraction))
    return x[:cut], labels[:cut], x[cut:], labels[cut:]


def make_model(widths=(8, 8), activation: str = "tanh", seed: int = 0) -> nn.Sequential:
    """2 inputs -> hidden layers of `widths` -> 1 logit, initialised from `seed` alone."""
    with torch.random.fork_rng(devices=[]):  # the seed decides; the global generator is left alone
        torch.manual_seed(seed)
        layers, previous = [], 2
        for width in widths:
            layers += [nn.Linear(previous, width), ACTIVATIONS[activation]()]
            previous = width
        layers.append(nn.Linear(previous, 1))
        return nn.Sequential(*layers)


def linears(model: nn.Sequential) -> list[nn.Linear]:
    return [layer for layer in model if isinstance(layer, nn.Linear)]


def resized(model: nn.Sequential, widths, activation: str, seed: int) -> nn.Sequential:
    """A network of the new shape that keeps every old weight whose row and column still exist."""
    new = make_model(widths, activation, seed)
    with torch.no_grad():
        for old, fresh in zip(linears(model), linears(new)):
            rows = min(old.out_features, fresh.out_features)
            cols = min(old.in_features, fresh.in_features)
            fresh.weight[:rows, :cols] = old.weight[:rows, :cols]
            fresh.bias[:rows] = old.bias[:rows]
    return new


def bce_loss(logits, labels):
    """Binary cross-entropy on one logit per point (labels 0/1 as floats)."""
    return nn.functional.binary_cross_entropy_with_logits(logits.squeeze(1), labels.float())


@torch.no_grad()
def evaluate(model, x, labels) -> tuple[float, float]:
    """(loss, accuracy) in eval mode, without gradients."""
    model.eval()
    logits = model(x)
    accuracy = ((logits.squeeze(1) > 0).long() == labels).float().mean().item()
    return bce_loss(logits, labels).item(), accuracy


def plane(size: int = 40, extent: float = EXTENT):
    """The axis and the size*size points of the input plane, row by row (y rows, x columns)."""
    axis = torch.linspace(-extent, extent, size)
    gy, gx = torch.meshgrid(axis, axis, indexing="ij")
    return axis, torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)


@torch.no_grad()
def boundary_grid(model, size: int = 40):
    """P(class 1) over the input plane, [size, size]."""
    model.eval()
    axis, points = plane(size)
    return axis, torch.sigmoid(model(points)).view(size, size)


@torch.no_grad()
def neuron_grid(model: nn.Sequential, layer: int, neuron: int, size: int = 40):
    """One hidden neuron's activation over the input plane: what that neuron has learned to see."""
    model.eval()
    axis, points = plane(size)
    activation = points
    seen = -1
    for module in model:
        activation = module(activation)
        if not isinstance(module, nn.Linear):
            seen += 1
            if seen == layer:
                return axis, activation[:, neuron].view(size, size)
    raise IndexError(f"the network has no hidden layer {layer}")


@dataclass
class Playground:
    """One learner's playground: data, network, optimizer, step counter and history."""

    dataset: str = "moons"
    noise: float = 0.1
    widths: tuple[int, ...] = (8, 8)
    activation: str = "tanh"
    optimizer_name: str = "adam"
    lr: float = 0.03
    seed: int = 0  # the initialisation's; Reset draws another
    data_seed: int = 0
    steps: int = 0
    history: list[tuple[int, float, float, float]] = field(default_factory=list)

    def __post_init__(self):
        self.widths = tuple(int(w) for w in self.widths)
        self._load_data()
        self.model = make_model(self.widths, self.activation, self.seed)
        self.initial = copy.deepcopy(self.model)
        self.optimizer = heartbeat.make_optimizer(self.optimizer_name, self.model.parameters(), self.lr)
        self._record()

    def _load_data(self) -> None:
        x, labels = make_dataset(self.dataset, noise=self.noise, seed=self.data_seed)
        self.x_train, self.y_train, self.x_test, self.y_test = split(x, labels)

    def _record(self) -> None:
        train_loss, _ = evaluate(self.model, self.x_train, self.y_train)
        test_loss, test_accuracy = evaluate(self.model, self.x_test, self.y_test)
        self.history.append((self.steps, train_loss, test_loss, test_accuracy))

    def step(self, count: int = 1) -> None:
        """Exactly `count` optimizer steps of the heartbeat on the whole training set."""
        heartbeat.train(self.model, self.optimizer, self.x_train, self.y_train, count, bce_loss)
        self.steps += count
        self._record()

    def rewind(self) -> None:
        """Back to the very same initial weights (tensorflow/playground#25): step 0 again."""
        self.model = copy.deepcopy(self.initial)
        self._restart()

    def reset(self, seed: int) -> None:
        """A new initialisation from another seed (the data stays)."""
        self.seed = seed
        self.model = make_model(self.widths, self.activation, seed)
        self.initial = copy.deepcopy(self.model)
        self._restart()

    def _restart(self) -> None:
        self.optimizer = heartbeat.make_optimizer(self.optimizer_name, self.model.parameters(), self.lr)
        self.steps = 0
        self.history = []
        self._record()

    def set_lr(self, lr: float) -> None:
        self.lr = lr
        heartbeat.set_learning_rate(self.optimizer, lr)

    def set_optimizer(self, name: str) -> None:
        """A fresh optimizer over the same parameters: the weights stay, its running averages restart."""
        self.optimizer_name = name
        self.optimizer = heartbeat.make_optimizer(name, self.model.parameters(), self.lr)

    def set_shape(self, widths, activation: str) -> None:
        """New widths or activation while it trains: the weights stay where the shapes allow."""
        widths = tuple(int(w) for w in widths)
        if widths == self.widths and activation == self.activation:
            return
        self.model = resized(self.model, widths, activation, self.seed)
        self.widths, self.activation = widths, activation
        self.initial = resized(self.initial, widths, activation, self.seed)
        self.set_optimizer(self.optimizer_name)

    def set_data(self, dataset: str, noise: float) -> None:
        """Another dataset or noise level: the network keeps training from where it is."""
        if (dataset, noise) != (self.dataset, self.noise):
            self.dataset, self.noise = dataset, noise
            self._load_data()
            self._record()

    def config(self) -> dict:
        return {"dataset": self.dataset, "noise": self.noise, "widths": list(self.widths),
                "activation": self.activation, "optimizer": self.optimizer_name, "lr": self.lr,
                "seed": self.seed, "data_seed": self.data_seed}


def network_links(model: nn.Sequential) -> list[tuple[int, int, int, float]]:
    """(layer, from neuron, to neuron, weight) for every connection: the network drawn as links."""
    links = []
    for index, layer in enumerate(linears(model)):
        weight = layer.weight.detach()
        for to in range(weight.shape[0]):
            for source in range(weight.shape[1]):
                links.append((index, source, to, weight[to, source].item()))
    return links


def export_script(config: dict, steps: int) -> str:
    """A standalone torch script that trains the same network on the same data (tensorflow/playground#39)."""
    import inspect
    functions = (make_dataset, split, make_model, bce_loss, evaluate, heartbeat.make_optimizer,
                 heartbeat.train)
    source = "\n\n".join(inspect.getsource(f) for f in functions)
    return f'''"""Exported from PyTorch Course Lab's 2-D playground: the same network on the same data."""
from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

ACTIVATIONS = {{"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid}}


{source}

if __name__ == "__main__":
    x, labels = make_dataset({config["dataset"]!r}, noise={config["noise"]!r}, seed={config["data_seed"]!r})
    x_train, y_train, x_test, y_test = split(x, labels)
    model = make_model({tuple(config["widths"])!r}, {config["activation"]!r}, seed={config["seed"]!r})
    optimizer = make_optimizer({config["optimizer"]!r}, model.parameters(), lr={config["lr"]!r})
    train(model, optimizer, x_train, y_train, {steps!r}, bce_loss)
    test_loss, test_accuracy = evaluate(model, x_test, y_test)
    print(f"test_accuracy={{test_accuracy:.4f}}")
'''
