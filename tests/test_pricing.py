"""Prices come from the shipped snapshot, purchase factors are applied as stated, months are 730 hours."""

import csv
from importlib import resources
from pathlib import Path

import pytest

from llama_infra import pricing, targets
from llama_infra.spec import load_spec, parse_spec

ROOT = Path(__file__).resolve().parents[1]


def _csv(name):
    text = resources.files("llama_infra.data.prices").joinpath(name).read_text()
    return list(csv.DictReader(text.splitlines()))


EC2 = {r["InstanceType"]: r for r in _csv("aws_gpu_prices_snapshot.csv")}
SAGEMAKER = {r["SageMakerInstanceType"]: float(r["SageMakerPrice"]) for r in _csv("sagemaker_ml_prices_snapshot.csv")}


def test_ec2_on_demand_is_the_snapshot_value():
    assert pricing.on_demand("p4d.24xlarge", "eks").usd_per_hour == pytest.approx(21.96, abs=0.01)  # post-2025 cut
    for itype, row in EC2.items():
        if row["AcceleratorName"] == "Inferentia2":
            continue
        price = pricing.on_demand(itype, "eks")
        assert price.usd_per_hour == float(row["Price"]) and not price.estimated


def test_sagemaker_listed_types_use_the_sagemaker_snapshot():
    price = pricing.on_demand("ml.g5.2xlarge", "sagemaker")
    assert price.usd_per_hour == SAGEMAKER["ml.g5.2xlarge"] == 1.515
    assert price.basis == "SageMaker real-time hosting" and not price.estimated


@pytest.mark.parametrize(("itype", "premium"), [("ml.g6e.12xlarge", 0.25), ("ml.g6e.xlarge", 0.40)])
def test_sagemaker_g6e_is_estimated_from_ec2_and_says_so(itype, premium):
    assert itype not in SAGEMAKER  # the reason it is estimated
    price = pricing.on_demand(itype, "sagemaker")
    assert price.estimated
    assert price.usd_per_hour == pytest.approx(float(EC2[itype.removeprefix("ml.")]["Price"]) * (1 + premium), abs=1e-4)
    assert "premium" in price.basis


def test_spot_is_the_snapshot_median_and_cheaper_than_on_demand():
    spot = pricing.hourly("g5.2xlarge", "eks", "spot")
    assert spot.usd_per_hour == float(EC2["g5.2xlarge"]["SpotPriceMedian"]) == 0.5088
    assert spot.usd_per_hour < pricing.hourly("g5.2xlarge", "eks", "on-demand").usd_per_hour
    assert not spot.estimated


def test_a_type_without_spot_price_falls_back_to_on_demand_flagged_estimated():
    assert EC2["p5.4xlarge"]["SpotPriceMedian"] in ("", "nan")
    spot = pricing.hourly("p5.4xlarge", "eks", "spot")
    assert spot.estimated and spot.usd_per_hour == float(EC2["p5.4xlarge"]["Price"])


def test_sagemaker_has_no_spot_price():
    with pytest.raises(ValueError, match="no spot"):
        pricing.hourly("ml.g5.2xlarge", "sagemaker", "spot")


@pytest.mark.parametrize("target,itype", [("eks", "g6e.12xlarge"), ("sagemaker", "ml.g5.12xlarge")])
def test_reserved_is_the_stated_factor_of_on_demand(target, itype):
    od = pricing.hourly(itype, target, "on-demand").usd_per_hour
    assert pricing.hourly(itype, target, "reserved").usd_per_hour == pytest.approx(od * 0.70, abs=1e-4)
    assert pricing.hourly(itype, target, "capacity-block").usd_per_hour == od


FIXED = """\
name: fixed-fleet
target: sagemaker
model: {id: meta-llama/Llama-3.1-8B-Instruct, params_b: 8, weights: {source: s3://llama-weights/llama-8b/}}
capacity:
  baseline: {instance_type: ml.g5.2xlarge, count: 3, purchase: reserved}
"""


