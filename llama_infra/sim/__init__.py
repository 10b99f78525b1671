"""Trace-driven simulator: what a spec costs and whether it meets its SLOs, against peer policies and the oracle.

Modules: `workload` (traces), `replica_model` (one table of serving rates with sources), `engine` (time-stepped
discrete-event model of pools, replicas, spot and schedules), `policies` (the control planes), `report`
(tables, JSON, plots), `tune` (search of the spec's knobs). Imports the spec and pure modules only.
"""
