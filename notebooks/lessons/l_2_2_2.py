"""Lesson 2.2.2 notebook: the six-step MNIST project, after a softmax / cross-entropy warm-up."""

from notebooks.cells import code, exercise, markdown

SLUG = "mnist-project"  # code, title and notebook name come from course/lessons.py

INTRO = markdown(
    """
    Your first end-to-end project on real data: **load** MNIST, **build** a model, **train**
    it, **evaluate** it, **look** at what it gets wrong, then **improve** it with
    regularization. Every piece is one you have met: the DataLoader from 2.2.1, `nn.Module`
    layers, and the four-line training loop. Three things are new: **softmax**,
    **cross-entropy** and **accuracy**.

    Same heartbeat, new instruments: `nn.CrossEntropyLoss` replaces `nn.MSELoss`, a DataLoader
    replaces raw tensors, and forward → loss → backward → update does not change.

    Each step has a brief, **your cell** (fill in the `# TODO`s), a **check** cell to run after
    your attempt, then a folded solution (try first!). If you are stuck, open it, copy it into
    your cell and run the check again. Later steps use what earlier ones define, so go in order.
    """
)

SETUP = code(
    """
    import copy
    import math
    import os
    import time

    import torch
    from torch import nn, optim
    from torch.utils.data import DataLoader, Subset
    from torchvision import datasets, transforms

    # Where MNIST lives; on Colab torchvision downloads it here (about 12 MB) the first time.
    DATA_ROOT = os.environ.get("COURSE_DATA_DIR", "./data")
    # A model this small trains as fast on one CPU thread; more threads only fight over the
    # cores of a shared machine.
    torch.set_num_threads(1)
    torch.manual_seed(0)
    print(f"PyTorch {torch.__version__}, data in {DATA_ROOT!r}")
    """
)

WARM_UP = exercise(
    brief="""
    ## Warm-up: softmax and cross-entropy by hand

    A classifier outputs one raw score per class, the **logits**. They can be negative and do
    not sum to 1: they are not probabilities. **Softmax** turns them into probabilities (all
    positive, summing to 1), the way sigmoid squashed one value into [0, 1]:

    $$p_i = \\frac{e^{z_i}}{\\sum_j e^{z_j}}$$

    **Cross-entropy** is $L = -\\log(p_{correct})$: a confidence penalty. Confident and right
    (p = 0.95) costs 0.05; unsure (p = 0.5) costs 0.69; confident and wrong (p = 0.01) costs
    4.61, about 90 times more (4.605 / 0.051 ≈ 90).

    1. The worked example: 10 logits, class 7 has logit 3.8. Compute `exp_7` ($e^{3.8}$),
       `exp_sum` (the sum over all 10 classes) and `p_7 = exp_7 / exp_sum`. Then let PyTorch
       do the whole vector: `probs = torch.softmax(worked_logits, dim=0)`.
    2. The check question: a 3-class model outputs logits `[2.0, -1.0, 0.5]`. Predict first:
       which class does it pick, and is the loss high or low if the true label is 0? Then fill
       `check_losses`, the loss for each possible true label 0, 1 and 2, with
       `nn.CrossEntropyLoss()`. It takes a batch of raw logits `[B, C]` and integer labels
       `[B]`, so give it `check_logits.unsqueeze(0)` and `torch.tensor([label])`.
    """,
    setup="""
    worked_logits = torch.tensor([0.85, -0.65, 0.05, 0.35, -1.45, -0.25, 0.25, 3.8, 0.55, -0.66])
    check_logits = torch.tensor([2.0, -1.0, 0.5])
    """,
    scaffold="""
    exp_7 = None  # TODO: e to the power of class 7's logit (torch.exp or math.exp)
    exp_sum = None  # TODO: the sum of e^z over all 10 logits
    p_7 = None  # TODO: class 7's probability
    probs = None  # TODO: torch.softmax over the whole vector (dim=0)

    loss_fn = nn.CrossEntropyLoss()
    check_losses = {}  # TODO: {label: loss_fn(check_logits.unsqueeze(0), torch.tensor([label])).item()}
    """,
    solution="""
    exp_7 = torch.exp(worked_logits[7]).item()
    exp_sum = torch.exp(worked_logits).sum().item()
    p_7 = exp_7 / exp_sum
    probs = torch.softmax(worked_logits, dim=0)

    loss_fn = nn.CrossEntropyLoss()  # raw logits in: it applies log-softmax itself
    check_losses = {
        label: loss_fn(check_logits.unsqueeze(0), torch.tensor([label])).item()
        for label in range(3)
    }
    """,
    needs=("exp_7", "exp_sum", "p_7", "probs"),
    check="""
    assert abs(exp_7 - 44.70) < 0.01, f"e^3.8 = 44.70, got {exp_7}"
    assert abs(exp_sum - 54.58) < 0.01, f"the sum of e^z over the 10 logits is 54.58, got {exp_sum}"
    assert abs(p_7 - 0.819) < 0.001, f"p_7 = 44.70 / 54.58 = 0.82, got {p_7}"
    assert probs.shape == (10,) and abs(probs.sum().item() - 1) < 1e-6, "softmax sums to 1"
    assert (probs > 0).all() and abs(probs[7].item() - p_7) < 1e-6, "PyTorch agrees with you"

    check_probs = torch.softmax(check_logits, dim=0)
    assert check_probs.argmax().item() == 0, "the largest logit wins: class 0"
    assert sorted(check_losses) == [0, 1, 2], f"one loss per label 0, 1, 2; got {check_losses}"
    for label, expected in {0: 0.24, 1: 3.24, 2: 1.74}.items():
        assert abs(check_losses[label] - expected) < 0.01, (
            f"true label {label}: -ln p = {expected}, got {check_losses[label]:.3f}"
        )
    assert abs(check_losses[0] + math.log(check_probs[0].item())) < 1e-5, "CE is -log p(correct)"

    # The double-softmax bug: softmax before nn.CrossEntropyLoss squashes twice.
    double = loss_fn(torch.softmax(check_logits, dim=0).unsqueeze(0), torch.tensor([0])).item()
    print(f"OK: e^3.8 = {exp_7:.2f}, sum = {exp_sum:.2f}, p_7 = {p_7:.2f}")
    print(f"    logits [2.0, -1.0, 0.5] -> softmax {[round(p, 3) for p in check_probs.tolist()]}: "
          "predicts class 0")
    print("    loss if the true label is " + ", ".join(
        f"{label}: {loss:.2f}" for label, loss in check_losses.items()) + " (low, high, medium)")
    print(f"    softmax first (the bug): label 0 would cost {double:.2f} instead of "
          f"{check_losses[0]:.2f}: squashed twice, the loss can't reach 0 however right the model is")
    """,
)

