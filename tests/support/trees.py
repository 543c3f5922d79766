"""A small tree whose one check runs the shipped linux.diagnostics recipe on the ticket's asset."""

HEALTH_TREE_ID = "linux-health"
HEALTH_TREE = """\
id: linux-health
title: Linux machine health
version: 1
category: software
start: diagnose
nodes:
  diagnose:
    type: check
    text: Overview of {{ticket.asset.hostname}}
    recipe: linux.diagnostics
    branches:
      - label: The diagnostics ran
        when: {exit_code: 0, stdout_matches: '(?m)^== failed services$'}
        next: healthy
      - {label: "The diagnostics did not run", otherwise: true, next: visit}
  healthy:
    type: resolve
    resolution: "{{ticket.asset.hostname}} is healthy."
  visit:
    type: escalate
    tier: 2
    reason: "{{ticket.asset.hostname}} needs a visit."
"""
