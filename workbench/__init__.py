"""The Workbench: one desktop window for IT support technicians."""

__version__ = "0.1.0"