STEP_1 = exercise(
    brief="""
    ## Step 1 (guided): load MNIST

    As in 2.2.1, with one addition: the **test** split, 10,000 images the model never trains
    on.

    1. `transform`: `transforms.ToTensor()`, then `transforms.Normalize((0.1307,), (0.3081,))`.
    2. `train_data` and `test_data`: `datasets.MNIST(DATA_ROOT, train=..., download=True,
       transform=transform)`.
    3. `train_loader`: batch 64, `shuffle=True` (a new order every epoch).
       `test_loader`: batch 1000, `shuffle=False` (evaluation needs no shuffling, and a fixed
       order makes results comparable).
    """,
    scaffold="""
    transform = transforms.Compose([
        # TODO: ToTensor(), then Normalize((0.1307,), (0.3081,))
    ])
    train_data = None  # TODO: the training split (train=True)
    test_data = None  # TODO: the test split (train=False)
    train_loader = None  # TODO: batch_size=64, shuffle=True
    test_loader = None  # TODO: batch_size=1000, shuffle=False
    """,
    solution="""
    transform = transforms.Compose([
        transforms.ToTensor(),
        transforms.Normalize((0.1307,), (0.3081,)),
    ])
    train_data = datasets.MNIST(DATA_ROOT, train=True, download=True, transform=transform)
    test_data = datasets.MNIST(DATA_ROOT, train=False, download=True, transform=transform)
    train_loader = DataLoader(train_data, batch_size=64, shuffle=True)
    test_loader = DataLoader(test_data, batch_size=1000, shuffle=False)
    """,
    needs=("train_data", "test_data", "train_loader", "test_loader"),
    check="""
    assert [type(step) for step in transform.transforms] == [transforms.ToTensor, transforms.Normalize], (
        "transform should be Compose([ToTensor(), Normalize((0.1307,), (0.3081,))]), got "
        f"{transform.transforms}"
    )
    assert len(train_data) == 60_000 and len(test_data) == 10_000, (
        f"MNIST has 60,000 training and 10,000 test images, got {len(train_data)} and {len(test_data)}"
    )
    images, labels = next(iter(train_loader))
    assert images.shape == (64, 1, 28, 28), f"a training batch is [64, 1, 28, 28], got {list(images.shape)}"
    assert 0.7 < images.std().item() < 1.3, "normalised pixels spread about 1: is Normalize in?"
    assert len(train_loader) == 938, f"ceil(60000 / 64) = 938 training batches, got {len(train_loader)}"
    assert len(test_loader) == 10, f"10,000 / 1000 = 10 test batches, got {len(test_loader)}"
    first_test_labels = next(iter(test_loader))[1]
    assert first_test_labels.shape == (1000,), "test batches hold 1000 images"
    assert torch.equal(first_test_labels, next(iter(test_loader))[1]), (
        "the test loader should not shuffle (shuffle=False): same order every time"
    )
    assert not torch.equal(labels, next(iter(train_loader))[1]), "the train loader shuffles"
    print(f"OK: {len(train_data):,} training images in {len(train_loader)} batches of 64 (shuffled), "
          f"{len(test_data):,} test images in {len(test_loader)} batches of 1000 (fixed order)")
    """,
)

