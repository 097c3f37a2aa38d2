"""iCalendar export of mma_core's training sessions."""

from mma_export_ics.exporter import IcsExporter

__all__ = ["IcsExporter"]
