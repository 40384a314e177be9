"""Unit tests of tools/platforms.py, which keeps role metadata, scenarios and
the README in step with the one platforms list (tests/platforms.yml)."""

import textwrap

import platforms
import yaml

LIST = {
    "tested": [
        {"suite": "sid", "title": "Debian sid", "release": "forky", "image": "hapair/node:sid",
         "scenarios": ["default"], "how": "everything", "roles": ["web", "db"]},
        {"suite": "trixie", "title": "Debian 13", "release": "trixie", "image": "hapair/node:trixie",
         "scenarios": ["platforms"], "how": "the web", "roles": ["web"]},
    ],
    "untested": [{"platform": "Ubuntu", "why": "no image"}],
}


def make(root, metas, images):
    for role, versions in metas.items():
        meta = root / "roles" / role / "meta"
        meta.mkdir(parents=True)
        platforms_yaml = f"  platforms:\n    - name: Debian\n      versions: [{', '.join(versions)}]\n" if versions else ""
        (meta / "main.yml").write_text(f"---\ngalaxy_info:\n  role_name: {role}\n{platforms_yaml}dependencies: []\n")
    for scenario, image in images.items():
        inventory = root / "molecule" / scenario / "inventory"
        inventory.mkdir(parents=True)
        (inventory / "hosts.yml").write_text(yaml.safe_dump({"all": {"vars": {"hapair_lab_image": image}}}))
    return root


def test_roles_and_scenarios_in_step_have_no_problems(tmp_path):
    root = make(tmp_path, {"web": ["sid", "trixie"], "db": ["sid"]},
                {"default": "hapair/node:sid", "platforms": "hapair/node:trixie"})
    assert platforms.problems(root, LIST) == ([], [])


def test_a_role_claiming_an_untested_suite_is_reported(tmp_path):
    root = make(tmp_path, {"web": ["sid", "trixie"], "db": ["sid", "trixie", "bookworm"]},
                {"default": "hapair/node:sid", "platforms": "hapair/node:trixie"})
    found, notes = platforms.problems(root, LIST)
    assert len(found) == 1 and found[0].startswith("roles/db/meta/main.yml: galaxy_info.platforms is")
    assert "['sid']" in found[0] and notes == []


def test_a_role_not_yet_in_step_is_a_note_with_its_reason(tmp_path):
    root = make(tmp_path, {"web": ["sid", "trixie"], "db": ["bookworm"]},
                {"default": "hapair/node:sid", "platforms": "hapair/node:trixie"})
    found, notes = platforms.problems(root, {**LIST, "not_yet_in_step": {"db": "changed elsewhere"}})
    assert found == []
    assert notes and "not yet in step: changed elsewhere" in notes[0]


def test_a_scenario_on_another_image_or_missing_is_reported(tmp_path):
    root = make(tmp_path, {"web": ["sid", "trixie"], "db": ["sid"]}, {"default": "hapair/node:trixie"})
    found, _notes = platforms.problems(root, LIST)
    assert any("hapair_lab_image is hapair/node:trixie" in f and "scenario default" in f for f in found)
    assert any("names scenario platforms, which has no" in f for f in found)


def test_a_listed_role_that_does_not_exist_is_reported(tmp_path):
    root = make(tmp_path, {"web": ["sid", "trixie"]},
                {"default": "hapair/node:sid", "platforms": "hapair/node:trixie"})
    found, _notes = platforms.problems(root, LIST)
    assert found == ["tests/platforms.yml: suite sid lists role db, which does not exist"]


def test_the_table_names_each_suite_its_scenarios_and_what_is_untested():
    text = platforms.table(LIST)
    assert text.startswith(platforms.BEGIN) and text.endswith(platforms.END)
    assert "| Debian 13, reported as `trixie` | Molecule `platforms` on `hapair/node:trixie`: the web | web |" in text
    assert "- Ubuntu: no image." in text


def test_the_checkout_is_in_step_with_its_list():
    found, _notes = platforms.problems(platforms.ROOT, platforms.load(platforms.LIST))
    assert found == []
    assert platforms.readme(platforms.README, platforms.load(platforms.LIST), check_only=True) == 0


def test_the_readme_needs_its_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(textwrap.dedent("# x\n"))
    assert platforms.readme(readme, LIST, check_only=True) == 1