STEP_2 = exercise(
    brief="""
    ## Step 2 (guided): build the simple model

    Write `make_simple_model()`, returning an `nn.Sequential`:

    - `nn.Flatten()`: the module version of reshape, `[B, 1, 28, 28]` → `[B, 784]`;
    - `nn.Linear(784, 256)`, `nn.ReLU()`, `nn.Linear(256, 128)`, `nn.ReLU()`;
    - `nn.Linear(128, 10)`: one output per digit, with **no activation**. Those ten numbers
      are the logits; `nn.CrossEntropyLoss` applies the softmax itself.

    Predict the parameter count first: each `Linear(a, b)` has a·b weights and b biases.
    """,
    scaffold="""
    def make_simple_model():
        return nn.Sequential(
            # TODO: Flatten, then 784 -> 256 -> 128 -> 10 with ReLU between, nothing after the last
        )


    simple_model = make_simple_model()
    """,
    solution="""
    def make_simple_model():
        return nn.Sequential(
            nn.Flatten(),
            nn.Linear(784, 256),
            nn.ReLU(),
            nn.Linear(256, 128),
            nn.ReLU(),
            nn.Linear(128, 10),  # the logits: no activation on the output layer
        )


    simple_model = make_simple_model()
    """,
    check="""
    def count_parameters(model):
        return sum(p.numel() for p in model.parameters() if p.requires_grad)


    assert len(simple_model) > 0, "make_simple_model() returns an empty nn.Sequential: add the layers"
    outputs = simple_model(images)
    assert outputs.shape == (64, 10), f"64 images in, [64, 10] logits out; got {list(outputs.shape)}"
    assert isinstance(simple_model[0], nn.Flatten), "start with nn.Flatten()"
    assert isinstance(simple_model[-1], nn.Linear), (
        "the last layer is nn.Linear(128, 10) with no activation after it: the logits"
    )
    n = count_parameters(simple_model)
    assert n == 235_146, f"784·256+256 + 256·128+128 + 128·10+10 = 235,146 parameters, got {n:,}"
    print(f"OK: {n:,} parameters (about 235K); logits for one image: "
          f"{[round(v, 2) for v in outputs[0].tolist()]} (negative too, and not summing to 1)")
    """,
)

