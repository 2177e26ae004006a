"""The dashboard's shared reader under load: 32 threads for 30 s while two runs publish."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import bench_concurrent_reads as load_bench

pytestmark = pytest.mark.slow  # 30 s of load, two real publishing processes


def test_32_threads_read_without_error_and_never_stale_after_a_publish(tmp_path: Path) -> None:
    path = load_bench.build(tmp_path)
    load = load_bench.measure(path, threads=32, seconds=30)
    assert load.errors == []
    assert [day for _, day in load.published] == list(load_bench.PUBLISHED_DAYS)
    assert load.stale_reads() == 0
    assert max(d for d in load.dates if d) == load_bench.PUBLISHED_DAYS[-1]
    assert len(load.latencies) > 100  # the readers did read throughout
