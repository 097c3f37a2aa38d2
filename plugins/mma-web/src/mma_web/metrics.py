"""Prometheus metrics of one app: commands, errors by code, request latency and view lag."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

if TYPE_CHECKING:
    from mma_core import Programme


class Metrics:
    """A registry of its own per app, so two apps in one process never share counters."""

    def __init__(self, programme: Programme) -> None:
        self.programme = programme
        self.registry = CollectorRegistry(auto_describe=True)
        self.commands = Counter(
            "mma_web_commands",
            "Commands recorded through the web, by command",
            ["command"],
            registry=self.registry,
        )
        self.errors = Counter(
            "mma_web_errors",
            "Requests refused or failed, by error code",
            ["code"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "mma_web_request_seconds",
            "Time to answer a request, by route and method",
            ["route", "method"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.position = Gauge(
            "mma_web_log_position", "The latest position of the event log", registry=self.registry
        )
        self.view_lag = Gauge(
            "mma_web_view_lag_events",
            "Events recorded that the read models do not reflect yet",
            registry=self.registry,
        )

    def render(self) -> bytes:
        health = self.programme.health()
        if health.last_position is not None:
            self.position.set(health.last_position)
        if health.view_lag is not None:
            self.view_lag.set(health.view_lag)
        return generate_latest(self.registry)
