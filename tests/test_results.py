import json

import pytest

from harness.results import ResultsError, RunStore, load_results


def _record(**kw):
    base = {"cell_id": "m__b__cpu__r0", "model": "m", "backend": "b", "repeat": 0, "status": "ok"}
    return {**base, **kw}


def test_store_round_trip(tmp_path):
    store = RunStore(tmp_path)
    store.write_manifest({"settings": {"chains": 2}})
    store.add(_record(ess_bulk_min=10.0, backend_info={"jit": True}))
    frame, manifest = load_results(tmp_path)
    assert manifest["settings"]["chains"] == 2
    assert frame.loc[0, "ess_bulk_min"] == 10.0
    assert json.loads(frame.loc[0, "backend_info"]) == {"jit": True}
    frame_csv, _ = load_results(tmp_path / "results.csv")
    assert list(frame_csv["backend"]) == ["b"]


@pytest.mark.parametrize(
    "setup, message",
    [
        (lambda p: None, "does not exist"),
        (lambda p: p.mkdir(), "holds no harness results"),
        (lambda p: (p.mkdir(), (p / "results.csv").write_text("a,b\n1,2\n")), "missing columns"),
        (lambda p: (p.mkdir(), (p / "manifest.json").write_text("{not json")), "not valid JSON"),
        (lambda p: (p.mkdir(), (p / "cells").mkdir(), (p / "cells" / "x.json").write_text("[1,")), "not valid JSON"),
        (lambda p: (p.mkdir(), (p / "results.csv").write_text("model,backend,status\nm,b,exploded\n")),
         "unknown status"),
    ],
)
def test_malformed_results_give_clear_errors(tmp_path, setup, message):
    target = tmp_path / "run"
    setup(target)
    with pytest.raises(ResultsError, match=message):
        load_results(target)