STEP_3 = exercise(
    brief="""
    ## Step 3 (supported): the training loop

    Write `train_one_epoch(model, loader, loss_fn, optimizer)`: one pass over the loader with
    the four-line heartbeat (forward, loss, zero_grad + backward, step) and two running totals,
    so that it returns `(mean loss, accuracy)` over the epoch:

    - the loss, weighted by batch size: `total_loss += loss.item() * len(labels)`;
    - the correct predictions: the predicted class is the largest logit,
      `outputs.argmax(dim=1)`, and `(predicted == labels).sum().item()` counts the hits.

    Call `model.train()` first (it matters in step 6). Then train the simple model with
    `nn.CrossEntropyLoss()` and `optim.Adam(lr=1e-3)`.

    The full recipe is **5 epochs, about 97% test accuracy**; `EPOCHS = 1` keeps this cell
    quick (one epoch already passes 90%). Set it to 5 when you have a minute.
    """,
    scaffold="""
    EPOCHS = 1  # the course's recipe: 5 epochs, about 97% test accuracy


    def train_one_epoch(model, loader, loss_fn, optimizer):
        \"\"\"One epoch of training; returns (mean loss, accuracy) over it.\"\"\"
        model.train()
        total_loss, correct, seen = 0.0, 0, 0
        for images, labels in loader:
            # TODO: forward pass, loss, zero_grad, backward, step
            # TODO: add loss.item() * len(labels) to total_loss
            # TODO: count the correct predictions (argmax over dim=1) and the images seen
            raise NotImplementedError("fill in the loop: the heartbeat, then the running totals")
        return total_loss / seen, correct / seen


    torch.manual_seed(0)
    simple_model = make_simple_model()
    loss_fn = None  # TODO: the classification loss
    optimizer = None  # TODO: Adam over simple_model's parameters, lr=1e-3
    for epoch in range(1, EPOCHS + 1):
        train_loss, train_accuracy = train_one_epoch(simple_model, train_loader, loss_fn, optimizer)
        print(f"epoch {epoch}: train loss {train_loss:.4f}, train accuracy {train_accuracy:.2%}")
    """,
    solution='''
    EPOCHS = 1  # the course's recipe: 5 epochs, about 97% test accuracy


    def train_one_epoch(model, loader, loss_fn, optimizer):
        """One epoch of training; returns (mean loss, accuracy) over it."""
        model.train()
        total_loss, correct, seen = 0.0, 0, 0
        for images, labels in loader:
            outputs = model(images)  # [B, 10] logits
            loss = loss_fn(outputs, labels)  # raw logits + integer labels
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(labels)
            correct += (outputs.argmax(dim=1) == labels).sum().item()
            seen += len(labels)
        return total_loss / seen, correct / seen


    torch.manual_seed(0)
    simple_model = make_simple_model()
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.Adam(simple_model.parameters(), lr=1e-3)
    for epoch in range(1, EPOCHS + 1):
        train_loss, train_accuracy = train_one_epoch(simple_model, train_loader, loss_fn, optimizer)
        print(f"epoch {epoch}: train loss {train_loss:.4f}, train accuracy {train_accuracy:.2%}")
    ''',
    needs=("loss_fn", "optimizer", "train_loss", "train_accuracy"),
    check="""
    assert isinstance(loss_fn, nn.CrossEntropyLoss), "classification uses nn.CrossEntropyLoss()"
    assert isinstance(optimizer, optim.Adam) and optimizer.defaults["lr"] == 1e-3, "Adam, lr=1e-3"
    assert 0 < train_loss < 0.6, (
        f"after an epoch the mean loss should be well below 2.3 (guessing), got {train_loss:.3f}"
    )
    assert 0.85 < train_accuracy <= 1, (
        f"accuracy over the first epoch should pass 85%, got {train_accuracy:.2%}: "
        "is it correct / seen, with argmax over dim=1?"
    )
    print(f"OK: a real model trained on real data: {train_accuracy:.2%} of the training images "
          f"right during epoch {EPOCHS} (loss {train_loss:.3f}; 2.30 = ln 10 is guessing)")
    """,
)

LOSS_VS_ACCURACY = markdown(
    """
    **Loss vs accuracy.** The model optimizes the loss (smooth, it has a gradient); you judge it
    by accuracy (% correct, what a person understands). They move together but are not the
    same: a right answer given with 51% confidence counts fully for accuracy yet still costs
    some loss.
    """
)

