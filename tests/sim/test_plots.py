"""The simulate plots as figures a person can read: one replica scale across policies, the spec's scheduled windows
shaded on the time axis, a legend on every panel, cost labels that do not collide (inspected as matplotlib Figures,
not pixels)."""

from datetime import UTC, datetime

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.patches import Rectangle

from llama_infra.sim.report import cost_figure, night_spans_hours, replicas_figure, simulate, write_plots
from llama_infra.sim.workload import constant_rate
from llama_infra.spec import load_spec

PROD = "stacks/specs/prod.yaml"  # overnight 22:00–07:00 America/New_York = 02:00–11:00 UTC in May (EDT)


@pytest.fixture(scope="module")
def run():
    spec = load_spec(PROD)
    # 01:00–03:00 UTC: the first hour by day, the second under the overnight schedule
    w = constant_rate(3.0, 7200, 512, 64, start=datetime(2024, 5, 10, 1, tzinfo=UTC))
    return spec, w, simulate(spec, w, ("static-peak", "spec", "oracle"), seed=0, dt_s=5.0)


def test_night_spans_come_from_the_schedules_in_hours_from_the_start(run):
    spec, w, _ = run
    assert night_spans_hours(spec, w) == [("overnight", 1.0, 2.0)]
    before_night = constant_rate(3.0, 3600, 512, 64, start=datetime(2024, 5, 10, 0, tzinfo=UTC))
    assert night_spans_hours(spec, before_night) == []


def test_replica_panels_share_one_scale_shade_nights_and_each_have_a_legend(run):
    spec, w, results = run
    fig = replicas_figure(spec, w, results)
    panels = fig.axes[: len(results)]  # the load axes; the twins (replicas) follow
    twins = fig.axes[len(results) :]
    assert len(twins) == len(results)
    assert len({t.get_ylim() for t in twins}) == 1, "every policy on the same replica scale"
    most = max(max(r.series["replicas"]) for r in results)
    assert twins[0].get_ylim()[1] >= most
    assert len({max(r.series["replicas"]) for r in results}) > 1  # the runs differ, so the shared scale matters
    for ax, twin in zip(panels, twins, strict=True):
        spans = [p for p in ax.patches if isinstance(p, Rectangle) and "overnight" in str(p.get_label())]
        assert len(spans) == 1
        x0, x1 = spans[0].get_x(), spans[0].get_x() + spans[0].get_width()
        assert (x0, x1) == pytest.approx((1.0, 2.0))
        legend = twin.get_legend()
        assert legend is not None
        texts = [t.get_text() for t in legend.get_texts()]
        assert {"load (req/s)", "replicas", "ready", "schedule 'overnight' in force"} <= set(texts)


def test_cost_labels_sit_beside_horizontal_bars_with_readable_names(run):
    spec, _, results = run
    fig = cost_figure(spec, results)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [r.policy for r in results]
    labels = [t.get_text() for t in ax.texts]
    assert labels == [f"${r.total_cost_usd:,.2f} · {r.slo_attainment:.1%} SLO" for r in results]
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    boxes = [t.get_window_extent(renderer) for t in ax.texts]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    assert ax.get_legend() is not None


def test_write_plots_writes_three_pngs(run, tmp_path):
    spec, w, results = run
    paths = write_plots(spec, w, results, tmp_path)
    assert [p.name for p in paths] == ["replicas_over_time.png", "ttft_cdf.png", "cost_breakdown.png"]
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in paths)