def test_a_month_is_730_hours_of_the_baseline():
    report = targets.cost_report(parse_spec(FIXED))
    hourly = 3 * pricing.hourly("ml.g5.2xlarge", "sagemaker", "reserved").usd_per_hour
    assert report.baseline_usd_per_hour == pytest.approx(hourly, abs=1e-4)
    assert report.cost_per_month_usd == pytest.approx(hourly * 730, abs=0.01)
    assert report.burst_per_month_usd == pytest.approx(0, abs=0.01)
    assert "730 hours per month" in report.assumptions


def test_downsizing_at_night_saves_money_when_the_night_config_is_cheaper():
    # staging: an on-demand baseline (prod's is a Savings Plan, billed whatever runs at night)
    spec = load_spec(ROOT / "stacks/specs/staging.yaml")
    night = spec.schedules[0].downsize
    assert (
        pricing.on_demand(night.instance_type, "sagemaker").usd_per_hour
        < pricing.on_demand(spec.capacity.baseline.instance_type, "sagemaker").usd_per_hour
    )
    report = targets.cost_report(spec)
    assert report.schedule_saving_per_month_usd > 0
    assert report.schedule_saving_per_month_usd == pytest.approx(
        report.day_only_cost_per_month_usd - report.cost_per_month_usd
    )
    assert targets.cost_report(spec, with_schedules=False).schedule_saving_per_month_usd == 0
    night_hours = [h for h in report.week if h.window == "overnight"]
    assert night_hours and all(h.instance_type == night.instance_type for h in night_hours)


def test_cost_per_1k_requests_follows_the_stated_load():
    spec = load_spec(ROOT / "stacks/specs/prod.yaml")
    report = targets.cost_report(spec)
    shape = pricing.default_daily_shape()
    expected_requests = sum(shape) * 7 * spec.load.peak_requests_per_second * 3600 * 730 / 168
    assert report.requests_per_month == pytest.approx(expected_requests, rel=1e-6)
    assert report.cost_per_1k_requests_usd == pytest.approx(
        report.cost_per_month_usd / expected_requests * 1000, rel=1e-3
    )


def test_default_daily_shape_is_24_fractions_of_the_peak():
    shape = pricing.default_daily_shape()
    assert len(shape) == 24 and max(shape) == 1.0 and min(shape) > 0


WINDOW_LOWERS_MIN = (
    FIXED.replace("count: 3, purchase: reserved}", "count: 2, purchase: reserved}\n  burst: {max: 2}")
    + """\
schedules:
  - name: overnight
    timezone: UTC
    start: "0 22 * * *"
    end: "0 6 * * *"
    downsize: {min_replicas: 1, max_replicas: 2}
load:
  peak_requests_per_second: 4
  requests_per_second_per_replica: 2
  daily_shape: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
"""
)


def test_a_window_that_only_lowers_min_keeps_reserved_replicas_at_the_reserved_price():
    """Load needs 2 replicas all day and night: the night window (min 1) must not reprice one as on-demand."""
    report = targets.cost_report(parse_spec(WINDOW_LOWERS_MIN))
    night = [h for h in report.week if h.window == "overnight"]
    assert len(night) == 7 * 8 and all(h.replicas == 2 for h in report.week)
    assert all((h.baseline_replicas, h.burst_replicas) == (2, 0) for h in night)
    assert report.schedule_saving_per_month_usd == pytest.approx(0, abs=0.01)


def test_a_spec_outside_the_snapshots_region_is_told_its_costs_are_us_east_1_prices():
    from llama_infra.spec.rules import warnings

    spec = load_spec(ROOT / "stacks/specs/prod.yaml")
    assert pricing.PRICE_REGION in pricing.SNAPSHOT
    assert not [w for w in warnings(spec) if w.path == ("region",)]  # the example is in us-east-1
    dumped = spec.model_dump()
    dumped["sagemaker"]["alarm_topic_arn"] = "arn:aws:sns:eu-west-1:111122223333:llama-alarms"
    moved = type(spec).model_validate(dumped | {"region": "eu-west-1"})
    (w,) = [w for w in warnings(moved) if w.path == ("region",)]
    assert "costs are us-east-1 list prices" in w.problem and "eu-west-1" in w.problem