STEP_4 = exercise(
    brief="""
    ## Step 4 (supported): evaluate on the test set

    Write `evaluate(model, loader, loss_fn)` returning `(mean loss, accuracy)` on data the
    model never trained on. It is the training loop with three differences:

    1. no `optimizer.zero_grad()`, `loss.backward()` or `optimizer.step()`: nothing learns;
    2. the loop runs inside `with torch.no_grad():`: no graph is recorded, which saves memory
       and time;
    3. the loader is `test_loader`, which does not shuffle.

    And first `model.eval()`: Dropout and BatchNorm (step 6) behave differently in training.
    Forgetting it gives noisy, unreliable test numbers.
    """,
    scaffold="""
    def evaluate(model, loader, loss_fn):
        \"\"\"Mean loss and accuracy over the loader, without learning anything.\"\"\"
        # TODO: switch the model to evaluation mode
        total_loss, correct, seen = 0.0, 0, 0
        # TODO: inside torch.no_grad(), loop over the loader: forward, loss, the same totals
        # TODO: return total_loss / seen, correct / seen
        raise NotImplementedError("fill in evaluate: model.eval(), then the loop in torch.no_grad()")


    test_loss, test_accuracy = evaluate(simple_model, test_loader, loss_fn)
    print(f"test loss {test_loss:.4f}, test accuracy {test_accuracy:.2%}")
    """,
    solution='''
    def evaluate(model, loader, loss_fn):
        """Mean loss and accuracy over the loader, without learning anything."""
        model.eval()
        total_loss, correct, seen = 0.0, 0, 0
        with torch.no_grad():
            for images, labels in loader:
                outputs = model(images)
                total_loss += loss_fn(outputs, labels).item() * len(labels)
                correct += (outputs.argmax(dim=1) == labels).sum().item()
                seen += len(labels)
        return total_loss / seen, correct / seen


    test_loss, test_accuracy = evaluate(simple_model, test_loader, loss_fn)
    print(f"test loss {test_loss:.4f}, test accuracy {test_accuracy:.2%}")
    ''',
    needs=("test_loss", "test_accuracy"),
    check="""
    assert test_accuracy > 0.9, f"one epoch should pass 90% on the test set, got {test_accuracy:.2%}"
    assert test_loss < 0.4, f"test loss should be well below 2.3 (guessing), got {test_loss:.3f}"

    # Watch evaluate from inside: every forward pass should be in eval mode with no graph.
    seen_in_forward = []
    hook = simple_model.register_forward_hook(
        lambda module, inputs, output: seen_in_forward.append((module.training, torch.is_grad_enabled()))
    )
    before = [p.detach().clone() for p in simple_model.parameters()]
    simple_model.train()
    try:
        again = evaluate(simple_model, test_loader, loss_fn)
    finally:
        hook.remove()
    assert len(seen_in_forward) == len(test_loader), "evaluate should see each test batch once"
    assert not any(training for training, _ in seen_in_forward), "call model.eval() first"
    assert not any(grad for _, grad in seen_in_forward), "run the loop inside torch.no_grad()"
    assert all(torch.equal(a, b) for a, b in zip(before, simple_model.parameters())), (
        "evaluation must not change the weights: no optimizer step"
    )
    assert abs(again[1] - test_accuracy) < 1e-9, "evaluating twice gives the same accuracy"
    print(f"OK: test accuracy {test_accuracy:.2%} after {EPOCHS} epoch(s) "
          "(5 epochs of the recipe reach about 97%), in eval mode, without gradients")
    """,
)

STEP_5 = exercise(
    brief="""
    ## Step 5 (supported): what does it get wrong?

    Accuracy is one number; the mistakes tell you more. Collect, over the whole test set:

    - `all_probs`: softmax probabilities `[10000, 10]` (softmax here only to *show*
      probabilities, never before the loss);
    - `all_labels`: the true labels `[10000]`;
    - `predicted`: the predicted class of each image, and `confidence`: its probability;
    - `confident_mistakes`: the indices of the wrong predictions, most confident first
      (`torch.argsort(..., descending=True)`).

    The cell after the check draws a few test digits, green when right and red when wrong, with
    the confidence, then the twelve most confident mistakes.
    """,
    scaffold="""
    simple_model.eval()
    prob_chunks, label_chunks = [], []
    with torch.no_grad():
        for images, labels in test_loader:
            # TODO: append the softmax of the model's logits (dim=1) and the labels
            pass
    all_probs = None  # TODO: torch.cat the probability chunks
    all_labels = None  # TODO: torch.cat the label chunks
    confidence, predicted = None, None  # TODO: all_probs.max(dim=1) gives both
    wrong = None  # TODO: indices where predicted != all_labels (hint: .nonzero().flatten())
    confident_mistakes = None  # TODO: wrong, sorted by confidence, highest first
    """,
    solution="""
    simple_model.eval()
    prob_chunks, label_chunks = [], []
    with torch.no_grad():
        for images, labels in test_loader:
            prob_chunks.append(torch.softmax(simple_model(images), dim=1))
            label_chunks.append(labels)
    all_probs = torch.cat(prob_chunks)
    all_labels = torch.cat(label_chunks)
    confidence, predicted = all_probs.max(dim=1)
    wrong = (predicted != all_labels).nonzero().flatten()
    confident_mistakes = wrong[torch.argsort(confidence[wrong], descending=True)]
    """,
    needs=("all_probs", "all_labels", "confidence", "predicted", "confident_mistakes"),
    check="""
    assert all_probs.shape == (10_000, 10), (
        f"one row of 10 probabilities per test image, got {list(all_probs.shape)}"
    )
    assert torch.allclose(all_probs.sum(dim=1), torch.ones(10_000), atol=1e-5), "each row sums to 1"
    assert torch.equal(all_labels, test_data.targets), "the labels in the test loader's fixed order"
    accuracy = (predicted == all_labels).float().mean().item()
    assert abs(accuracy - test_accuracy) < 1e-4, (
        f"accuracy here {accuracy:.4f} should match step 4's {test_accuracy:.4f}"
    )
    assert len(confident_mistakes) == 10_000 - round(accuracy * 10_000), "every mistake, once"
    assert (predicted[confident_mistakes] != all_labels[confident_mistakes]).all(), "only mistakes"
    ranked = confidence[confident_mistakes]
    assert (ranked[:-1] >= ranked[1:]).all(), "most confident mistakes first"
    print(f"OK: {len(confident_mistakes)} mistakes out of 10,000. The most confident ones:")
    for index in confident_mistakes[:5].tolist():
        print(f"  test image {index}: true {all_labels[index].item()}, predicted "
              f"{predicted[index].item()} with {confidence[index].item():.0%} confidence")
    """,
)

