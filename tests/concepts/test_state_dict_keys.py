"""The same network as Sequential and as a subclass: same tensors, different keys."""

from course.concepts import state_dict_keys


def test_keys_side_by_side():
    assert state_dict_keys.keys_side_by_side() == [
        ("0.weight", "fc1.weight"), ("0.bias", "fc1.bias"),
        ("2.weight", "fc2.weight"), ("2.bias", "fc2.bias")]


def test_same_shapes_under_both_names():
    seq = state_dict_keys.sequential_net().state_dict()
    sub = state_dict_keys.SubclassNet().state_dict()
    assert [v.shape for v in seq.values()] == [v.shape for v in sub.values()]


def test_strict_false_loads_nothing_and_says_why():
    missing, unexpected = state_dict_keys.load_mismatched()
    assert missing == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert unexpected == ["0.weight", "0.bias", "2.weight", "2.bias"]
    error = state_dict_keys.strict_error()
    assert 'Missing key(s) in state_dict: "fc1.weight"' in error
    assert 'Unexpected key(s) in state_dict: "0.weight"' in error
