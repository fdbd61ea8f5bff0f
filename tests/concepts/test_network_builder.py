"""Build by clicking: the formula in x out + out equals sum(p.numel()); the shown subclass code,
executed, gives the same parameter shapes."""

import pytest
import torch

from course.concepts import network_builder as nb

LAYER_LISTS = ([(1, "none")], [(8, "ReLU"), (1, "none")],
               [(16, "Tanh"), (4, "Sigmoid"), (3, "none")],
               [(64, "ReLU")] * 5 + [(2, "none")])


@pytest.mark.parametrize("layers", LAYER_LISTS)
def test_formula_matches_numel(layers):
    model = nb.build_sequential(2, layers)
    assert nb.formula_count(2, layers) == sum(p.numel() for p in model.parameters())
    assert nb.parameter_count(model) == nb.formula_count(2, layers)


@pytest.mark.parametrize("layers", LAYER_LISTS)
def test_subclass_code_runs_with_the_same_shapes_and_forward(layers):
    model = nb.build_sequential(2, layers)
    net = nb.run_subclass_code(nb.subclass_code(2, layers))
    assert [p.shape for p in net.parameters()] == [p.shape for p in model.parameters()]
    net.load_state_dict(dict(zip(net.state_dict(), model.state_dict().values())))
    x = torch.randn(5, 2)
    assert torch.allclose(net(x), model(x))


def test_parameter_table_rows_and_layer_sizes():
    layers = [(8, "ReLU"), (1, "none")]
    assert nb.layer_sizes(2, layers) == [(2, 8), (8, 1)]
    rows = nb.parameter_table(nb.build_sequential(2, layers))
    assert rows == [{"name": "0.weight", "shape": "(8, 2)", "count": 16},
                    {"name": "0.bias", "shape": "(8,)", "count": 8},
                    {"name": "2.weight", "shape": "(1, 8)", "count": 8},
                    {"name": "2.bias", "shape": "(1,)", "count": 1}]