GALLERY = code(
    """
    # Green: right; red: wrong. matplotlib is optional: without it, the pictures are skipped.
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        print("No matplotlib (pip install matplotlib to see the digits): skipping the galleries")
    else:
        raw_images = test_data.data  # the uint8 pixels, before the transform

        def gallery(indices, title):
            fig, axes = plt.subplots(2, 6, figsize=(9, 3.6))
            for ax, index in zip(axes.flat, indices):
                right = predicted[index] == all_labels[index]
                ax.imshow(raw_images[index], cmap="gray")
                ax.set_title(f"{predicted[index].item()} ({confidence[index].item():.0%})"
                             + ("" if right else f", true {all_labels[index].item()}"),
                             color="green" if right else "red", fontsize=9)
                ax.axis("off")
            fig.suptitle(title)
            plt.tight_layout()
            plt.show()

        gallery(range(12), "The first 12 test images")
        gallery(confident_mistakes[:12].tolist(), "The 12 most confident mistakes")
    """
)

MISTAKES_TAKEAWAY = markdown(
    """
    **What to notice.** Most mistakes are digits a person would hesitate over too: a 4 that is
    nearly a 9, a 7 with a bar that looks like a 2. Errors cluster on genuinely ambiguous
    handwriting. A first model won't reach 99%: train, look at the errors, improve, repeat.
    """
)

