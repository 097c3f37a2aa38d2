"""Excel exports for mma_core."""

from mma_export_xlsx.exporter import XlsxExporter

__all__ = ["XlsxExporter"]
