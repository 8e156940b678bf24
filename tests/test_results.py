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


def test_parquet_table_carries_the_schema_and_reads_back(tmp_path):
    import pyarrow.parquet as pq

    from harness.results import PARQUET_SCHEMA_KEY, SCHEMA_VERSION

    store = RunStore(tmp_path)
    store.add(_record(ess_bulk_min=10.0, cache_hit=True, backend_info={"jit": True}))
    store.add(_record(cell_id="m__b__cpu__r1", repeat=1, status="failed", cache_hit=None, error="boom"))
    meta = pq.read_schema(tmp_path / "results.parquet").metadata
    assert int(meta[PARQUET_SCHEMA_KEY]) == SCHEMA_VERSION
    frame, _ = load_results(tmp_path / "results.parquet")
    assert list(frame["status"]) == ["ok", "failed"] and frame.loc[0, "ess_bulk_min"] == 10.0
    assert list(frame["schema_version"]) == [SCHEMA_VERSION] * 2
    (tmp_path / "cells").rename(tmp_path / "cells.bak")  # without cell files, the parquet table is read
    assert list(load_results(tmp_path)[0]["repeat"]) == [0, 1]


def test_a_table_from_an_unknown_schema_is_refused(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from harness.results import PARQUET_SCHEMA_KEY, SCHEMA_VERSION

    newer = SCHEMA_VERSION + 1
    (tmp_path / "results.csv").write_text(f"schema_version,model,backend,status\n{newer},m,b,ok\n")
    with pytest.raises(ResultsError, match=f"schema version {newer}; this harness reads versions 1 to"):
        load_results(tmp_path / "results.csv")
    table = pa.table({"model": ["m"], "backend": ["b"], "status": ["ok"]})
    pq.write_table(table.replace_schema_metadata({PARQUET_SCHEMA_KEY: str(newer).encode()}), tmp_path / "t.parquet")
    with pytest.raises(ResultsError, match=f"schema version {newer}"):
        load_results(tmp_path / "t.parquet")
    (tmp_path / "old.csv").write_text("model,backend,status\nm,b,ok\n")  # before the column existed: version 1
    assert len(load_results(tmp_path / "old.csv")[0]) == 1


def test_saved_draws_open_with_arviz(tmp_path):
    import arviz as az

    from harness.run.plan import RunPlan
    from harness.run.runner import run
    from harness.settings import SamplerSettings

    plan = RunPlan(models=["normal_mean"], backends=["fake_exact"], equivalence=False, save_draws=True,
                   settings=SamplerSettings(chains=2, warmup=10, draws=50), root_seed=4)
    out = run(plan, tmp_path / "run", progress=False)
    frame, manifest = load_results(out)
    assert manifest["settings"]["save_draws"] is True
    fit = az.from_netcdf(out / "draws" / frame.loc[0, "draws_file"])
    assert fit["posterior"]["mu"].shape == (2, 50)
    assert fit["sample_stats"]["diverging"].shape == (2, 50) and fit["sample_stats"]["n_steps"].shape == (2, 50)
    attrs = fit["posterior"].attrs
    assert attrs["model"] == "normal_mean" and attrs["backend"] == "fake_exact" and int(attrs["seed"]) == frame.loc[0, "seed"]
    assert int(attrs["chains"]) == 2 and int(attrs["draws"]) == 50
