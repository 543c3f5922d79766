"""Remote actions (DESIGN.md section 7), Qt-free.

- ``recipes``: YAML recipe format, loader with located errors, typed parameters, quoting for the
  target shell, secrets passed on stdin.
- ``hostkeys``: the workbench's own known-hosts file and SHA256 fingerprints.
- ``ssh``: one command over paramiko with trust decisions, streaming, deadline and cancel.
- ``winrm``: one command over pywinrm with an own Command/Receive loop (deadline, cancel, CLIXML).
- ``jobs``: runs on worker threads (SSH or WinRM by target), output log files and the audit log.
- ``outcome``: how a run ended.
"""
