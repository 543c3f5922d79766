"""Test-support code (fixtures for real services); not collected as tests."""
