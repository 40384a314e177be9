"""Unit tests of tools/check_artifact.py."""

import check_artifact

MANIFEST = {"collection_info": {"namespace": "hapair", "name": "stack"}}


def test_a_clean_artifact_passes():
    assert check_artifact.problems(list(check_artifact.REQUIRED), MANIFEST) == []


def test_lab_and_test_files_are_reported():
    names = list(check_artifact.REQUIRED) + ["tests/unit/x.py", "inventories/lab/hosts.yml", "Makefile"]
    assert check_artifact.problems(names, MANIFEST) == [
        "should not be shipped: tests/unit/x.py",
        "should not be shipped: inventories/lab/hosts.yml",
        "should not be shipped: Makefile",
    ]


def test_missing_files_and_wrong_name_are_reported():
    names = [n for n in check_artifact.REQUIRED if n != "playbooks/site.yml"]
    found = check_artifact.problems(names, {"collection_info": {"namespace": "x", "name": "y"}})
    assert found == ["missing: playbooks/site.yml", "wrong collection name: x.y"]
