"""A JSON patch read as the sparse manifest it writes (sources/patches.py)."""

from __future__ import annotations

from kubetrail.sources.patches import MAX_OPS, MAX_PADDING, is_json_patch, json_patch_manifest


def test_values_land_at_their_paths_and_indexes_merge() -> None:
    ops = [{"op": "add", "path": "/spec/containers/1/image", "value": "evil"},
           {"op": "replace", "path": "/spec/containers/1/securityContext/privileged",
            "value": True},
           {"op": "add", "path": "/metadata/annotations/a~1b~0c", "value": "x"},
           {"op": "remove", "path": "/spec/hostPID"},
           {"op": "move", "from": "/x", "path": "/spec/hostIPC"}]
    assert json_patch_manifest(ops) == {
        "spec": {"containers": [{}, {"image": "evil", "securityContext": {"privileged": True}}],
                 "hostIPC": True, "hostPID": None},
        "metadata": {"annotations": {"a/b~c": "x"}}}


def test_whole_document_and_malformed_operations() -> None:
    ops = [{"op": "add", "path": "", "value": {"kind": "Role"}}, {"op": "add", "path": "x"},
           {"op": "add", "path": "nope", "value": 1}, "junk", {"op": "add", "path": 3}]
    assert json_patch_manifest(ops) == {"kind": "Role"}


def test_bounds_hold_on_huge_indexes_and_many_operations() -> None:
    big = [{"op": "add", "path": "/a/99999999999999/b", "value": 1}]
    assert json_patch_manifest(big) == {"a": [{"b": 1}]}
    huge = [{"op": "add", "path": "/a/" + "9" * 5000, "value": 1}]  # past int()'s digit limit
    assert json_patch_manifest(huge) == {"a": [1]}
    many = [{"op": "add", "path": f"/k{i}", "value": i} for i in range(MAX_OPS + 10)]
    assert len(json_patch_manifest(many)) == MAX_OPS


def test_only_lists_of_operations_are_patches() -> None:
    assert is_json_patch([{"op": "add"}])
    assert not is_json_patch([{"op": "add"}, 3])
    assert not is_json_patch(["a"])


def test_deep_padded_paths_cannot_allocate_without_bound() -> None:
    path = "/" + "/".join(["a", "255"] * 31) + "/x"
    ops = [{"op": "add", "path": path.replace("a", f"k{i}", 1), "value": True}
           for i in range(MAX_OPS)]

    def slots(value: object) -> int:
        if isinstance(value, dict):
            return sum(slots(v) for v in value.values())
        if isinstance(value, list):
            return len(value) + sum(slots(v) for v in value)
        return 0

    assert slots(json_patch_manifest(ops)) <= MAX_PADDING + MAX_OPS * 32
