"""The course map: three modules, ten lessons, as the series plan lays them out."""

from __future__ import annotations

import functools
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Numbers measured once with the course's engine (scripts/ and slow tests measure them again).
REFERENCE_DIR = Path(__file__).resolve().parent / "reference"

SERIES_GOAL = (
    "Bridge theory to practice. You already understand backprop, optimizers and training "
    "dynamics conceptually; now you build and train real models in PyTorch."
)

# `owner/name` as GitHub spells them: owners are letters, digits and hyphens; names add . and _.
OWNER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}/(?!\.+$)[A-Za-z0-9._-]{1,100}")
_GITHUB_REMOTE = re.compile(
    r"(?:https://(?:[^@/\s]+@)?github\.com/|ssh://git@github\.com/|git@github\.com:)"
    r"(?P<path>[^/\s]+/[^/\s]+?)(?:\.git)?/?"
)


@dataclass(frozen=True)
class Lesson:
    module: str  # "2.2"
    number: int  # position inside its module, 1-based
    slug: str
    title: str
    description: str
    needs_data: bool = False

    @property
    def code(self) -> str:
        return f"{self.module}.{self.number}"

    @property
    def page_path(self) -> Path:
        return PROJECT_ROOT / "pages" / f"{self.slug}.py"

    @property
    def notebook_name(self) -> str:
        series, module = self.module.split(".")
        return f"{series}-{module}-{self.number}-{self.slug}.ipynb"

    @property
    def available(self) -> bool:
        return self.page_path.exists()


@dataclass(frozen=True)
class Module:
    code: str
    title: str
    goal: str
    arc: tuple[str, ...]
    lessons: tuple[Lesson, ...]
    gap: str = ""  # where the learner stands when the module starts
    # (the belief, what is true instead): every page of the module answers them
    misconceptions: tuple[tuple[str, str], ...] = ()

    @property
    def label(self) -> str:
        return f"{self.code} {self.title}"


MODULES: tuple[Module, ...] = (
    Module(
        "2.1",
        "PyTorch Core",
        "Build, train and debug a neural network in PyTorch through tensors, autograd, "
        "nn.Module and the training loop, translating every Foundations concept into code.",
        (
            "I already understand this",
            "Oh, PyTorch just automates what I did manually",
            "I can build real things now.",
        ),
        (
            Lesson("2.1", 1, "tensors", "Tensors",
                   "NumPy → Tensor, GPU, dtype, shapes, broadcasting"),
            Lesson("2.1", 2, "autograd", "Autograd",
                   "requires_grad, loss.backward(), connects to computational graphs (1.3)"),
            Lesson("2.1", 3, "nn-module", "nn.Module",
                   "Parameters, layers, forward(), building a network"),
            Lesson("2.1", 4, "training-loop", "Training Loop in PyTorch",
                   "Reimplement Foundations linear regression + a neural net with optim.Adam"),
        ),
        gap="I understand how this works, but I've never actually trained a real model "
            "(Foundations was NumPy and widgets). Every lesson here should feel like "
            "recognition: the concepts are review, the new part is the API.",
        misconceptions=(
            ("PyTorch is doing something different from what I learned.",
             "Each lesson maps PyTorch to its Foundations equivalent: the same maths, automated."),
            ("loss.backward() replaces understanding backprop.",
             "Autograd automates the manual work; debugging a gradient still needs the chain rule."),
            ("More PyTorch API means better code.",
             "The explicit operations come first, then the convenience that does the same thing."),
            ("optimizer.zero_grad() is just boilerplate.",
             "Gradients accumulate by default: every backward() adds to .grad."),
        ),
    ),
    Module(
        "2.2",
        "Real Data",
        "Load, transform, batch and iterate over real datasets, then build, train, evaluate "
        "and debug a complete model on MNIST: your first end-to-end project on real data.",
        (
            "My training loop works on fake data",
            "Now it works on real images",
            "And I know how to fix it when it doesn't.",
        ),
        (
            Lesson("2.2", 1, "datasets-and-dataloaders", "Datasets and DataLoaders",
                   "Dataset, DataLoader, batching (connects to the SGD lesson), transforms",
                   needs_data=True),
            Lesson("2.2", 2, "mnist-project", "Project: MNIST",
                   "End-to-end: load data, build model, train, evaluate. First real result.",
                   needs_data=True),
            Lesson("2.2", 3, "debugging-and-visualization", "Debugging and Visualization",
                   "Shape errors, gradient checking, TensorBoard/logging, torchinfo",
                   needs_data=True),
        ),
    ),
    Module(
        "2.3",
        "Practical Patterns",
        "Save, load and checkpoint; train device-aware on a GPU; then an independent "
        "Fashion-MNIST project: completing the bridge from theory to production-ready practice.",
        (
            "My models disappear when training ends",
            "I can save, resume, and accelerate",
            "I can do this on my own.",
        ),
        (
            Lesson("2.3", 1, "saving-and-loading", "Saving, Loading, and Checkpoints",
                   "state_dict, resuming training, model export"),
            Lesson("2.3", 2, "gpu-training", "GPU Training",
                   ".to(device), mixed precision basics, when it matters"),
            Lesson("2.3", 3, "fashion-mnist-project", "Project: Fashion-MNIST",
                   "Pull it all together, beat a baseline, experiment", needs_data=True),
        ),
        misconceptions=(
            ("A GPU is always faster.",
             "Small models and small batches can run slower on a GPU: launches and copies cost time."),
            ("Moving to a GPU is one line.",
             "The model and every batch of inputs and targets must move, inside the loop."),
            ("Saving the model saves everything needed to resume.",
             "Resuming also needs the optimizer's state, the epoch, any scheduler and the RNG state."),
            ("Mixed precision is risky.",
             "autocast keeps sensitive operations in float32 and GradScaler guards fp16 gradients."),
        ),
    ),
)


def all_lessons() -> list[Lesson]:
    return [lesson for module in MODULES for lesson in module.lessons]


def lesson(slug: str) -> Lesson:
    """The lesson with this slug; KeyError names the slug when there is none."""
    for candidate in all_lessons():
        if candidate.slug == slug:
            return candidate
    raise KeyError(f"no lesson with slug {slug!r}")


def module_of(item: Lesson) -> Module:
    return next(m for m in MODULES if m.code == item.module)


def github_repository(remote_url: str) -> str | None:
    """`owner/name` from a github.com remote URL (https or ssh); None for anything else."""
    remote = _GITHUB_REMOTE.fullmatch(remote_url.strip())
    if remote is None or OWNER_NAME.fullmatch(remote["path"]) is None:
        return None
    return remote["path"]


@functools.cache
def origin_repository(root: Path) -> str | None:
    """`owner/name` of the checkout's own origin remote when it is on github.com, else None."""
    try:
        answer = subprocess.run(["git", "config", "--get", "remote.origin.url"], cwd=root,
                                capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):  # no git installed, or not a folder any more
        return None
    return github_repository(answer.stdout) if answer.returncode == 0 else None


def repository() -> str | None:
    """Where the notebooks are on GitHub: COURSE_REPOSITORY, else this checkout's origin, else None."""
    configured = os.environ.get("COURSE_REPOSITORY", "").strip()
    if OWNER_NAME.fullmatch(configured):
        return configured
    return origin_repository(PROJECT_ROOT)