STEP_6 = exercise(
    brief="""
    ## Step 6 (independent): the improved model

    Regularization from Foundations, as PyTorch code:

    - `nn.BatchNorm1d(features)` normalizes the activations between layers (1.3.6): batch
      statistics in `train()`, running averages in `eval()`;
    - `nn.Dropout(p=0.3)` silences 30% of the neurons at random (1.3.7): only in `train()`;
    - `weight_decay=1e-4` in Adam is the L2 penalty (1.3.7), applied through the optimizer:
      λ·w is added to the gradient, so Adam rescales that pull per parameter like the rest of
      the gradient (`optim.AdamW` instead decays the weights directly: decoupled weight decay).

    Write `make_improved_model()`: Flatten, then each hidden layer as **Linear → BatchNorm →
    ReLU → Dropout(0.3)**, and the output layer `nn.Linear(128, 10)` bare (no activation,
    dropout or BatchNorm). Then write `fit(model, optimizer, loader, epochs=EPOCHS)` that trains
    with `train_one_epoch` on `loader` and tests with `evaluate` on `test_loader` after each
    epoch, returning one row per epoch: `{"epoch", "train_accuracy", "test_accuracy"}`. Train a
    fresh simple model and the improved one (weight decay 1e-4) on `train_loader` for `EPOCHS`
    each; `side_by_side`, given below, prints the two epoch tables next to each other.
    """,
    setup="""
    def side_by_side(simple_history, improved_history):
        \"\"\"The two epoch tables next to each other; gap = train - test accuracy, in points.\"\"\"
        print(f"{'':>5} | {'simple MLP':^23} | {'improved MLP':^23}")
        print(f"{'epoch':>5} |" + f" {'train':>7} {'test':>7} {'gap':>7} |" * 2)
        for simple_row, improved_row in zip(simple_history, improved_history):
            cells = []
            for row in (simple_row, improved_row):
                gap = 100 * (row["train_accuracy"] - row["test_accuracy"])
                cells.append(f" {row['train_accuracy']:>7.2%} {row['test_accuracy']:>7.2%} {gap:>+7.1f} |")
            print(f"{simple_row['epoch']:>5} |" + "".join(cells))
    """,
    scaffold="""
    def make_improved_model():
        return nn.Sequential(
            nn.Flatten(),
            # TODO: Linear(784, 256), BatchNorm1d(256), ReLU(), Dropout(0.3)
            # TODO: Linear(256, 128), BatchNorm1d(128), ReLU(), Dropout(0.3)
            # TODO: Linear(128, 10)
        )


    def fit(model, optimizer, loader, epochs=EPOCHS):
        \"\"\"Train on `loader` for `epochs`, testing after each; one row per epoch.\"\"\"
        history = []
        # TODO: for each epoch: train_one_epoch on loader, evaluate on test_loader,
        #       append {"epoch": ..., "train_accuracy": ..., "test_accuracy": ...}
        return history


    torch.manual_seed(0)
    simple_again = make_simple_model()
    simple_history = fit(simple_again, optim.Adam(simple_again.parameters(), lr=1e-3), train_loader)
    torch.manual_seed(0)
    improved_model = make_improved_model()
    improved_optimizer = None  # TODO: Adam, lr=1e-3, weight_decay=1e-4
    improved_history = fit(improved_model, improved_optimizer, train_loader)
    side_by_side(simple_history, improved_history)
    """,
    solution='''
    def make_improved_model():
        return nn.Sequential(
            nn.Flatten(),
            nn.Linear(784, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Dropout(0.3),
            nn.Linear(256, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Dropout(0.3),
            nn.Linear(128, 10),  # the output layer stays bare
        )


    def fit(model, optimizer, loader, epochs=EPOCHS):
        """Train on `loader` for `epochs`, testing after each; one row per epoch."""
        history = []
        for epoch in range(1, epochs + 1):
            _, train_accuracy = train_one_epoch(model, loader, loss_fn, optimizer)
            _, test_accuracy = evaluate(model, test_loader, loss_fn)
            history.append({"epoch": epoch, "train_accuracy": train_accuracy,
                            "test_accuracy": test_accuracy})
        return history


    torch.manual_seed(0)
    simple_again = make_simple_model()
    simple_history = fit(simple_again, optim.Adam(simple_again.parameters(), lr=1e-3), train_loader)
    torch.manual_seed(0)
    improved_model = make_improved_model()
    improved_optimizer = optim.Adam(improved_model.parameters(), lr=1e-3, weight_decay=1e-4)
    improved_history = fit(improved_model, improved_optimizer, train_loader)
    side_by_side(simple_history, improved_history)
    ''',
    needs=("improved_model", "improved_optimizer", "simple_history", "improved_history"),
    check="""
    layers = [type(layer) for layer in improved_model]
    assert layers == [nn.Flatten, nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Dropout,
                      nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Dropout, nn.Linear], (
        "Flatten, then (Linear, BatchNorm1d, ReLU, Dropout) twice, then a bare Linear; got "
        + ", ".join(layer.__name__ for layer in layers)
    )
    assert all(layer.p == 0.3 for layer in improved_model if isinstance(layer, nn.Dropout)), "p=0.3"
    n = count_parameters(improved_model)
    assert n == 235_914, f"235,146 + 2·(256 + 128) BatchNorm weights and biases = 235,914, got {n:,}"
    assert improved_optimizer.defaults["weight_decay"] == 1e-4, "Adam(..., weight_decay=1e-4)"
    assert len(simple_history) == len(improved_history) == EPOCHS, (
        f"fit should return one row per epoch ({EPOCHS}), got {len(simple_history)} and "
        f"{len(improved_history)}"
    )
    assert simple_history[-1]["test_accuracy"] > 0.9, "the simple model passes 90% again"
    assert improved_history[-1]["test_accuracy"] > 0.9, (
        f"the improved model should pass 90% too, got {improved_history[-1]['test_accuracy']:.2%}"
    )

    # train() vs eval(): Dropout and BatchNorm make train-mode answers noisy.
    probe = copy.deepcopy(improved_model)  # a train()-mode pass updates BatchNorm's averages
    batch = next(iter(test_loader))[0][:256]
    with torch.no_grad():
        probe.train()
        noisy = [probe(batch).argmax(dim=1) for _ in range(2)]
        probe.eval()
        steady = [probe(batch).argmax(dim=1) for _ in range(2)]
    assert not torch.equal(noisy[0], noisy[1]), "in train() mode dropout changes the answers"
    assert torch.equal(steady[0], steady[1]), "in eval() mode the answers are repeatable"
    changed = (noisy[0] != noisy[1]).sum().item()
    print(f"OK: {n:,} parameters; after {EPOCHS} epoch(s): simple "
          f"{simple_history[-1]['test_accuracy']:.2%}, improved {improved_history[-1]['test_accuracy']:.2%} "
          f"test accuracy; two train()-mode passes disagree on {changed} of 256 images, eval() on none")
    """,
)

