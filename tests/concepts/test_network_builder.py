import torch

from course.concepts import linear_by_hand, network_builder as nb, registration, shape_flow, state_dict_keys


def test_formula_matches_numel_and_subclass_code_runs():
    for layers in ([(1, "none")], [(8, "ReLU"), (1, "none")], [(16, "Tanh"), (4, "Sigmoid"), (3, "none")]):
        model = nb.build_sequential(2, layers)
        assert nb.formula_count(2, layers) == sum(p.numel() for p in model.parameters())
        net = nb.run_subclass_code(nb.subclass_code(2, layers))
        assert [p.shape for p in net.parameters()] == [p.shape for p in model.parameters()]


def test_linear_by_hand_and_shapes_and_registration_and_keys():
    layer = linear_by_hand.make_layer()
    x = torch.randn(4, 3)
    assert layer.weight.shape == (2, 3)
    assert torch.allclose(linear_by_hand.by_hand(x, layer.weight, layer.bias), layer(x))
    edited = linear_by_hand.with_edited_weight(layer, 0, 0, 1.5)
    assert edited.weight[0, 0] == 1.5 and not torch.equal(edited(x)[:, 0], layer(x)[:, 0])
    bad = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    rows, error = shape_flow.trace_shapes(bad, torch.randn(5, 2))
    assert len(rows) == 2 and "cannot be multiplied" in error
    assert registration.visible_parameters(registration.PlainListNet(3)) == 0
    assert registration.visible_parameters(registration.ModuleListNet(3)) == 60
    assert state_dict_keys.keys_side_by_side()[0] == ("0.weight", "fc1.weight")
    missing, unexpected = state_dict_keys.load_mismatched()
    assert "fc1.weight" in missing and "0.weight" in unexpected
