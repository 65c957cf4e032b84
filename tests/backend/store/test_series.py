"""store/series.py: chunks packed exactly, grouped and ordered by step, downsampled by buckets."""

from __future__ import annotations

import math

from mltrail_server.store import series

INT64 = (-(2**63), 2**63 - 1)


def assemble(*groups: series.KeyGroup) -> series.Series:
    rows = []
    for g in groups:
        row = series.chunk_row(1, g)
        # (steps, timestamps, vals, min_step, max_step, nan_count), as the readers select them
        rows.append((row[6], row[7], row[8], row[2], row[3], row[5]))
    return series.assemble(rows)


def test_chunks_round_trip_bit_for_bit():
    values = [1.5, math.nan, math.inf, -math.inf, -0.0, 5e-324, 1.7976931348623157e308]
    group = series.KeyGroup(7, [INT64[0], -1, 0, 1, 2, 3, INT64[1]], [INT64[1]] * 7, values)
    row = series.chunk_row(3, group)
    assert row[:6] == (3, 7, INT64[0], INT64[1], 7, 1)
    back = assemble(group)
    assert list(back.steps) == list(group.steps) and list(back.timestamps) == [INT64[1]] * 7
    assert math.isnan(back.values[1]) and back.has_nan
    assert [v for i, v in enumerate(back.values) if i != 1] == [v for i, v in enumerate(values) if i != 1]
    assert math.copysign(1, back.values[4]) == -1  # -0.0 stays negative zero


def test_group_by_key_splits_interleaved_keys_and_sorts_each_by_step_stably():
    key_ids = [2, 1, 2, 1, 2, 1]
    steps = [5, 9, 3, 9, 3, 1]
    groups = series.group_by_key(key_ids, steps, list(range(6)), [10.0, 11.0, 12.0, 13.0, 14.0, 15.0])
    assert [g.key_id for g in groups] == [1, 2]
    one, two = groups
    assert list(one.steps) == [1, 9, 9] and list(one.values) == [15.0, 11.0, 13.0]  # ties as logged
    assert list(two.steps) == [3, 3, 5] and list(two.values) == [12.0, 14.0, 10.0]
    assert list(two.timestamps) == [2, 4, 0]


def test_summary_ignores_nan_for_extremes_and_takes_the_last_logged_latest_point():
    group = series.group_by_key([1] * 4, [1, 2, 2, 0], [5, 6, 6, 7], [3.0, math.nan, 4.0, -1.0])[0]
    key_id, value, step, stamp, low, high, count = series.summary_row(group)
    assert (key_id, value, step, stamp, low, high, count) == (1, 4.0, 2, 6, -1.0, 4.0, 4)
    only_nan = series.group_by_key([1], [0], [0], [math.nan])[0]
    assert series.summary_row(only_nan)[1:] == (None, 0, 0, None, None, 1)


def test_overlapping_chunks_merge_by_step_keeping_logged_order_for_ties():
    first = series.KeyGroup(1, [0, 1, 2, 3], [0] * 4, [0.0, 1.0, 2.0, 3.0])
    resumed = series.KeyGroup(1, [2, 3, 4], [1] * 3, [20.0, 30.0, 40.0])
    merged = assemble(first, resumed)
    assert list(merged.steps) == [0, 1, 2, 2, 3, 3, 4]
    assert list(merged.values) == [0.0, 1.0, 2.0, 20.0, 3.0, 30.0, 40.0]
    assert series.step_range(merged, 2, 3) == (2, 6)
    assert series.step_range(merged, 5, None) == (7, 7)


def test_downsample_keeps_edges_extremes_and_shows_all_nan_buckets():
    n = 1000
    values = [math.sin(i / 20) for i in range(n)]
    values[500] = 9.0
    values[100:200] = [math.nan] * 100  # a gap: the whole bucket is NaN
    data = assemble(series.KeyGroup(1, list(range(n)), list(range(n)), values))
    picked = series.downsample(data, 0, n, 22)  # 10 buckets of 100 steps
    assert picked[0] == 0 and picked[-1] == n - 1 and len(picked) <= 22
    assert 500 in picked
    gap = [i for i in picked if 100 <= i < 200]
    assert gap == [100]  # one NaN point marks the gap
    for b in range(10):
        segment = [v for v in values[b * 100 : (b + 1) * 100] if v == v]
        if segment:
            chosen = [values[i] for i in picked if b * 100 <= i < (b + 1) * 100]
            assert min(segment) in chosen and max(segment) in chosen


def _reference_groups(key_ids, steps, stamps, values):
    """The definition: per key (ascending), its points in logged order, stable-sorted by step."""
    out = []
    for kid in sorted(set(key_ids)):
        points = [(s, t, v) for k, s, t, v in zip(key_ids, steps, stamps, values, strict=True) if k == kid]
        points.sort(key=lambda p: p[0])
        out.append((kid, [p[0] for p in points], [p[1] for p in points], [p[2] for p in points]))
    return out


def test_every_batch_shape_groups_like_the_definition():
    import random

    rng = random.Random(5)
    shapes = {
        "interleaved": [k for _ in range(50) for k in (3, 1, 2)],
        "blocks": [2] * 40 + [1] * 70 + [5] * 30,
        "irregular": [rng.choice([1, 2, 3]) for _ in range(150)],
        "almost interleaved": [*[k for _ in range(50) for k in (3, 1, 2)][:-1], 1],
        "repeated key in period": [1, 1, 2] * 50,
        "one key": [4] * 10,
    }
    for name, key_ids in shapes.items():
        n = len(key_ids)
        for steps in (list(range(n)), [rng.randrange(20) for _ in range(n)]):
            stamps = list(range(n))
            values = [rng.random() for _ in range(n)]
            got = [
                (g.key_id, list(g.steps), list(g.timestamps), list(g.values))
                for g in series.group_by_key(key_ids, steps, stamps, values)
            ]
            assert got == _reference_groups(key_ids, steps, stamps, values), name
            for g in series.group_by_key(key_ids, steps, stamps, values):
                row = series.summary_row(g)
                last = max(range(len(g.steps)), key=lambda i: (g.steps[i], g.timestamps[i], i))
                assert row[1:4] == (g.values[last], g.steps[last], g.timestamps[last]), name
