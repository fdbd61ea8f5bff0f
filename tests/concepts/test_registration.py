"""A plain Python list hides its layers from parameters(); nn.ModuleList registers them."""

import pytest
import torch

from course.concepts import registration


@pytest.mark.parametrize("n", [1, 3, 5])
def test_plain_list_shows_nothing_and_module_list_shows_every_layer(n):
    assert registration.visible_parameters(registration.PlainListNet(n)) == 0
    assert registration.visible_parameters(registration.ModuleListNet(n)) == n * (4 * 4 + 4)


def test_both_run_the_same_forward_but_only_one_can_be_trained():
    plain, listed = registration.PlainListNet(2), registration.ModuleListNet(2)
    listed.load_state_dict({f"layers.{i}.{k}": v for i, layer in enumerate(plain.layers)
                            for k, v in layer.state_dict().items()})
    x = torch.randn(3, 4)
    assert torch.allclose(plain(x), listed(x))
    with pytest.raises(ValueError, match="empty parameter list"):
        torch.optim.SGD(plain.parameters(), lr=0.1)
    assert len(torch.optim.SGD(listed.parameters(), lr=0.1).param_groups[0]["params"]) == 4


def test_to_casts_module_list_parameters_but_not_plain_list_layers():
    listed = registration.dtypes_before_and_after_to(registration.ModuleListNet(2))
    plain_model = registration.PlainListNet(2)
    plain = registration.dtypes_before_and_after_to(plain_model)
    assert [r["tensor"] for r in listed] == ["layers[0].weight", "layers[0].bias",
                                             "layers[1].weight", "layers[1].bias"]
    assert all(r["before .to()"] == "torch.float32" for r in listed + plain)
    assert all(r["after .to()"] == "torch.float64" and r["converted"] for r in listed)
    assert all(r["after .to()"] == "torch.float32" and not r["converted"] for r in plain)
    with pytest.raises(RuntimeError, match="dtype|Double|Float"):
        plain_model(torch.randn(3, 4, dtype=torch.float64))  # the layers were left behind