SCISSORS = markdown(
    """
    **Reading the tables.** With the quick default, one epoch on all 60,000 images, the two
    tables look alike: the gap between train and test accuracy has had no time to open, and
    even 5 epochs on all 60,000 images keep it under a point. Overfitting shows when a model
    sees **few images many times**. The optional cell below trains both models on the first
    **5,000 training images for 15 epochs**, the setting the app's page uses for the same
    comparison. There the simple model's train accuracy climbs towards 100% while its test
    accuracy stalls: the scissors open, it starts memorising the training set. The improved
    model keeps the blades closer together.

    Why can test accuracy *beat* train accuracy, even for the simple model with no dropout?
    Mainly because train accuracy is a running average over the epoch, counted while the weights
    are still improving: the early batches were scored by a worse model than the one the test
    pass sees at the end. Dropout adds to it for the improved model: its train accuracy is
    measured with neurons silenced, a handicap the test pass, in `eval()` mode, doesn't have.
    """
)

SCISSORS_OPTION = code(
    """
    # Optional, the scissors setting: both models on the first 5,000 training images for 15 epochs,
    # as on the app's page. A minute or two on one CPU thread, half of it scoring the 10,000 test
    # images after every epoch; the default run above stays short.
    SCISSORS_SETTING = False  # set to True, then run this cell again
    SCISSORS_IMAGES, SCISSORS_EPOCHS = 5_000, 15


    def scissors(images=SCISSORS_IMAGES, epochs=SCISSORS_EPOCHS):
        \"\"\"Both recipes trained on the first `images` training images for `epochs` epochs.\"\"\"
        loader = DataLoader(Subset(train_data, range(images)), batch_size=64, shuffle=True)
        histories = []
        for make_model, weight_decay in [(make_simple_model, 0.0), (make_improved_model, 1e-4)]:
            torch.manual_seed(0)
            model = make_model()
            optimizer = optim.Adam(model.parameters(), lr=1e-3, weight_decay=weight_decay)
            histories.append(fit(model, optimizer, loader, epochs))
        return histories


    if SCISSORS_SETTING:
        side_by_side(*scissors())
    else:
        print(f"Skipped: set SCISSORS_SETTING = True to train both models on {SCISSORS_IMAGES:,} "
              f"images x {SCISSORS_EPOCHS} epochs")
    """
)

CHECK_2 = markdown(
    """
    **Check.** A model reaches 99.2% train accuracy and 96.8% test accuracy. What is happening,
    and what would you do? Decide before you open the answer.

    <details>
    <summary><b>Answer</b></summary>

    Overfitting: the 2.4-point gap is the scissors opening. Add regularization (Dropout,
    BatchNorm, weight decay) and compare the curves again.

    </details>
    """
)


SUMMARY = markdown(
    """
    ## What you practised

    - **Softmax** turns logits into probabilities; **cross-entropy** `-log p(correct)` is a
      confidence penalty. `nn.CrossEntropyLoss` takes raw logits: no softmax before it.
    - **The model**: `nn.Flatten` + 784 → 256 → 128 → 10 with ReLU, no output activation
      (235,146 parameters).
    - **The loop**: the same four lines as in 2.1.4, with `argmax(dim=1)` to count accuracy.
    - **Evaluation**: `model.eval()` + `torch.no_grad()`, no optimizer calls, a test loader that
      does not shuffle.
    - **The mistakes**: most confident errors are ambiguous digits.
    - **Regularization in code**: Linear → BatchNorm → ReLU → Dropout, `weight_decay=1e-4`, and
      `train()` / `eval()` modes that change what those layers do.
    - **The scissors**: the train/test gap opens when a model sees few images many times (5,000
      images x 15 epochs); regularization keeps the blades closer together.

    Next: debugging and visualization, for when training does *not* go this smoothly.
    """
)

CELLS = [INTRO, SETUP, *WARM_UP, *STEP_1, *STEP_2, *STEP_3, LOSS_VS_ACCURACY, *STEP_4, *STEP_5,
         GALLERY, MISTAKES_TAKEAWAY, *STEP_6, SCISSORS, SCISSORS_OPTION, CHECK_2, SUMMARY]
