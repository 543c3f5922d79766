"""Guided troubleshooting trees (DESIGN.md section 6), without Qt.

`model` holds the parsed tree, `loader` reads and validates YAML with line/column positions,
`recipes` is the catalog of remote recipes the validator checks against, `runner` is the
state machine a technician walks, and `service` stores trees and runs and applies outcomes.
"""
