"""Qt-free, I/O-free domain: entities, priority matrix, SLA clock, lifecycle rules."""
