"""`gauntlet eval rulings` on a real HTTP server (the synthetic double's deterministic logprobs): the report's keys,
a fit on the calibration split reported on the test split with its baselines, other users' files (no `split`),
and bad files refused in one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gauntlet.graphs.evals.rulings import FEATURES
from gauntlet.graphs.evals.rulings_set import load_cases, seeded_split, with_training
from gauntlet.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
KEYS = {"auc", "aurc", "accepted", "wrong", "error_upper_95", "coverage", "threshold", "baselines",
        "seconds_per_case", "per_case", "eval", "cases", "right", "abstained", "risk_coverage", "model"}


def gauntlet(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gauntlet.ui.cli", *args], capture_output=True, text=True,
                          timeout=600, cwd=ROOT, env={**os.environ, **(env or {})})


def test_eval_rulings_reports_the_test_split_with_baselines(synthetic_url, tmp_path):
    out = gauntlet("eval", "rulings", "--limit", "6", "--model-url", synthetic_url, "--model-name", "synthetic",
                   "--json", "--out", str(tmp_path), "--save-calibration",
                   env={"GAUNTLET_CALIBRATIONS": str(tmp_path / "calibrations")})
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert KEYS <= set(doc) and doc["eval"] == "rulings" and doc["cases"] == 6
    assert {"majority_label", "similarity_alone", "content_free", "shuffled_proposal"} <= set(doc["baselines"])
    assert doc["right"] + doc["wrong"] + doc["abstained"] == 6 == len(doc["per_case"])
    assert all(r["split"] == "test" and 0 <= r["p_sustained"] <= 1 for r in doc["per_case"])
    assert set(doc["threshold"]) == {"sustained", "overruled"}
    # Jurors' default rule: one threshold for both labels; every rule's figures beside it, from the same fit.
    assert doc["threshold_rule"] == "pooled-posterior"
    assert doc["threshold"]["sustained"] == doc["threshold"]["overruled"]
    assert set(doc["by_threshold_rule"]) == {"per-label-observed", "per-label-posterior", "pooled-observed",
                                             "pooled-posterior"}
    assert doc["by_threshold_rule"]["pooled-posterior"]["accepted"] == doc["accepted"]
    assert Path(doc["calibration_file"]).parent == tmp_path / "calibrations"
    cal = json.loads(Path(doc["calibration_file"]).read_text())
    assert cal["model"] == "synthetic" and cal["features"] == list(FEATURES)
    assert cal["threshold_rule"] == "pooled-posterior"
    assert cal["fitted_on"]["cases"] == cal["fitted_on"]["file_cases"] == 6 and len(cal["fitted_on"]["sha256"]) == 64
    assert (tmp_path / "rulings.json").is_file()


def test_another_labs_file_without_splits_gets_a_fixed_split_by_proposal(tmp_path):
    items = [{"id": f"p{p}-{k}", "proposal": f"Proposal number {p} says we should do thing {p}.",
              "critique": f"Objection {k}", "anchor": "we should", "label": ("sustained", "overruled")[k % 2],
              "source": "their lab"} for p in range(12) for k in range(2)]
    path = tmp_path / "theirs.yaml"
    path.write_text(yaml.safe_dump(items))
    cases = load_cases(path)
    by_proposal = {}
    for c in cases:
        by_proposal.setdefault(c.proposal, set()).add(c.split)
        assert c.split == seeded_split(c.proposal)
    assert all(len(s) == 1 for s in by_proposal.values())
    assert {c.split for c in cases} == {"calibration", "test"}
    assert load_cases(path) == cases  # fixed: the same split every time


@pytest.mark.parametrize("text,field", [
    ("- {id: a, proposal: p, critique: c, anchor: w, label: maybe}", "label"),
    ("- {id: a, proposal: p, anchor: w, label: sustained}", "critique"),
    ("- {id: a, proposal: p, critique: c, anchor: w, label: sustained, split: train}", "split"),
    ("{not yaml", "YAML"),
])
def test_a_bad_rulings_file_is_refused_in_one_line(tmp_path, text, field):
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    with pytest.raises(InputError) as err:
        load_cases(bad)
    assert field in str(err.value) + str(getattr(err.value, "field", ""))
    out = gauntlet("eval", "rulings", str(bad), "--json")
    assert out.returncode == 2 and out.stdout == "" and len(out.stderr.strip().splitlines()) == 1


def test_an_unknown_threshold_rule_is_refused_in_one_line():
    out = gauntlet("eval", "rulings", "--threshold-rule", "laplace", "--json")
    assert out.returncode == 2 and out.stdout == "" and "--threshold-rule" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def _items(prefix: str, proposals: int, split: str | None) -> list[dict]:
    return [{"id": f"{prefix}{p}-{k}", "proposal": f"Proposal {prefix}{p} says we should do thing {p}.",
             "critique": f"Objection {prefix}{p}.{k} to it.", "anchor": "we should",
             "label": ("sustained", "overruled")[k % 2], "source": "a lab, 2024",
             **({"split": split} if split else {})} for p in range(proposals) for k in range(2)]


def test_training_files_join_the_calibration_split_and_never_the_test_split(synthetic_url, tmp_path):
    main, train = tmp_path / "main.yaml", tmp_path / "train.yaml"
    main.write_text(yaml.safe_dump(_items("c", 2, "calibration") + _items("t", 2, "test")))
    train.write_text(yaml.safe_dump(_items("x", 3, None)))
    out = gauntlet("eval", "rulings", str(main), "--train", str(train), "--model-url", synthetic_url,
                   "--model-name", "synthetic", "--json", "--out", str(tmp_path / "out"), "--save-calibration",
                   env={"GAUNTLET_CALIBRATIONS": str(tmp_path / "calibrations")})
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["cases"] == 4 and {r["split"] for r in doc["per_case"]} == {"test"}  # reported on main's test only
    fitted = json.loads(Path(doc["calibration_file"]).read_text())["fitted_on"]
    assert fitted["cases"] == 4 + 6 and [t["file"] for t in fitted["train"]] == [str(train)]
    # A training item on a proposal of the test split, or a main file with no calibration split and nothing to
    # train on, is refused before anything runs.
    leaked = tmp_path / "leaked.yaml"
    leaked.write_text(yaml.safe_dump([{**i, "id": "z" + i["id"]} for i in _items("t", 1, None)]))
    fresh = tmp_path / "fresh.yaml"
    fresh.write_text(yaml.safe_dump(_items("f", 2, "test")))
    for args, field in ((["--train", str(leaked)], "proposal"), ([], "--train")):
        target = main if args else fresh
        out = gauntlet("eval", "rulings", str(target), *args, "--model-url", synthetic_url, "--json",
                       "--out", str(tmp_path / "bad"))
        assert out.returncode == 2 and out.stdout == "" and field in out.stderr, out.stderr
        assert len(out.stderr.strip().splitlines()) == 1 and not (tmp_path / "bad").exists()


def test_a_fresh_test_file_is_measured_with_an_older_set_as_training(synthetic_url, tmp_path):
    """A file of test items only, with the calibration fitted on training files, one of which has a test split of
    its own (an older set whose test split was read): all of that file trains, and only the fresh file is tested."""
    fresh, older = tmp_path / "fresh.yaml", tmp_path / "older.yaml"
    fresh.write_text(yaml.safe_dump(_items("f", 2, "test")))
    older.write_text(yaml.safe_dump(_items("c", 2, "calibration") + _items("t", 2, "test")))
    cases = load_cases(fresh)
    assert {c.split for c in cases} == {"test"}
    assert {c.split for c in with_training(cases, [older], fresh)} == {"test", "calibration"}
    out = gauntlet("eval", "rulings", str(fresh), "--train", str(older), "--model-url", synthetic_url,
                   "--model-name", "synthetic", "--json", "--out", str(tmp_path / "out"), "--save-calibration",
                   env={"GAUNTLET_CALIBRATIONS": str(tmp_path / "calibrations")})
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["cases"] == 4 and {r["id"][0] for r in doc["per_case"]} == {"f"}
    fitted_on = json.loads(Path(doc["calibration_file"]).read_text())["fitted_on"]
    assert fitted_on["cases"] == 8 and fitted_on["file_cases"] == 0  # none of the fresh file trained


def test_the_shipped_calibration_is_applied_unchanged_to_a_fresh_file(synthetic_url, tmp_path):
    """--use-calibration fits nothing: the calibration a debate would use decides the fresh file's items, which
    are all read as test items; a model without its own calibration, or a fit asked for too, is refused."""
    env = {"GAUNTLET_CALIBRATIONS": str(tmp_path / "calibrations")}
    main, fresh = tmp_path / "main.yaml", tmp_path / "fresh.yaml"
    main.write_text(yaml.safe_dump(_items("c", 3, "calibration") + _items("t", 2, "test")))
    fresh.write_text(yaml.safe_dump(_items("f", 3, "test")))
    common = ["--model-url", synthetic_url, "--model-name", "synthetic", "--json"]
    fitted = gauntlet("eval", "rulings", str(main), *common, "--out", str(tmp_path / "fit"), "--save-calibration",
                      env=env)
    assert fitted.returncode == 0, fitted.stderr
    saved = json.loads(Path(json.loads(fitted.stdout)["calibration_file"]).read_text())
    out = gauntlet("eval", "rulings", str(fresh), *common, "--out", str(tmp_path / "fixed"), "--use-calibration",
                   env=env)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert KEYS <= set(doc) and doc["fitted"] is False and doc["calibration_applied"] == saved["id"] and doc["threshold"] == saved[
        "thresholds"]
    assert doc["cases"] == 6 and {r["id"][0] for r in doc["per_case"]} == {"f"}
    assert doc["threshold_rule"] == saved.get("threshold_rule", "per-label-observed")
    assert {"always_sustained", "always_overruled", "content_free", "shuffled_proposal"} <= set(doc["baselines"])
    assert doc["right"] + doc["wrong"] + doc["abstained"] == 6
    assert json.loads((tmp_path / "calibrations" / "synthetic.json").read_text()) == saved  # left as it was
    for args, field in ((["--save-calibration"], "--save-calibration"), (["--train", str(main)], "--train"),
                        (["--threshold-rule", "pooled-observed"], "--threshold-rule")):
        bad = gauntlet("eval", "rulings", str(fresh), *common, "--use-calibration", *args, env=env)
        assert bad.returncode == 2 and field in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    other = gauntlet("eval", "rulings", str(fresh), "--model-url", synthetic_url, "--model-name", "unfitted",
                     "--json", "--out", str(tmp_path / "none"), "--use-calibration", env=env)
    assert other.returncode == 2 and "no rulings calibration" in other.stderr, other.stderr
