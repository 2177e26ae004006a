"""The benchmark scripts run end to end on tiny sizes and print their tables (no timing checks)."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from benchmarks import (
    bench_backfill,
    bench_daily,
    bench_pages,
    bench_reads,
    bench_size,
    bench_track_record,
    read_db,
    results,
    run_all,
)
from benchmarks.common import Row, p95, table


def lines_of(output: str, benchmark: str) -> list[str]:
    """The printed table rows of one benchmark."""
    return [line for line in output.splitlines() if line.startswith(benchmark)]


def cells(line: str) -> list[str]:
    """The columns of a printed row: benchmark, measure, value, unit[, target, status]."""
    return re.split(r"\s{2,}", line.strip())


def status_of(line: str) -> str:
    """The status column of a printed row ('' when the row has no target)."""
    found = re.search(r"\b(ok|MISSED)$", line)
    return found[1] if found else ""


def value_of(rows: list[str], measure: str) -> float:
    """The value of the row whose measure starts with `measure`."""
    line = next(line for line in rows if cells(line)[1].startswith(measure))
    return float(cells(line)[2].replace(",", ""))


@pytest.mark.slow
def test_backfill_prints_time_stages_memory_and_size(capsys: pytest.CaptureFixture[str]) -> None:
    bench_backfill.main(["--tickers", "6", "--days", "120", "--memory-tickers", "8"])
    output = capsys.readouterr().out
    rows = lines_of(output, "backfill 6x120")
    assert any("end to end" in line and status_of(line) for line in rows)
    stages = {cells(line)[1] for line in rows}
    assert {"stage: load", "stage: analyse", "stage: write", "stage: outcomes"} <= stages
    assert value_of(rows, "outside the job's stages") > 0  # open, close, publish
    assert value_of(rows, "peak RSS") > 0
    memory = lines_of(output, "backfill 8x120")
    assert any("peak RSS (whole run)" in line and status_of(line) for line in memory)


@pytest.mark.slow
def test_daily_run_prints_both_kinds_of_local_data(capsys: pytest.CaptureFixture[str]) -> None:
    bench_daily.main(["--tickers", "5", "--days", "120", "--runs", "1"])
    output = capsys.readouterr().out
    for kind in ("120-day files", "window files"):
        rows = lines_of(output, f"daily run 5 tickers, {kind}")
        assert any("committed partition" in line and status_of(line) for line in rows)
        assert any("end to end" in line for line in rows)


def test_reads_print_every_read_and_the_real_time_ratio(capsys: pytest.CaptureFixture[str]) -> None:
    bench_reads.main(["--tickers", "12", "--days", "80", "--runs", "3"])
    output = capsys.readouterr().out
    rows = lines_of(output, "reads 12x80")
    assert value_of(rows, "daily_recommendations rows") == 12 * 80
    assert value_of(rows, "analysis_details rows") == 4 * 12 * 80
    measures = [cells(line)[1] for line in rows]
    for name in bench_reads.READS:
        assert any(m.startswith(f"{name}: p95") for m in measures), name
    ratio = lines_of(output, "DB vs real time 12x80")
    assert any("on request / precomputed" in line and status_of(line) for line in ratio)
    assert lines_of(output, "publish 12x80")


@pytest.mark.slow
def test_size_grows_with_the_years_of_history(capsys: pytest.CaptureFixture[str]) -> None:
    bench_size.main(["--tickers", "5", "--years", "1", "2"])  # 5: the fewest ranked for a call
    output = capsys.readouterr().out
    rows = lines_of(output, "db size 5 tickers")
    assert value_of(rows, "1 year(s): size / size at 1 year(s)") == 1.0
    assert value_of(rows, "2 year(s): size / size at 1 year(s)") > 1.0
    assert value_of(rows, "2 year(s): per ticker-year") > 0
    retention = lines_of(output, "retention 5 tickers")
    assert any("fresh build" in line and status_of(line) for line in retention)


def test_report_names_the_machine_and_every_missed_target() -> None:
    rows = [
        Row("reads", "fast read", 3.0, "ms", "< 25 ms", True),
        Row("reads", "slow read", 30.0, "ms", "< 25 ms", False),
        Row("size", "per ticker-year", 180.0, "KB"),
    ]
    text = run_all.report({"cores": "2", "cpu": "test cpu"}, rows, 61.0)
    assert "cores: 2" in text and "cpu: test cpu" in text
    assert "Missed targets: reads: slow read" in text
    assert "Total time: 1.0 min" in text
    assert [status_of(line) for line in table(rows).splitlines()[2:]] == ["ok", "MISSED", ""]


def test_p95_is_the_nearest_rank() -> None:
    assert p95(range(1, 101)) == 95
    assert p95([5.0]) == 5.0


@pytest.mark.slow
def test_make_bench_runs_every_benchmark_on_tiny_sizes(tmp_path) -> None:
    plan = dataclasses.replace(
        run_all.QUICK,
        tickers=5,
        many_tickers=8,
        days=100,
        read_runs=2,
        size_tickers=2,
        size_years=(1,),
        reader_threads=2,
        reader_seconds=3.0,
        page_visits=0,  # chromium: test_page_timings_cover_every_page_cold_and_warm
    )
    rows = run_all.run(plan, tmp_path)
    benchmarks = {row.benchmark.split(" ")[0] for row in rows}
    assert benchmarks == {
        "indicators",
        "backfill",
        "daily",
        "reads",
        "DB",
        "publish",
        "db",
        "retention",
        "track",
        "dashboard",
        "export",
    }
    retention = next(r for r in rows if r.benchmark.startswith("retention"))
    assert retention.value > 0
    assert any(r.met is not None for r in rows if r.benchmark == "indicators 8x100")
    assert next(r.value for r in rows if "publish time" in r.measure) > 0


@pytest.mark.slow
def test_track_record_prints_both_times_and_agrees_with_alphalens(
    capsys: pytest.CaptureFixture[str],
) -> None:
    bench_track_record.main(["--tickers", "30", "--days", "200", "--runs", "1"])
    rows = lines_of(capsys.readouterr().out, "track record 30x200")
    assert status_of(next(r for r in rows if "whole track record" in r)) in ("ok", "MISSED")
    assert value_of(rows, "alphalens-reloaded") > 0
    assert status_of(next(r for r in rows if "alphalens time / product time, the same" in r))
    assert value_of(rows, "alphalens time / whole track record time") > 0
    assert value_of(rows, "quintile returns: largest difference") < 1000  # in 1e-12: < 1e-9
    assert value_of(rows, "daily IC: largest difference") < 1000


@pytest.mark.browser
def test_page_timings_cover_every_page_cold_and_warm(tmp_path) -> None:
    *rows, start = bench_pages.run(1, tmp_path)
    assert [r.measure.split(" ")[0] for r in rows] == [p for p in bench_pages.PAGES for _ in "cwsf"]
    assert start.measure == bench_pages.START_MEASURE and 0 < start.value < 60
    assert [r.target for r in rows[:4]] == ["< 3 s", "< 1.5 s", "", ""]
    assert all(0 < r.value < 60 for r in rows)
    assert [r.met is not None for r in rows[:4]] == [True, True, False, False]
    assert rows[2].value <= rows[1].value  # the script finishes before the page has settled


def test_the_readme_performance_figures_are_those_of_the_saved_runs() -> None:
    readme = results.README.read_text()
    assert results.with_block(readme, results.block(results.load())) == readme, (
        "the README's Performance figures are out of date: run `make bench-docs`"
    )


def test_the_performance_block_shows_every_run_the_spread_and_the_targets_met(tmp_path) -> None:
    machine = {"cores": "2", "cpu": "x", "memory": "1 GB", "libraries": "polars"}
    for n, (value, met) in enumerate([(10.0, True), (12.0, False)]):
        rows = [Row("backfill", "end to end", value, "s", "< 11 s", met), Row("b", "m", 1.0, "x")]
        (tmp_path / f"2026120{n}T000000Z.json").write_text(
            json.dumps(
                {
                    "finished": f"2026-12-0{n}",
                    "minutes": 7.0,
                    "machine": machine,
                    "rows": [dataclasses.asdict(r) for r in rows],
                }
            )
        )
    text = results.block(results.load(tmp_path))
    assert "| backfill | end to end | s | 10.0 | 12.0 | 20 % | < 11 s | **1 of 2** |" in text
    assert "| b | m | x | 1.00 | 1.00 | 0 % |  |  |" in text


def test_the_block_names_each_runs_processor_when_the_runs_come_from_several(tmp_path) -> None:
    def save(n: int, cpu: str) -> None:
        machine = {"cores": "2", "cpu": cpu, "memory": "25 GB", "libraries": "polars"}
        run = {"finished": f"2026-12-0{n}", "minutes": 1.0, "machine": machine}
        run["rows"] = [dataclasses.asdict(Row("b", "m", float(n), "s"))]
        (tmp_path / f"2026120{n}T000000Z.json").write_text(json.dumps(run))

    save(1, "Xeon")
    save(2, "Xeon")
    text = results.block(results.load(tmp_path))
    assert "machine: 2 cores, Xeon, 25 GB" in text and "?, Xeon)" not in text
    save(3, "EPYC")
    text = results.block(results.load(tmp_path))
    assert "2026-12-01 (1.0 min, load average ?, Xeon)" in text
    assert "2026-12-03 (1.0 min, load average ?, EPYC)" in text
    assert "machine: 2 cores, Xeon or EPYC, 25 GB" in text


def test_only_runs_the_groups_asked_for_and_names_them_in_the_saved_run(
    tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_all.main(["--quick", "--only", "indicators", "--save", str(tmp_path)])
    out = capsys.readouterr().out
    assert lines_of(out, "indicators ")
    assert not lines_of(out, "backfill ") and not lines_of(out, "reads ")
    (saved,) = tmp_path.glob("*.json")
    run = json.loads(saved.read_text())
    assert run["only"] == ["indicators"] and run["complete"] is False
    assert {row["benchmark"].split(" ")[0] for row in run["rows"]} == {"indicators"}
    assert ", only indicators" in results.block(results.load(tmp_path))


def test_only_refuses_an_unknown_group(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        run_all.main(["--quick", "--only", "reeds"])
    assert stopped.value.code == 2
    assert "unknown groups ['reeds']" in capsys.readouterr().err


def test_each_figure_shows_its_last_three_measurements_across_whole_and_partial_runs(
    tmp_path,
) -> None:
    machine = {"cores": "2", "cpu": "x", "memory": "1 GB", "libraries": "polars"}
    plan = [  # (groups asked for, the rows it measured)
        ((), [("reads", 1.0), ("track", 50.0)]),
        ((), [("reads", 2.0), ("track", 40.0)]),
        (("reads",), [("reads", 3.0)]),
        (("reads",), [("reads", 4.0)]),
        ((), [("reads", 5.0), ("track", 30.0)]),
        (("export",), [("export", 9.0)]),
    ]
    for n, (only, measured) in enumerate(plan):
        rows = [Row(name, "m", value, "s", "< 10 s", value < 10) for name, value in measured]
        (tmp_path / f"2026120{n}T000000Z.json").write_text(
            json.dumps(
                {
                    "finished": f"2026-12-0{n}",
                    "minutes": 1.0,
                    "only": list(only),
                    "machine": machine,
                    "rows": [dataclasses.asdict(r) for r in rows],
                }
            )
        )
    text = results.block(results.load(tmp_path))
    assert "| reads | m | s | 3.00 | 4.00 | 5.00 | 67 % | < 10 s | 3 of 3 |" in text
    assert "| track | m | s | 50.0 | 40.0 | 30.0 | 67 % | < 10 s | **0 of 3** |" in text
    assert "| export | m | s | – | – | 9.00 |  | < 10 s | 1 of 1 |" in text
    assert text.index("| reads |") < text.index("| track |") < text.index("| export |")
    assert "2026-12-00" in text and "2026-12-05 (1.0 min, only export" in text


def test_a_retired_measure_is_left_out_of_the_block(tmp_path) -> None:
    machine = {"cores": "2", "cpu": "x", "memory": "1 GB", "libraries": "polars"}
    (retired,) = results.RETIRED
    rows = [Row("track", retired, 3.0, "x", ">= 5x", False), Row("track", "kept", 6.0, "x")]
    (tmp_path / "20261201T000000Z.json").write_text(
        json.dumps(
            {
                "finished": "2026-12-01",
                "minutes": 1.0,
                "machine": machine,
                "rows": [dataclasses.asdict(r) for r in rows],
            }
        )
    )
    text = results.block(results.load(tmp_path))
    assert "| track | kept |" in text and f"| track | {retired} |" not in text


def test_reads_reuse_a_built_database_and_publish_it(tmp_path) -> None:
    for folder in ("built", "run", "wrong"):
        (tmp_path / folder).mkdir()
    built = read_db.build(tmp_path / "built" / "reads.duckdb", 6, 60)
    rows = bench_reads.run(6, 60, 2, tmp_path / "run", built)
    assert rows[0].measure == "copy of a build"
    assert next(r.value for r in rows if r.measure == "daily_recommendations rows") == 360
    assert next(r.value for r in rows if r.measure == "publish: copy + fsync + rename") > 0
    with pytest.raises(ValueError, match="does not hold 7x60 calls"):
        bench_reads.run(7, 60, 2, tmp_path / "wrong", built)
