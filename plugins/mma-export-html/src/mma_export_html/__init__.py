"""The ``html`` exporter of mma_core: one self-contained report file."""
